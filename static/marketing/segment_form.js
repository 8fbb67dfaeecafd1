// The segment form's conditions on custom fields: offer only the operators that fit the chosen
// field's kind, show the value boxes the operator needs, and a date picker for date fields.
// The server checks all of this again (marketing/segment_fields.py); this only spares wrong choices.
(function () {
  "use strict";
  var NO_VALUE = ["", "empty", "not_empty", "yes", "no"];

  function fit(row) {
    var field = row.querySelector("select.cf-field");
    var op = row.querySelector("select.cf-op");
    if (!field || !op) return;
    var chosen = field.options[field.selectedIndex];
    var kind = chosen ? chosen.getAttribute("data-kind") || "" : "";
    Array.prototype.forEach.call(op.options, function (option) {
      if (!option.value) return;
      var fits = !!kind && (option.getAttribute("data-kinds") || "").split(" ").indexOf(kind) >= 0;
      option.hidden = !fits;
      option.disabled = !fits;
    });
    var current = op.options[op.selectedIndex];
    if (current && current.disabled) op.value = "";
    var operator = op.value;
    var valueCol = row.querySelector(".cf-value-col");
    var value2Col = row.querySelector(".cf-value2-col");
    if (valueCol) valueCol.hidden = NO_VALUE.indexOf(operator) >= 0;
    if (value2Col) value2Col.hidden = operator !== "between";
    var type = kind === "date" ? "date" : "text";
    row.querySelectorAll("input.cf-value, input.cf-value2").forEach(function (input) {
      if (input.type !== type) {
        if (type === "date" && !/^\d{4}-\d{2}-\d{2}$/.test(input.value)) input.value = "";
        input.type = type;
      }
      input.inputMode = kind === "number" ? "decimal" : "";
    });
  }

  function fitAll() {
    document.querySelectorAll("#segment-custom .cf-row").forEach(fit);
  }

  document.addEventListener("change", function (event) {
    var row = event.target.closest && event.target.closest("#segment-custom .cf-row");
    if (row && event.target.matches("select")) fit(row);
  }, true);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fitAll);
  else fitAll();
})();
