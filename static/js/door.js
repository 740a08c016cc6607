/* The door scanner: entry/exit mode, typed (USB/Bluetooth) and camera scanning, big result, beep,
 * recent scans, and an offline queue in localStorage that is uploaded with its nonce and scan time. */
(function () {
  "use strict";

  const Door = window.PlauditDoor;
  const QUEUE = "plaudit.door.queue", MODE = "plaudit.door.mode", REPEAT_MS = 2000;
  const REASONS = {
    invalid: "Unknown ticket", already_redeemed: "Already checked in", not_checked_in: "Not checked in",
    canceled: "Ticket cancelled", revoked: "Ticket code revoked", product: "Ticket type not valid on this list", invalid_time: "Outside opening times",
    ambiguous: "Several lists match this ticket", error: "Scan refused",
  };
  const $ = (id) => document.getElementById(id);
  const modeButton = $("door-mode");
  if (!modeButton) return;
  let mode = localStorage.getItem(MODE) === "exit" ? "exit" : "entry";
  const choice = Door.chooser(() => $("door-code").focus());

  function setMode(next) {
    mode = next;
    localStorage.setItem(MODE, mode);
    modeButton.dataset.mode = mode;
    modeButton.querySelector(".door-mode-label").textContent = mode === "entry" ? "ENTRY" : "EXIT";
    modeButton.querySelector(".door-mode-hint").textContent =
      mode === "entry" ? "tap to switch to exit" : "tap to switch to entry";
    document.body.classList.toggle("door-mode-entry", mode === "entry");
    document.body.classList.toggle("door-mode-exit", mode === "exit");
  }

  function show(kind, title, detail) {
    const box = $("door-result");
    box.className = "result door-result " + kind;
    box.querySelector(".door-result-title").textContent = title;
    box.querySelector(".door-result-detail").textContent = detail || "";
  }

  function remember(kind, text) {
    const li = document.createElement("li");
    li.className = kind;
    const what = document.createElement("span");
    what.textContent = text;
    const when = document.createElement("span");
    when.className = "when";
    when.textContent = new Date().toLocaleTimeString();
    li.append(what, when);
    const list = $("door-recent");
    list.prepend(li);
    while (list.children.length > 15) list.lastChild.remove();
  }

  function describe(item, response) {
    const body = response.data || {};
    const name = (body.position && body.position.attendee_name) || "";
    if (body.status === "ok") {
      return {ok: true, title: item.type === "entry" ? "Checked in" : "Checked out", detail: name};
    }
    if (body.reason) {
      return {ok: false, title: REASONS[body.reason] || body.reason_explanation || "Refused", detail: name};
    }
    return {ok: false, title: "Not scanned", detail: body.detail || body.error || ("HTTP " + response.status)};
  }

  // Network failures and server errors are retried later (the nonce makes the retry safe);
  // any other answer is final.
  const retryable = (response) => response === null || response.status >= 500;

  async function send(item) {
    try {
      return await Door.api("POST", item.org + "/checkinrpc/redeem/", {
        secret: item.secret, lists: [item.list], type: item.type, nonce: item.nonce,
        datetime: item.datetime, source_type: "barcode", gate: "door-page",
      });
    } catch (e) {
      return null;
    }
  }

  const queue = () => JSON.parse(localStorage.getItem(QUEUE) || "[]");
  function saveQueue(items) {
    localStorage.setItem(QUEUE, JSON.stringify(items));
    const note = $("door-queue");
    note.hidden = items.length === 0;
    note.textContent = items.length + " scan(s) saved offline, uploading when back online";
  }

  let flushing = false;
  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      let items = queue();
      while (items.length) {
        const response = await send(items[0]);
        if (retryable(response)) break;
        const result = describe(items[0], response);
        remember(result.ok ? "ok" : "bad", "(uploaded) " + result.title + (result.detail ? " · " + result.detail : ""));
        items = queue().filter((i) => i.nonce !== items[0].nonce);
        saveQueue(items);
      }
    } finally {
      flushing = false;
    }
  }

  async function onCode(code) {
    const where = choice.current();
    if (!where.list) { show("bad", "Choose a check-in list", ""); return; }
    const item = {org: where.org, list: where.list, secret: code, type: mode, nonce: Door.uuid(),
                  datetime: new Date().toISOString()};
    show("pending", "Checking…", "");
    const response = await send(item);
    if (retryable(response)) {
      saveQueue(queue().concat([item]));
      show("pending", "Saved offline", "Not verified yet: will upload when back online");
      remember("bad", "(offline) " + code.slice(0, 12));
      window.PlauditQR.beep(false);
      return;
    }
    const result = describe(item, response);
    show(result.ok ? "ok" : "bad", result.title, result.detail);
    remember(result.ok ? "ok" : "bad", result.title + (result.detail ? " · " + result.detail : ""));
    window.PlauditQR.beep(result.ok);
  }

  modeButton.addEventListener("click", () => { setMode(mode === "entry" ? "exit" : "entry"); $("door-code").focus(); });
  window.PlauditQR.attachTypedScanner($("door-code"), onCode, {repeatMs: REPEAT_MS});

  let camera = null;
  $("door-camera").addEventListener("click", () => {
    const video = $("door-video");
    if (camera) { camera.stop(); camera = null; video.hidden = true; $("door-camera").textContent = "Use camera"; return; }
    video.hidden = false;
    $("door-camera").textContent = "Stop camera";
    camera = window.PlauditQR.start({video, onCode, repeatMs: REPEAT_MS,
      onError: (err) => show("bad", "Camera unavailable", String(err && err.message || err))});
  });

  window.addEventListener("online", flush);
  setInterval(flush, 15000);
  setMode(mode);
  saveQueue(queue());
  flush();
})();
