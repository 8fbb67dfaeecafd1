// The profile's calendar subscription card: copy the private address to the clipboard.
(function () {
  "use strict";
  var copy = document.getElementById("feed-copy");
  var field = document.getElementById("feed-url");
  var status = document.getElementById("feed-copy-status");
  if (!copy || !field) { return; }
  copy.addEventListener("click", function () {
    field.select();
    var done = function () { if (status) { status.textContent = copy.dataset.copied; } };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
    } else {
      field.focus();
      field.select();
    }
  });
})();
