// Applied before first paint so a dark-theme user never sees a white flash.
(function () {
  var stored = localStorage.getItem("crm-theme");
  var prefersDark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.setAttribute("data-bs-theme", stored || (prefersDark ? "dark" : "light"));
})();
