// Pipeline dashboard: draws every canvas.dashboard-chart from its "<id>-data" JSON block
// ({labels, currency, datasets: [{label, values}], urls, horizontal}). A click on a bar opens the list of the
// deals behind it (the same link as the table row under the chart). Numbers are formatted for the
// page's language.
(function () {
  "use strict";
  var COLOURS = ["#0b6e4f", "#8fbfae", "#c77d1a", "#5b6bb5", "#b34a5a", "#3f8fa8", "#8a8a3c", "#7b5aa6"];
  var SLICES = COLOURS;

  function draw(canvas) {
    var source = document.getElementById(canvas.id + "-data");
    if (!source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var lang = document.documentElement.lang || undefined;
    var money = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
    var accent = getComputedStyle(document.documentElement).getPropertyValue("--crm-accent").trim();
    var type = data.type || "bar";
    var scales = {};
    if (data.stacked) { scales[data.horizontal ? "y" : "x"] = { stacked: true }; }
    scales[data.horizontal ? "x" : "y"] = {
      beginAtZero: true, stacked: !!data.stacked,
      // Counts (no currency) step by whole numbers; amounts are shown without their cents.
      ticks: { precision: data.currency ? undefined : 0, callback: function (value) { return money.format(value); } }
    };
    var palette = function (index) { return index === 0 && accent ? accent : COLOURS[index % COLOURS.length]; };
    new Chart(canvas, {
      type: type,
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (set, index) {
          // A pie colours each slice; bars and lines colour each series.
          var colour = type === "pie" ? data.labels.map(function (label, slice) { return SLICES[slice % SLICES.length]; })
            : palette(index);
          return { label: set.label, data: set.values, backgroundColor: colour, stack: set.stack,
                   borderColor: type === "line" ? colour : undefined };
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
        scales: type === "pie" ? {} : scales,
        onHover: function (event, elements) {
          event.native.target.classList.toggle("is-clickable", elements.length > 0);
        },
        onClick: function (event, elements) {
          if (!elements.length) { return; }
          // A series may carry its own links (stacked bars: each part opens its own list).
          var set = data.datasets[elements[0].datasetIndex] || {};
          var url = (set.urls || data.urls || [])[elements[0].index];
          if (url) { window.location.assign(url); }
        }
      }
    });
  }

  document.querySelectorAll("canvas.dashboard-chart").forEach(draw);
})();
