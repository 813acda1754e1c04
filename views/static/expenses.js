// The running total of the report's expense lines (6.2.7), as the technician types. Amounts are
// read as the server reads them (records/cases/expenses.py amount): full-width digits and
// punctuation, a leading ¥ / ￥, thousands commas, a trailing 元. A line that does not read as an
// amount is left out and the total says so; the server checks every line again.
(function () {
  "use strict";
  var PLAIN = /^\d+(\.\d{1,2})?$/;
  var GROUPED = /^\d{1,3}(,\d{3})+(\.\d{1,2})?$/;

  function amount(text) {
    var s = (text || "").replace(/[\uFF01-\uFF5E]/g, function (c) {  // full-width ASCII → ASCII
      return String.fromCharCode(c.charCodeAt(0) - 0xFEE0);
    }).replace(/\uFFE5/g, "\u00A5").replace(/\s+/g, "");
    if (!s) return 0;
    s = s.replace(/^\u00A5/, "").replace(/元$/, "");
    if (!(PLAIN.test(s) || GROUPED.test(s))) return null;
    return Math.round(parseFloat(s.replace(/,/g, "")) * 100);
  }

  function update(form, out) {
    var fen = 0, bad = 0;
    form.querySelectorAll("input[data-expense-amount]").forEach(function (input) {
      var v = amount(input.value);
      if (v === null) bad += 1; else fen += v;
    });
    out.value = (fen / 100).toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    out.textContent = out.value;
    var note = document.getElementById("expense-total-bad");
    if (note) note.textContent = bad ? "（" + bad + " 行金额格式不正确，未计入）" : "";
  }

  function init() {
    var out = document.getElementById("expense-total");
    if (!out) return;
    var form = out.closest(".card-body") ? out.closest(".card-body").querySelector("form") : null;
    if (!form) return;
    form.addEventListener("input", function (e) {
      if (e.target.matches("input[data-expense-amount]")) update(form, out);
    });
    update(form, out);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
