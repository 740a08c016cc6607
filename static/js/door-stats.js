/* Door statistics: live counts (polled, exact) and bulk checkout with a confirmation. */
(function () {
  "use strict";

  const Door = window.PlauditDoor;
  const $ = (id) => document.getElementById(id);
  if (!$("bulk-checkout")) return;
  const REFRESH_MS = 3000;
  let timer = null, last = null;
  const choice = Door.chooser(() => refresh());

  function eventPath(c) { return c.org + "/events/" + c.event + "/"; }

  async function refresh() {
    clearTimeout(timer);
    const c = choice.current();
    try {
      if (!c.list) return;
      const response = await Door.api("GET", eventPath(c) + "checkinlists/" + c.list + "/status/");
      if (response.status !== 200) return;
      last = response.data;
      $("stats-event").textContent = last.event.name;
      $("stat-inside").textContent = last.inside_count;
      $("stat-checkins").textContent = last.checkin_count;
      $("stat-checkouts").textContent = last.checkout_count;
      $("stat-positions").textContent = last.position_count;
      const rows = $("stats-items");
      rows.innerHTML = "";
      last.items.forEach((item) => {
        const tr = rows.insertRow();
        tr.insertCell().textContent = item.name;
        const a = tr.insertCell(); a.className = "num"; a.textContent = item.checkin_count;
        const b = tr.insertCell(); b.className = "num"; b.textContent = item.position_count;
      });
      $("stats-updated").textContent = "Updated " + new Date().toLocaleTimeString();
    } catch (e) {
      $("stats-updated").textContent = "Offline: showing the last counts";
    } finally {
      timer = setTimeout(refresh, REFRESH_MS);
    }
  }

  $("bulk-checkout").addEventListener("click", async () => {
    const c = choice.current();
    const inside = last ? last.inside_count : "everyone";
    if (!c.list || !window.confirm("Check out " + inside + " people inside now?")) return;
    $("bulk-checkout").disabled = true;
    try {
      const response = await Door.api("POST", eventPath(c) + "checkout/bulk/", {checkin_lists: [c.list]});
      $("bulk-result").textContent = response.status === 200 ? response.data.message
        : "Bulk checkout failed: " + ((response.data && response.data.error) || response.status);
    } catch (e) {
      $("bulk-result").textContent = "Bulk checkout failed: offline";
    } finally {
      $("bulk-checkout").disabled = false;
      refresh();
    }
  });

  refresh();
})();
