// Pipeline dashboard: draws every canvas.dashboard-chart from its "<id>-data" JSON block
// ({labels, currency, datasets: [{label, values}], urls, horizontal}). A click on a bar opens the list of the
// deals behind it (the same link as the table row under the chart). Numbers are formatted for the
// page's language.
(function () {
  "use strict";
  var COLOURS = ["#0b6e4f", "#8fbfae"];

  function draw(canvas) {
    var source = document.getElementById(canvas.id + "-data");
    if (!source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var lang = document.documentElement.lang || undefined;
    var money = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
    var accent = getComputedStyle(document.documentElement).getPropertyValue("--crm-accent").trim();
    var scales = {};
    scales[data.horizontal ? "x" : "y"] = {
      beginAtZero: true,
      // Counts (no currency) step by whole numbers; amounts are shown without their cents.
      ticks: { precision: data.currency ? undefined : 0, callback: function (value) { return money.format(value); } }
    };
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (set, index) {
          return { label: set.label, data: set.values,
                   backgroundColor: index === 0 && accent ? accent : COLOURS[index % COLOURS.length] };
        })
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        indexAxis: data.horizontal ? "y" : "x",
        locale: lang,
        plugins: {
          legend: { position: "bottom" },
          tooltip: { callbacks: { label: function (item) {
            return item.dataset.label + ": " + money.format(item.raw) + (data.currency ? " " + data.currency : "");
          } } }
        },
        scales: scales,
        onHover: function (event, elements) {
          event.native.target.classList.toggle("is-clickable", elements.length > 0);
        },
        onClick: function (event, elements) {
          if (!elements.length) { return; }
          var url = data.urls[elements[0].index];
          if (url) { window.location.assign(url); }
        }
      }
    });
  }

  document.querySelectorAll("canvas.dashboard-chart").forEach(draw);
})();
