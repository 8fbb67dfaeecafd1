// Small behaviours shared by every page. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  function showToasts(root) {
    root.querySelectorAll(".toast").forEach(function (element) {
      bootstrap.Toast.getOrCreateInstance(element).show();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    showToasts(document);

    var toggle = document.getElementById("theme-toggle");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var root = document.documentElement;
        var next = root.getAttribute("data-bs-theme") === "dark" ? "light" : "dark";
        root.setAttribute("data-bs-theme", next);
        localStorage.setItem("crm-theme", next);
      });
    }

    // Confirmation prompts for dangerous buttons: <button data-confirm="Really?">.
    document.addEventListener("submit", function (event) {
      var button = event.submitter;
      var question = button && button.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
      }
    });
  });

  // "/" focuses the global search unless the user is typing somewhere.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey) {
      var search = document.getElementById("global-search");
      if (search) {
        event.preventDefault();
        search.focus();
      }
    }
  });

  document.body && document.body.addEventListener("htmx:afterSwap", function (event) {
    showToasts(event.target);
  });
})();
