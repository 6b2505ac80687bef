// The quarterly income form: offer only quarters that have begun, and show live totals while typing.
(() => {
  "use strict";
  // Quarters of this year that have not begun are not offered (the server refuses them too).
  const year = document.getElementById("id_year");
  const quarter = document.getElementById("id_quarter");
  if (!year || !quarter) return;
  const limit = () => {
    const current = year.value === quarter.dataset.currentYear;
    for (const option of quarter.options) {
      option.disabled = current && parseInt(option.value, 10) > parseInt(quarter.dataset.currentQuarter, 10);
    }
    if (quarter.selectedOptions[0] && quarter.selectedOptions[0].disabled) quarter.value = quarter.dataset.currentQuarter;
  };
  year.addEventListener("change", limit);
  limit();
})();
(() => {
  "use strict";
  // Live totals while typing; cents as integers so 0.1 + 0.2 shows 0.30, as the server computes.
  const cents = (input) => { const v = parseFloat(input.value); return Number.isFinite(v) ? Math.round(v * 100) : 0; };
  const show = (c) => (c / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const size = parseInt(document.getElementById("household-size").dataset.size, 10);
  const update = () => {
    const sums = {};
    let negative = false;
    document.querySelectorAll("[data-group]").forEach((input) => {
      const value = cents(input);
      if (value < 0) negative = true;
      sums[input.dataset.group] = (sums[input.dataset.group] || 0) + value;
    });
    for (const [group, total] of Object.entries(sums)) {
      const cell = document.querySelector(`[data-subtotal="${group}"]`);
      if (cell) cell.textContent = show(total);
    }
    const gross = ["wages", "operating", "property", "transfers"].reduce((a, g) => a + (sums[g] || 0), 0);
    const net = gross - (sums.costs || 0);
    document.getElementById("gross").textContent = show(gross);
    document.getElementById("costs").textContent = show(sums.costs || 0);
    document.getElementById("net").textContent = show(net);
    document.getElementById("per-capita").textContent = size > 0 ? show(Math.round(net / size)) : "—";
    document.getElementById("negative-warning").classList.toggle("d-none", !negative);
  };
  document.querySelectorAll("[data-group]").forEach((input) => input.addEventListener("input", update));
  update();
})();
