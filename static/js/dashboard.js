// The dashboards: draw each chart from its JSON option, follow a bar's drill-down link on click,
// toggle a chart's 数据表, and sort tables by a header click (client-side, the rows are few).
(function () {
  "use strict";
  const charts = [];

  // A paged legend ("1/3") hides series names, on paper for good and on a phone behind arrows: there
  // every entry is listed, on as many rows as they need, and the plot moves below them. A CJK
  // character is about 12 px, the symbol 35.
  const PHONE_WIDTH = 576;

  function legendInFull(option, width) {
    const legend = option.legend;
    if (!legend || legend.show === false) return 0;
    const names = (option.series || []).map(function (series) { return series.name || ""; });
    let rows = 1;
    let used = 0;
    names.forEach(function (name) {
      const entry = name.length * 12 + 35;
      if (used > 0 && used + entry > width - 16) { rows += 1; used = 0; }
      used += entry;
    });
    legend.type = "plain";
    option.grid = Object.assign({}, option.grid, { top: 16 + rows * 24 });
    return rows;
  }

  function draw(element) {
    const source = document.getElementById(element.dataset.option);
    if (!source || !window.echarts) return;
    const option = JSON.parse(source.textContent);
    if (element.closest(".print-page") || element.clientWidth < PHONE_WIDTH) {
      // Each extra legend row takes from the plot: the chart grows by as much.
      const rows = legendInFull(option, element.clientWidth);
      if (rows > 1) element.style.height = element.clientHeight + (rows - 1) * 24 + "px";
    }
    const chart = window.echarts.init(element, null, { renderer: "svg" });
    chart.setOption(option);
    chart.on("click", function (params) {
      const link = params.data && params.data.link;
      if (link) window.location.href = link;
    });
    charts.push(chart);
  }

  function toggleTable(button) {
    const card = button.closest(".chart-card");
    const table = card.querySelector(".chart-table");
    const shown = table.classList.toggle("d-none") === false;
    button.setAttribute("aria-expanded", String(shown));
    button.textContent = shown ? "隐藏数据表" : "数据表";
  }

  function sortBy(header) {
    const table = header.closest("table");
    const column = Array.from(header.parentNode.children).indexOf(header);
    const numeric = header.dataset.sort === "number";
    const ascending = header.dataset.order !== "asc";
    table.querySelectorAll("th[data-sort]").forEach(function (other) { delete other.dataset.order; });
    header.dataset.order = ascending ? "asc" : "desc";
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.sort(function (a, b) {
      const x = a.cells[column].dataset.value || "";
      const y = b.cells[column].dataset.value || "";
      const order = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, "zh-CN");
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".chart[data-option]").forEach(draw);
    document.querySelectorAll(".table-toggle").forEach(function (button) {
      button.addEventListener("click", function () { toggleTable(button); });
    });
    document.querySelectorAll("table.sortable th[data-sort]").forEach(function (header) {
      header.addEventListener("click", function () { sortBy(header); });
    });
    window.addEventListener("resize", function () { charts.forEach(function (chart) { chart.resize(); }); });
    window.addEventListener("beforeprint", function () { charts.forEach(function (chart) { chart.resize(); }); });
  });
})();
