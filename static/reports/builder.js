// Report builder: choosing other records starts a new report for them (the columns, filters and groupings
// of the previous records would not apply).
(function () {
  "use strict";
  var entity = document.getElementById("report-entity");
  if (!entity) { return; }
  entity.addEventListener("change", function () {
    var form = entity.form;
    window.location.assign(form.getAttribute("action").split("?")[0] + "?entity=" + encodeURIComponent(entity.value));
  });
})();
