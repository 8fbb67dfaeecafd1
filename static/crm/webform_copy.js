// The web form's page: copy an embedding snippet to the clipboard.
(function () {
  "use strict";
  var status = document.getElementById("webform-copy-status");
  document.querySelectorAll(".webform-copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.dataset.target);
      field.select();
      var done = function () { if (status) { status.textContent = button.dataset.copied; } };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
      } else {
        field.focus();
        field.select();
      }
    });
  });
})();
