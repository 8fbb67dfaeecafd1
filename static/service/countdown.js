// Keeps every SLA countdown on the page current (service_tags.countdown renders the first text).
(function () {
  "use strict";
  function words(el, seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days) return days + " " + el.dataset.d + " " + hours + " " + el.dataset.h;
    if (hours) return hours + " " + el.dataset.h + " " + mins + " " + el.dataset.min;
    return mins + " " + el.dataset.min;
  }
  function tick() {
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var seconds = (Date.parse(el.dataset.due) - Date.now()) / 1000;
      var template = seconds < 0 ? el.dataset.overdue : el.dataset.left;
      var time = el.querySelector("time");
      if (time) time.textContent = template.replace("%(time)s", words(el, seconds));
      el.classList.toggle("text-danger", seconds < 0);
      el.classList.toggle("fw-semibold", seconds < 0);
    });
  }
  tick();
  setInterval(tick, 30000);
})();
