/* Plaudit camera QR scanning, shared by the door scanner and the participant claim scanner.
 *
 *   const scanner = PlauditQR.start({video, onCode, repeatMs: 2000});
 *   scanner.pause(); scanner.resume(); scanner.forget(); scanner.stop();
 *
 * Decodes with the browser's BarcodeDetector where it exists, otherwise with jsQR (installed from the
 * npm registry by `make static`, served from /static/vendor/jsqr/jsQR.js, which the page must load).
 * The same code read again within `repeatMs` is ignored: a phone held over a ticket sees it many times.
 */
(function () {
  "use strict";

  function makeDecoder() {
    if ("BarcodeDetector" in window) {
      const detector = new window.BarcodeDetector({formats: ["qr_code"]});
      return async (video) => {
        const codes = await detector.detect(video);
        return codes.length ? codes[0].rawValue : null;
      };
    }
    const canvas = document.createElement("canvas");
    const ctx = canvas.getContext("2d", {willReadFrequently: true});
    return async (video) => {
      if (!window.jsQR || !video.videoWidth) return null;
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
      const code = window.jsQR(image.data, image.width, image.height, {inversionAttempts: "dontInvert"});
      return code ? code.data : null;
    };
  }

  function start({video, onCode, onError, repeatMs = 2000, intervalMs = 150}) {
    let stream = null, timer = null, paused = false, busy = false;
    const recent = new Map();  // code -> last time seen
    const decode = makeDecoder();

    function seenRecently(code, now) {
      const last = recent.get(code);
      recent.set(code, now);
      for (const [k, t] of recent) if (now - t > repeatMs) recent.delete(k);
      return last !== undefined && now - last < repeatMs;
    }

    async function tick() {
      if (paused || busy || !stream) return;
      busy = true;
      try {
        const code = await decode(video);
        if (code && !seenRecently(code, Date.now())) onCode(code);
      } catch (err) {
        if (onError) onError(err);
      } finally {
        busy = false;
      }
    }

    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false})
      .then((s) => {
        stream = s;
        video.srcObject = s;
        video.setAttribute("playsinline", "");
        return video.play();
      })
      .then(() => { timer = setInterval(tick, intervalMs); })
      .catch((err) => { if (onError) onError(err); });

    return {
      pause() { paused = true; },
      resume() { paused = false; },
      forget() { recent.clear(); },
      stop() {
        clearInterval(timer);
        if (stream) stream.getTracks().forEach((t) => t.stop());
        stream = null;
      },
      seenRecently,
    };
  }

  /* A keyboard-wedge (USB/Bluetooth) scanner "types" the code and presses Enter. It types wherever the
   * focus is: into the code field, or, after a click on a button or a heading, into the page itself. So we
   * listen on the field and also keep a page-wide keystroke buffer that an Enter ends; the buffer ignores
   * other text fields (a name search) and forgets keys that come more than BUFFER_GAP_MS apart (a person
   * pressing keys on the page, not a scanner). An Enter that ends a buffered code is swallowed, so it never
   * presses the focused button (that Enter used to switch the door's camera off).
   *
   * Returns {reset()}: forget the recent codes, so the same code is accepted again at once (the door
   * calls it when the mode changes: an exit right after an entry is a real scan, not a double read). */
  const BUFFER_GAP_MS = 800;

  function isTextField(el) {
    if (!el || !el.tagName) return false;
    const tag = el.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select" || el.isContentEditable) return true;
    return tag === "input" && !["button", "submit", "checkbox", "radio", "reset", "file"].includes(el.type);
  }

  function attachTypedScanner(input, onCode, {repeatMs = 2000, pageWide = true} = {}) {
    const recent = new Map();
    let buffer = "", lastKey = 0;

    function accept(raw) {
      const code = raw.trim();
      if (!code) return;
      const now = Date.now(), last = recent.get(code);
      recent.set(code, now);
      if (last !== undefined && now - last < repeatMs) return;
      onCode(code);
    }

    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      const code = input.value;
      input.value = "";
      accept(code);
    });

    if (pageWide) {
      document.addEventListener("keydown", (event) => {
        if (event.target === input || isTextField(event.target)) return;
        if (event.ctrlKey || event.metaKey || event.altKey) return;
        const now = Date.now();
        if (now - lastKey > BUFFER_GAP_MS) buffer = "";
        lastKey = now;
        if (event.key === "Enter") {
          if (!buffer) return;  // a person pressing Enter on a button: let the button work
          event.preventDefault();
          event.stopPropagation();
          const code = buffer;
          buffer = "";
          accept(code);
        } else if (event.key.length === 1) {
          buffer += event.key;
          event.preventDefault();  // a space inside a code must not press the focused button
        }
      }, true);
    }

    return {reset() { recent.clear(); buffer = ""; }};
  }

  /* Whether this device has a camera at all (no permission prompt: only counts devices). */
  async function hasCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return false;
    if (!navigator.mediaDevices.enumerateDevices) return true;
    try {
      const devices = await navigator.mediaDevices.enumerateDevices();
      return devices.some((d) => d.kind === "videoinput");
    } catch (e) {
      return false;
    }
  }

  /* A short beep: high for success, low for a refusal. No audio files needed. */
  function beep(ok) {
    try {
      const ctx = beep.ctx || (beep.ctx = new (window.AudioContext || window.webkitAudioContext)());
      const osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = ok ? 880 : 220;
      gain.gain.value = 0.15;
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + (ok ? 0.12 : 0.35));
    } catch (e) { /* no audio on this device */ }
  }

  window.PlauditQR = {start, attachTypedScanner, hasCamera, beep};
})();
