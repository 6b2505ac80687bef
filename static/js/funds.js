// Under each amount, the same amount in the other unit (万元 ↔ 元), by moving the decimal point in
// the typed digits: exact, no floating point. The form converts again on the server.
(function () {
  function shift(text, places) {
    var match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text.replace(/[,，\s]/g, ""));
    if (!match || (match[2] === "" && !match[3])) return null;
    var sign = match[1], whole = match[2] || "0", fraction = match[3] || "";
    var digits = whole + fraction, point = whole.length + places;
    while (point > digits.length) digits += "0";
    while (point < 1) { digits = "0" + digits; point += 1; }
    var integer = digits.slice(0, point).replace(/^0+(?=\d)/, ""), decimals = digits.slice(point).replace(/0+$/, "");
    integer = integer.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return sign + integer + (decimals ? "." + decimals : "");
  }
  function unitOf(form) {
    var select = form.querySelector("[data-money-unit]");
    return select ? select.value : "yuan";
  }
  function refresh(form) {
    form.querySelectorAll("[data-money]").forEach(function (input) {
      var hint = form.querySelector('[data-money-hint-for="' + input.id + '"]');
      if (!hint) return;
      var wan = unitOf(form) === "wan";
      var other = input.value.trim() ? shift(input.value.trim(), wan ? 4 : -4) : null;
      hint.textContent = other === null ? "" : "合 " + other + (wan ? " 元" : " 万元");
    });
  }
  document.querySelectorAll("form").forEach(function (form) {
    if (!form.querySelector("[data-money]")) return;
    form.addEventListener("input", function () { refresh(form); });
    form.addEventListener("change", function () { refresh(form); });
    refresh(form);
  });
})();
