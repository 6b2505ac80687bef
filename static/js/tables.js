// Tables on a phone. Lists shown as cards (the `table-cards` rule in ledger.css) print each cell's column name
// beside its value. A cell that names its column itself (data-label) keeps it; the others take their
// column's header text here, so a list needs only the class. Header cells that hold nothing readable
// (a select-all box, an empty actions column) give no label.
(function () {
  function headers(table) {
    var names = [];
    var row = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!row) return names;
    Array.prototype.forEach.call(row.cells, function (cell) {
      var text = cell.textContent.replace(/[▲▼]/g, "").replace(/\s+/g, " ").trim();
      for (var span = 0; span < cell.colSpan; span += 1) names.push(text);
    });
    return names;
  }
  function label(root) {
    root.querySelectorAll("table.table-cards").forEach(function (table) {
      var names = headers(table);
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          var column = 0;
          Array.prototype.forEach.call(row.cells, function (cell) {
            var name = names[column];
            if (!cell.hasAttribute("data-label") && !cell.classList.contains("card-head") && name && cell.colSpan === 1) {
              cell.setAttribute("data-label", name);
            }
            column += cell.colSpan;
          });
        });
      });
    });
  }
  // A table that scrolls sideways inside its card (a wide register on a phone) must be reachable by
  // keyboard to be scrolled (WCAG 2.1.1): it gets a tab stop while it scrolls and holds no link or field.
  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";
  function focusable(root) {
    root.querySelectorAll(".table-responsive").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1 && !box.querySelector(FOCUSABLE);
      if (scrolls) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        if (!box.hasAttribute("aria-label")) box.setAttribute("aria-label", "可左右滚动的表格");
      } else if (box.getAttribute("role") === "region") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
      }
    });
  }
  var resizing = null;
  document.addEventListener("DOMContentLoaded", function () { label(document); focusable(document); });
  document.addEventListener("htmx:afterSettle", function (event) { label(event.target); focusable(event.target); });
  window.addEventListener("load", function () { focusable(document); });
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () { focusable(document); }, 100);
  });
})();
