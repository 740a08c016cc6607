/* Every page: progress bars take their width from data-percent (a style="" attribute would be refused by
 * the Content-Security-Policy, setting the property from a script is not). */
(function () {
  "use strict";
  function bars(root) {
    (root || document).querySelectorAll(".bar[data-percent]").forEach((bar) => {
      bar.style.width = Math.max(0, Math.min(100, Number(bar.dataset.percent) || 0)) + "%";
    });
  }
  window.PlauditBars = bars;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => bars());
  else bars();
})();
