// The household form: add member rows from the <template>, and show 减员 reason and date only on rows marked 减员.
// Loaded before session.js (deferred), which clicks "add member" to restore a draft with more rows.
(() => {
  "use strict";
  // 减员 asks for a reason and a date: show those boxes only on rows marked 减员.
  function showLeaveDetails(box) {
    const details = box.closest("td").querySelector(".member-leave-details");
    if (details) details.hidden = !box.checked;
  }
  document.querySelectorAll('#members input[name$="-remove"]').forEach(showLeaveDetails);
  document.getElementById("members").addEventListener("change", (event) => {
    if (event.target.matches('input[name$="-remove"]')) showLeaveDetails(event.target);
  });
  document.getElementById("add-member").addEventListener("click", () => {
    const total = document.getElementById("id_members-TOTAL_FORMS");
    const index = parseInt(total.value, 10);
    const html = document.getElementById("member-template").innerHTML
      .replace(/__prefix__/g, index).replace(/__number__/g, index + 1);
    document.querySelector("#members tbody").insertAdjacentHTML("beforeend", html);
    total.value = index + 1;
  });
})();
