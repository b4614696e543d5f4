/* Vendor scorecard: the trend of the overall score and each measure across finalized reviews.
   Lines differ by dash pattern and point shape as well as colour, so they read without colour. */
(function () {
  "use strict";
  var source = document.getElementById("scorecard-data");
  if (!source) { return; }
  var data = JSON.parse(source.textContent);

  // Fill the accessible table from the same data.
  var rows = document.querySelectorAll(".scorecard-table tbody tr");
  rows.forEach(function (row, i) {
    var cells = [data.overall[i], data.standing[i]].concat(data.measures.map(function (m) { return m.scores[i]; }));
    cells.forEach(function (value) {
      var td = document.createElement("td");
      td.textContent = value === null || value === undefined ? "—" : value;
      row.appendChild(td);
    });
  });

  var canvas = document.getElementById("scorecard-chart");
  if (!canvas || typeof Chart === "undefined") { return; }
  var colours = ["#264b5d", "#d1495b", "#00798c", "#edae49", "#66a182", "#8d6a9f", "#3d5a80"];
  var dashes = [[], [6, 4], [2, 3], [10, 4, 2, 4], [4, 4], [12, 6], [1, 2]];
  var shapes = ["circle", "triangle", "rect", "rectRot", "star", "crossRot", "rectRounded"];
  var toNumber = function (v) { return v === null || v === undefined ? null : Number(v); };
  var datasets = [{
    label: "Overall",
    data: data.overall.map(toNumber),
    borderColor: colours[0], backgroundColor: colours[0],
    borderWidth: 3, borderDash: dashes[0], pointStyle: shapes[0], pointRadius: 4, tension: 0.2
  }].concat(data.measures.map(function (measure, i) {
    var k = (i + 1) % colours.length;
    return {
      label: measure.label,
      data: measure.scores.map(toNumber),
      borderColor: colours[k], backgroundColor: colours[k],
      borderWidth: 1.5, borderDash: dashes[k], pointStyle: shapes[k], pointRadius: 3, tension: 0.2
    };
  }));
  window.vendorScorecardChart = new Chart(canvas, {
    type: "line",
    data: { labels: data.period_ends, datasets: datasets },
    options: {
      animation: false,
      responsive: true,
      interaction: { mode: "index", intersect: false },
      scales: { y: { min: 0, max: 100, title: { display: true, text: "score" } } },
      plugins: { legend: { labels: { usePointStyle: true } } }
    }
  });
})();
