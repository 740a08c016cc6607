/* "My points": the balance over the last entries as a line chart (Chart.js from package.json). */
(function () {
  "use strict";
  const canvas = document.getElementById("points-chart");
  if (!canvas || !window.Chart) return;
  const series = JSON.parse(document.getElementById("points-series").textContent);
  const lang = document.documentElement.lang || undefined;
  const _ = window.gettext || ((s) => s);
  new window.Chart(canvas, {
    type: "line",
    data: {
      labels: series.map((p) => new Date(p.at).toLocaleDateString(lang, {day: "numeric", month: "short"})),
      datasets: [{label: _("Points"), data: series.map((p) => p.balance), borderColor: "#2f5fe0",
                   backgroundColor: "rgba(47, 95, 224, .12)", fill: true, tension: .25, pointRadius: 2}],
    },
    options: {animation: false, maintainAspectRatio: false, plugins: {legend: {display: false}},
              scales: {y: {beginAtZero: true, ticks: {precision: 0}}, x: {ticks: {maxTicksLimit: 6}}}},
  });
})();
