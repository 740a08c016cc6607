/* Door statistics: live counts (polled, exact), arrivals per 10 minutes as a chart, and bulk checkout
 * with a confirmation, offered only while somebody is inside. */
(function () {
  "use strict";

  const Door = window.PlauditDoor;
  const _ = window.gettext || ((s) => s);
  const fmt = (text, values) => (window.interpolate ? window.interpolate(text, values, true) : text);
  const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));
  const lang = document.documentElement.lang || undefined;
  const $ = (id) => document.getElementById(id);
  if (!$("bulk-checkout")) return;
  const REFRESH_MS = 3000, CHART_EVERY = 10;  // the chart refreshes every 10th poll (30 s)
  let timer = null, last = null, polls = 0, chart = null;
  const choice = Door.chooser(() => { polls = 0; refresh(); });

  function eventPath(c) { return c.org + "/events/" + c.event + "/"; }

  function showCounts(data) {
    $("stats-event").textContent = data.event.name;
    $("stat-inside").textContent = data.inside_count;
    $("stat-checkins").textContent = data.checkin_count;
    // People who came in and are not inside now: the same unit (people) as the other cards.
    $("stat-left").textContent = Math.max(0, data.checkin_count - data.inside_count);
    $("stat-positions").textContent = data.position_count;
    $("stat-checkouts-note").textContent = fmt(ngettext("%(n)s exit scan in total.", "%(n)s exit scans in total.",
      data.checkout_count), {n: data.checkout_count});
    const rows = $("stats-items");
    rows.replaceChildren();
    data.items.forEach((item) => {
      const tr = rows.insertRow();
      tr.insertCell().textContent = item.name;
      const a = tr.insertCell(); a.className = "num"; a.textContent = item.checkin_count;
      const b = tr.insertCell(); b.className = "num"; b.textContent = item.position_count;
    });
    const nobody = data.inside_count === 0;
    $("bulk-checkout").disabled = nobody;
    $("bulk-nobody").hidden = !nobody;
  }

  async function drawArrivals(c) {
    if (!window.Chart) return;
    const response = await fetch(Door.config.arrivalsBase + c.list + "/", {credentials: "same-origin"});
    if (!response.ok) return;
    const slots = (await response.json()).slots;
    $("arrivals-empty").hidden = slots.length > 0;
    $("arrivals-chart").parentNode.hidden = slots.length === 0;  // the box, not only the canvas: no empty gap
    const labels = slots.map((s) => new Date(s.start).toLocaleTimeString(lang, {hour: "2-digit", minute: "2-digit"}));
    const values = slots.map((s) => s.entries);
    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets[0].data = values;
      chart.update("none");
      return;
    }
    chart = new window.Chart($("arrivals-chart"), {
      type: "bar",
      data: {labels, datasets: [{label: _("Arrivals"), data: values, backgroundColor: "#2f5fe0"}]},
      options: {animation: false, maintainAspectRatio: false, plugins: {legend: {display: false}},
                scales: {y: {beginAtZero: true, ticks: {precision: 0}}}},
    });
  }

  async function refresh() {
    clearTimeout(timer);
    const c = choice.current();
    try {
      if (!c.list) return;
      const response = await Door.api("GET", eventPath(c) + "checkinlists/" + c.list + "/status/");
      if (response.status !== 200) return;
      last = response.data;
      showCounts(last);
      $("stats-updated").textContent = fmt(_("Updated %(time)s"), {time: new Date().toLocaleTimeString(lang)});
      if (polls++ % CHART_EVERY === 0) await drawArrivals(c);
    } catch (e) {
      $("stats-updated").textContent = _("Offline: showing the last counts");
    } finally {
      timer = setTimeout(refresh, REFRESH_MS);
    }
  }

  // Our own words from the counts (the API's "message" is the eventyay-compatible English text).
  function bulkSummary(results) {
    const done = fmt(ngettext("Bulk checkout completed: %(n)s person checked out.",
      "Bulk checkout completed: %(n)s people checked out.", results.success_count), {n: results.success_count});
    if (!results.error_count) return done;
    return done + " " + fmt(ngettext("%(n)s error.", "%(n)s errors.", results.error_count), {n: results.error_count});
  }

  $("bulk-checkout").addEventListener("click", async () => {
    const c = choice.current();
    if (!c.list || !last || last.inside_count === 0) return;
    const question = fmt(ngettext("Check out the %(n)s person inside now?", "Check out the %(n)s people inside now?",
      last.inside_count), {n: last.inside_count});
    if (!window.confirm(question)) return;
    $("bulk-checkout").disabled = true;
    try {
      const response = await Door.api("POST", eventPath(c) + "checkout/bulk/", {checkin_lists: [c.list]});
      $("bulk-result").textContent = response.status === 200 ? bulkSummary(response.data.results)
        : fmt(_("Bulk checkout failed: %(why)s"), {why: (response.data && response.data.error) || response.status});
    } catch (e) {
      $("bulk-result").textContent = fmt(_("Bulk checkout failed: %(why)s"), {why: _("offline")});
    } finally {
      refresh();
    }
  });

  refresh();
})();
