/* The admin's engagement overview: redemptions per day and points issued vs spent per week. */
(function () {
  "use strict";
  if (!window.Chart) return;
  const data = JSON.parse(document.getElementById("overview-data").textContent);
  const options = {animation: false, maintainAspectRatio: false, scales: {y: {beginAtZero: true, ticks: {precision: 0}}}};
  const day = document.getElementById("chart-per-day");
  if (day) {
    new window.Chart(day, {type: "bar", options: {...options, plugins: {legend: {display: false}}},
      data: {labels: data.days, datasets: [{label: "Redemptions", data: data.redemptions, backgroundColor: "#417690"}]}});
  }
  const week = document.getElementById("chart-per-week");
  if (week) {
    new window.Chart(week, {type: "bar", options,
      data: {labels: data.weeks, datasets: [
        {label: "Issued", data: data.issued, borderColor: "#12805c", backgroundColor: "#12805c"},
        {label: "Spent", data: data.spent, borderColor: "#c0262d", backgroundColor: "#c0262d"}]}});
  }
})();
