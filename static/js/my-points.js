/* "My points": the balance over the last entries as a stepped line (Chart.js from package.json): a balance
 * jumps at each entry and stays flat in between, so a smooth curve would draw values it never had. */
(function () {
  "use strict";
  // The level number wears its title band's colour (engagement/levels.py), set through the CSSOM: the
  // Content-Security-Policy's spirit is no inline style attributes.
  const level = document.getElementById("my-level");
  if (level && level.dataset.levelColor) level.style.color = level.dataset.levelColor;
  const canvas = document.getElementById("points-chart");
  if (!canvas || !window.Chart) return;
  const series = JSON.parse(document.getElementById("points-series").textContent);
  const lang = document.documentElement.lang || undefined;
  const _ = window.gettext || ((s) => s);
  new window.Chart(canvas, {
    type: "line",
    data: {
      labels: series.map((p) => new Date(p.at).toLocaleString(lang, {day: "numeric", month: "short", hour: "2-digit",
        minute: "2-digit"})),
      datasets: [{label: _("Points"), data: series.map((p) => p.balance), borderColor: "#2f5fe0",
                   backgroundColor: "rgba(47, 95, 224, .12)", fill: true, stepped: "after", pointRadius: 2}],
    },
    options: {animation: false, maintainAspectRatio: false, plugins: {legend: {display: false}},
              scales: {y: {beginAtZero: true, ticks: {precision: 0}}, x: {ticks: {maxTicksLimit: 6}}}},
  });
})();
