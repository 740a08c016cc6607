/* Shared by the door scanner and the door statistics page: event/list chooser and JSON API calls
 * (session cookie + CSRF header). */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("door-config").textContent);
  const csrf = (document.getElementById("door-csrf") || {}).value || "";
  const STORE = "plaudit.door.choice";

  function chooser(onChange) {
    const eventSel = document.getElementById("door-event");
    const listSel = document.getElementById("door-list");
    if (!eventSel || !config.events.length) return null;
    const saved = JSON.parse(localStorage.getItem(STORE) || "{}");
    config.events.forEach((ev, i) => eventSel.add(new Option(ev.name, String(i))));
    const savedIndex = config.events.findIndex((ev) => ev.org === saved.org && ev.slug === saved.event);
    eventSel.value = String(Math.max(savedIndex, 0));

    function fillLists() {
      const ev = config.events[Number(eventSel.value)];
      listSel.innerHTML = "";
      ev.lists.forEach((l) => listSel.add(new Option(l.name, String(l.id))));
      if (ev.lists.some((l) => String(l.id) === String(saved.list))) listSel.value = String(saved.list);
    }

    function current() {
      const ev = config.events[Number(eventSel.value)];
      return {org: ev.org, event: ev.slug, eventName: ev.name, list: Number(listSel.value) || null};
    }

    function changed() {
      const c = current();
      localStorage.setItem(STORE, JSON.stringify({org: c.org, event: c.event, list: c.list}));
      onChange(c);
    }

    eventSel.addEventListener("change", () => { fillLists(); changed(); });
    listSel.addEventListener("change", changed);
    fillLists();
    return {current, changed};
  }

  async function api(method, path, body) {
    const response = await fetch(config.apiBase + path, {
      method,
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf},
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return {status: response.status, data};
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "n-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  window.PlauditDoor = {config, chooser, api, uuid};
})();
