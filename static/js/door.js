/* The door scanner: entry/exit mode, typed (USB/Bluetooth) and camera scanning, big result, beep,
 * recent scans, and an offline queue in localStorage that is uploaded with its nonce and scan time.
 * Messages come from Django's JavaScript catalogue (gettext), so the page speaks the staff's language. */
(function () {
  "use strict";

  const Door = window.PlauditDoor;
  const _ = window.gettext || ((s) => s);
  const fmt = (text, values) => (window.interpolate ? window.interpolate(text, values, true) : text);
  const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));
  const QUEUE = "plaudit.door.queue", MODE = "plaudit.door.mode", REPEAT_MS = 2000, RECENT_MAX = 15;
  const REASONS = {
    invalid: _("Unknown ticket"), already_redeemed: _("Already checked in"), not_checked_in: _("Not checked in"),
    canceled: _("Ticket cancelled"), revoked: _("Ticket code revoked"), product: _("Ticket type not valid on this list"),
    invalid_time: _("Outside opening times"), ambiguous: _("Several lists match this ticket"), error: _("Scan refused"),
  };
  const $ = (id) => document.getElementById(id);
  const modeButton = $("door-mode");
  if (!modeButton) return;
  const field = $("door-code");
  const lang = document.documentElement.lang || undefined;
  const timeOf = (date) => date.toLocaleTimeString(lang, {hour: "2-digit", minute: "2-digit", second: "2-digit"});
  // On a laptop the code field keeps the focus (a scanner types into it); on a phone a focused field
  // would keep the on-screen keyboard open over the result, and the page-wide buffer catches scans anyway.
  const keepFocus = () => { if (window.matchMedia("(pointer: fine)").matches) field.focus(); };
  let mode = localStorage.getItem(MODE) === "exit" ? "exit" : "entry";
  let shownNonce = null, typed = null, camera = null;
  const choice = Door.chooser(keepFocus);

  function setMode(next) {
    const changed = next !== mode;
    mode = next;
    localStorage.setItem(MODE, mode);
    modeButton.dataset.mode = mode;
    modeButton.querySelector(".door-mode-label").textContent = mode === "entry" ? _("ENTRY") : _("EXIT");
    modeButton.querySelector(".door-mode-hint").textContent =
      mode === "entry" ? _("tap to switch to exit") : _("tap to switch to entry");
    document.body.classList.toggle("door-mode-entry", mode === "entry");
    document.body.classList.toggle("door-mode-exit", mode === "exit");
    // The same ticket scanned again after a switch is a new scan (an exit right after an entry).
    if (changed && typed) typed.reset();
    if (changed && camera) camera.forget();
  }

  function show(kind, title, detail, extra, nonce) {
    const box = $("door-result");
    box.className = "result door-result " + kind;
    box.querySelector(".door-result-title").textContent = title;
    box.querySelector(".door-result-detail").textContent = detail || "";
    box.querySelector(".door-result-extra").textContent = extra || "";
    shownNonce = nonce || null;
  }

  function remember(kind, text, nonce) {
    const list = $("door-recent");
    let li = nonce ? list.querySelector('li[data-nonce="' + nonce + '"]') : null;
    if (!li) {
      li = document.createElement("li");
      const what = document.createElement("span");
      what.className = "what";
      const when = document.createElement("span");
      when.className = "when";
      when.textContent = timeOf(new Date());
      li.append(what, when);
      if (nonce) li.dataset.nonce = nonce;
      list.prepend(li);
    }
    li.className = kind;
    li.querySelector(".what").textContent = text;
    $("door-recent-empty").hidden = true;
    while (list.children.length > RECENT_MAX) list.lastChild.remove();
  }

  function whoOf(position) {
    if (!position) return "";
    return [position.attendee_name || position.order_code, position.ticket_type].filter(Boolean).join(" · ");
  }

  // "Already checked in": when and where the last entry on this list was.
  function lastEntry(position, listId) {
    const entries = ((position && position.checkins) || []).filter((c) => c.type === "entry" && c.list === listId);
    if (!entries.length) return "";
    const last = entries[entries.length - 1];
    const at = timeOf(new Date(last.datetime));
    return last.gate ? fmt(_("since %(time)s at %(gate)s"), {time: at, gate: last.gate})
      : fmt(_("since %(time)s"), {time: at});
  }

  function describe(item, response) {
    const body = response.data || {};
    const who = whoOf(body.position);
    if (body.status === "ok") {
      return {ok: true, title: item.type === "entry" ? _("Checked in") : _("Checked out"), detail: who};
    }
    if (body.reason === "invalid") {
      return {ok: false, title: REASONS.invalid, detail: item.secret.slice(0, 40)};
    }
    if (body.reason) {
      const extra = body.reason === "already_redeemed" ? lastEntry(body.position, item.list) : "";
      return {ok: false, title: REASONS[body.reason] || body.reason_explanation || _("Refused"), detail: who, extra};
    }
    return {ok: false, title: _("Not scanned"), detail: body.detail || body.error || ("HTTP " + response.status)};
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
    note.textContent = fmt(ngettext("%(n)s scan saved offline, uploading when back online",
      "%(n)s scans saved offline, uploading when back online", items.length), {n: items.length});
  }

  // An uploaded scan updates its line in "Recent scans"; a refusal (or the scan the big box still shows as
  // "Saved offline") also takes the big box: the person may already be inside on a refused ticket.
  function uploaded(item, result) {
    const line = _("(uploaded)") + " " + result.title + (result.detail ? " · " + result.detail : "");
    remember(result.ok ? "ok" : "bad", line, item.nonce);
    if (!result.ok || shownNonce === item.nonce) {
      show(result.ok ? "ok" : "bad", result.title, result.detail,
        result.ok ? _("uploaded from the offline queue") : _("refused on upload: this scan was saved offline"));
      window.PlauditQR.beep(result.ok);
    }
  }

  // One upload run at a time. A trigger that arrives during a run (the "online" event, the timer) asks for
  // one more run afterwards: the run in flight may have failed on a network that was not back yet. A failed
  // upload is retried after 1 s, 2 s, 4 s … up to 15 s, so the queue empties soon after the network returns.
  let flushing = false, again = false, retryTimer = null, retryMs = 1000;
  async function flush() {
    if (flushing) { again = true; return; }
    flushing = true;
    clearTimeout(retryTimer);
    let failed = false;
    try {
      let items = queue();
      while (items.length) {
        const item = items[0];
        const response = await send(item);
        if (retryable(response)) { failed = true; break; }
        uploaded(item, describe(item, response));
        items = queue().filter((i) => i.nonce !== item.nonce);
        saveQueue(items);
      }
    } finally {
      flushing = false;
    }
    if (again) { again = false; flush(); return; }
    if (failed) {
      retryTimer = setTimeout(flush, retryMs);
      retryMs = Math.min(retryMs * 2, 15000);
    } else {
      retryMs = 1000;
    }
  }

  async function onCode(code) {
    keepFocus();
    const where = choice.current();
    if (!where.list) { show("bad", _("Choose a check-in list"), ""); return; }
    const item = {org: where.org, list: where.list, secret: code, type: mode, nonce: Door.uuid(),
                  datetime: new Date().toISOString()};
    show("pending", _("Checking…"), "", "", item.nonce);
    const response = await send(item);
    if (retryable(response)) {
      saveQueue(queue().concat([item]));
      if (!flushing) { clearTimeout(retryTimer); retryTimer = setTimeout(flush, retryMs); }
      if (shownNonce === item.nonce) {
        show("pending", _("Saved offline"), _("Not verified yet: will upload when back online"), "", item.nonce);
      }
      remember("pending", _("(offline) waiting to upload"), item.nonce);
      window.PlauditQR.beep(false);
      return;
    }
    const result = describe(item, response);
    // A later scan may already own the box: only the newest scan's answer is shown big.
    if (shownNonce === item.nonce) show(result.ok ? "ok" : "bad", result.title, result.detail, result.extra, item.nonce);
    remember(result.ok ? "ok" : "bad", result.title + (result.detail ? " · " + result.detail : ""), item.nonce);
    window.PlauditQR.beep(result.ok);
  }

  modeButton.addEventListener("click", () => { setMode(mode === "entry" ? "exit" : "entry"); keepFocus(); });
  typed = window.PlauditQR.attachTypedScanner(field, onCode, {repeatMs: REPEAT_MS});

  const cameraButton = $("door-camera"), video = $("door-video");
  function stopCamera() {
    if (camera) camera.stop();
    camera = null;
    video.hidden = true;
    cameraButton.textContent = _("Use camera");
  }
  cameraButton.addEventListener("click", () => {
    if (camera) { stopCamera(); keepFocus(); return; }
    video.hidden = false;
    cameraButton.textContent = _("Stop camera");
    camera = window.PlauditQR.start({video, onCode, repeatMs: REPEAT_MS,
      onError: (err) => { stopCamera(); show("bad", _("Camera unavailable"), String(err && err.message || err)); }});
    keepFocus();
  });
  window.PlauditQR.hasCamera().then((yes) => { cameraButton.hidden = !yes; });

  window.addEventListener("online", flush);
  setInterval(flush, 15000);
  setMode(mode);
  saveQueue(queue());
  flush();
})();
