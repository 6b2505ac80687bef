// Small behaviours the templates ask for with data- attributes, so that no page needs an inline script or
// an on*= handler (the Content-Security-Policy allows scripts from our static files only):
//   <select data-autosubmit>          submits its form when the choice changes
//   <form data-confirm="…">           asks before it is submitted
//   <button data-print>               prints the page
//   <a data-history-back href="/">    goes back a page (the href is where it goes without history)
//   <input type="checkbox" data-check-all="ids">   ticks every checkbox named "ids" in its form
(() => {
  "use strict";
  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches("select[data-autosubmit]") && target.form) target.form.submit();
    if (target.matches("input[data-check-all]")) {
      const scope = target.form || document;
      scope.querySelectorAll(`input[type=checkbox][name="${target.dataset.checkAll}"]`).forEach((box) => {
        box.checked = target.checked;
      });
    }
  });
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.matches("form[data-confirm]") && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-print]")) window.print();
    const back = event.target.closest("a[data-history-back]");
    if (back && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
})();
