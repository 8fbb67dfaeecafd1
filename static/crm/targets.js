// The targets grid opens on the period we are in: its column is scrolled into view beside the
// sticky names column (a year of months is wider than most screens).
(function () {
  "use strict";
  var current = document.querySelector("#targets-grid thead th[data-current]");
  var wrap = current && current.closest(".table-wrap");
  if (!wrap) { return; }
  var names = document.querySelector("#targets-grid thead th");
  var left = current.offsetLeft - (names ? names.offsetWidth : 0) - 8;
  if (current.offsetLeft + current.offsetWidth > wrap.clientWidth) { wrap.scrollLeft = Math.max(0, left); }
})();
