// Forecast page: the bar chart (target, won, commit, best case per row), drawn from the
// "forecast-chart-data" JSON block. When htmx reloads the figures (a deal changed category),
// the chart takes the new data in place: destroying it would restore the canvas's style
// attribute, which the CSP forbids.
(function () {
  "use strict";
  var COLOURS = ["#6c757d", "#198754", "#0d6efd", "#6f42c1"];
  var chart = null;

  function readData() {
    var source = document.getElementById("forecast-chart-data");
    if (!source) { return null; }
    var data = JSON.parse(source.textContent);
    return {
      labels: data.labels,
      datasets: data.datasets.map(function (set, index) {
        return { label: set.label, data: set.values, backgroundColor: COLOURS[index % COLOURS.length] };
      })
    };
  }

  function draw() {
    var canvas = document.getElementById("forecast-chart");
    var data = readData();
    if (!canvas || !data || typeof Chart === "undefined") { return; }
    chart = new Chart(canvas, {
      type: "bar",
      data: data,
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { position: "bottom" } },
        scales: { y: { beginAtZero: true } }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!chart || !event.target || event.target.id !== "forecast-figures") { return; }
    var data = readData();
    if (!data) { return; }
    chart.data.labels = data.labels;
    chart.data.datasets.forEach(function (set, index) { set.data = data.datasets[index].data; });
    chart.update();
  });
})();
