// The embedded web-to-lead form tells the page that frames it how tall it is, so the snippet's frame
// grows with it (error messages, the thank-you text). Only a height leaves the frame.
(function () {
  "use strict";
  if (window.parent === window) { return; }
  var id = document.body.dataset.webform;
  var send = function () {
    window.parent.postMessage({ crmWebform: id, height: Math.ceil(document.documentElement.scrollHeight) }, "*");
  };
  send();
  window.addEventListener("load", send);
  if (window.ResizeObserver) { new ResizeObserver(send).observe(document.body); }
})();
