/* Operations dashboard: draws each panel's chart from the figures the page carries (no network).
   Datasets differ by fill pattern as well as colour, and every chart has a data table beside it. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-charts");
  if (!source || typeof Chart === "undefined") { return; }
  var charts = JSON.parse(source.textContent);
  var colours = ["#264b5d", "#d1495b", "#00798c", "#edae49", "#66a182", "#8d6a9f"];

  // A small tile per dataset: solid, stripes, dots, cross-hatch... so bars read without colour.
  function pattern(index) {
    var colour = colours[index % colours.length];
    var tile = document.createElement("canvas");
    tile.width = tile.height = 10;
    var ctx = tile.getContext("2d");
    ctx.fillStyle = colour;
    ctx.globalAlpha = 0.35;
    ctx.fillRect(0, 0, 10, 10);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.lineWidth = 2;
    switch (index % 4) {
      case 0: ctx.fillRect(0, 0, 10, 10); break;
      case 1: ctx.beginPath(); ctx.moveTo(0, 10); ctx.lineTo(10, 0); ctx.stroke(); break;
      case 2: ctx.beginPath(); ctx.arc(5, 5, 2, 0, 2 * Math.PI); ctx.fill(); break;
      default: ctx.beginPath(); ctx.moveTo(0, 5); ctx.lineTo(10, 5); ctx.moveTo(5, 0); ctx.lineTo(5, 10); ctx.stroke();
    }
    return ctx.createPattern(tile, "repeat");
  }

  window.dashboardCharts = {};
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = charts[canvas.getAttribute("data-chart")];
    if (!spec) { return; }
    var valueAxis = { beginAtZero: true, title: { display: !!spec.y_title, text: spec.y_title || "" } };
    if (spec.y_max) { valueAxis.max = spec.y_max; }
    var scales = spec.horizontal ? { x: valueAxis } : { y: valueAxis };
    window.dashboardCharts[canvas.getAttribute("data-chart")] = new Chart(canvas, {
      type: spec.type || "bar",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (dataset, i) {
          return {
            label: dataset.label,
            data: dataset.data.map(function (value) { return value === null ? null : Number(value); }),
            backgroundColor: pattern(i),
            borderColor: colours[i % colours.length],
            borderWidth: 1.5
          };
        })
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: spec.horizontal ? "y" : "x",
        scales: scales,
        plugins: { legend: { display: spec.datasets.length > 1 || !!spec.y_title } }
      }
    });
  });
})();
