/* Countdowns for limited-time offers: <time data-countdown data-seconds="N" datetime="ISO">.
 *
 * The server sends both the end time and the seconds left. We count down from the seconds (taken
 * when the element is watched), so a phone whose clock is wrong still shows the right time; the
 * datetime attribute stays for screen readers and as the fallback. When a countdown reaches zero the
 * element gets data-countdown-done, shows its data-done-text if it has one, and fires a bubbling "countdown:done" event for the page to react. */
(function () {
  "use strict";
  const _ = window.gettext || ((s) => s);
  const fmt = (text, values) => (window.interpolate ? window.interpolate(text, values, true) : text);
  const watched = new Map();  // element → deadline in ms on this page's monotonic clock

  function describe(seconds) {
    const d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600);
    const m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    const pad = (n) => String(n).padStart(2, "0");
    if (d > 0) { return fmt(_("%(d)sd %(h)sh"), {d: d, h: h}); }
    return h > 0 ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }

  function tick() {
    const now = performance.now();
    watched.forEach((deadline, node) => {
      if (!node.isConnected) { watched.delete(node); return; }
      const left = Math.max(0, Math.ceil((deadline - now) / 1000));
      node.textContent = describe(left);
      if (left === 0) {
        watched.delete(node);
        node.dataset.countdownDone = "";
        if (node.dataset.doneText) { node.textContent = node.dataset.doneText; }
        node.dispatchEvent(new CustomEvent("countdown:done", {bubbles: true}));
      }
    });
  }

  function watch(node) {
    let seconds = parseInt(node.dataset.seconds, 10);
    if (Number.isNaN(seconds)) { seconds = Math.round((Date.parse(node.getAttribute("datetime")) - Date.now()) / 1000); }
    if (Number.isNaN(seconds)) { return; }
    watched.set(node, performance.now() + Math.max(0, seconds) * 1000);
    tick();
  }

  window.plauditCountdown = {watch: watch, describe: describe};
  document.querySelectorAll("time[data-countdown]").forEach(watch);
  setInterval(tick, 1000);
})();
