/* Participant claim scanner (/claim/): camera through PlauditQR, or a pasted/typed code.
 * Shows "+N points" or the reason for a refusal, then resumes scanning by itself. */
(function () {
  "use strict";
  const root = document.getElementById("claim");
  if (!root) return;
  const result = document.getElementById("claim-result");
  const input = document.getElementById("claim-input");
  const status = document.getElementById("claim-camera-status");
  const csrf = root.querySelector("[name=csrfmiddlewaretoken]").value;
  const REPEAT_MS = 2500;
  const _ = window.gettext || ((t) => t);
  const fmt = (text, values) => (window.interpolate ? window.interpolate(text, values, true) : text);
  let scanner = null, busy = false;

  function show(ok, text, sub) {
    result.className = "result " + (ok ? "ok" : "bad");
    result.textContent = text;
    if (sub) {
      const small = document.createElement("span");
      small.className = "sub";
      small.textContent = sub;
      result.appendChild(small);
    }
    if (window.PlauditQR) window.PlauditQR.beep(ok);
  }

  async function claim(code) {
    if (busy || !code) return;
    busy = true;
    if (scanner) scanner.pause();
    try {
      const response = await fetch(root.dataset.claimUrl, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json"},
        body: JSON.stringify({code: code}),
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        show(true, fmt(_("+%(points)s points"), {points: body.points}),
          fmt(_("%(description)s · balance %(balance)s"), {description: body.description, balance: body.balance}));
      } else {
        show(false, body.detail || _("Could not claim this code."), body.code || String(response.status));
      }
    } catch (err) {
      show(false, _("No connection. Try again."), "network_error");
    } finally {
      busy = false;
      // Resume by ourselves: the same code is ignored for REPEAT_MS anyway (PlauditQR de-duplicates).
      if (scanner) setTimeout(() => scanner.resume(), 600);
    }
  }

  window.PlauditQR.attachTypedScanner(input, claim, {repeatMs: REPEAT_MS});
  document.getElementById("claim-submit").addEventListener("click", () => {
    const code = input.value.trim();
    input.value = "";
    claim(code);
  });

  const video = document.getElementById("claim-video");
  window.PlauditQR.hasCamera().then((yes) => {
    if (!yes) { status.textContent = _("No camera here: type or paste the code."); return; }
    video.hidden = false;
    scanner = window.PlauditQR.start({
      video, onCode: claim, repeatMs: REPEAT_MS,
      onError: (err) => {
        video.hidden = true;
        status.textContent = fmt(_("Camera unavailable (%(why)s): type or paste the code."), {why: err.name || err});
      },
    });
  });
  // Opened from a phone's own camera app: the code is in the URL.
  if (root.dataset.code) {
    history.replaceState(null, "", location.pathname);  // a reload must not claim again
    claim(root.dataset.code);
  }
})();
