// Forecast page: the bar chart (target, won, commit, best case per row), drawn from the
// "forecast-chart-data" JSON block and redrawn whenever htmx replaces the figures.
(function () {
  "use strict";
  var COLOURS = ["#6c757d", "#198754", "#0d6efd", "#6f42c1"];
  var chart = null;

  function draw() {
    var canvas = document.getElementById("forecast-chart");
    var source = document.getElementById("forecast-chart-data");
    if (chart) { chart.destroy(); chart = null; }
    if (!canvas || !source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    chart = new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (set, index) {
          return { label: set.label, data: set.values, backgroundColor: COLOURS[index % COLOURS.length] };
        })
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { position: "bottom" } },
        scales: { y: { beginAtZero: true } }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", function () {
    // The figures were replaced (a deal changed category): draw on the new canvas.
    if (!chart || !document.body.contains(chart.canvas)) { draw(); }
  });
})();
