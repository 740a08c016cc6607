/* Public leaderboard (/board/): refresh every N seconds (0 = off) by fetching JSON and patching the
 * table in place. Rows are keyed by user id and moved, never rebuilt, so a big screen does not flicker.
 * One clock: every "Updated at", the first included, is the server's stamp shown in the browser's time. */
(function () {
  "use strict";
  const root = document.getElementById("board");
  if (!root) return;
  const _ = window.gettext || ((s) => s);
  const lang = document.documentElement.lang || undefined;
  const updated = document.getElementById("board-updated");

  function showStamp(iso) {
    updated.dataset.at = iso;
    const time = document.createElement("time");
    time.dateTime = iso;
    time.textContent = new Date(iso).toLocaleTimeString(lang, {hour: "2-digit", minute: "2-digit", second: "2-digit"});
    updated.replaceChildren(document.createTextNode(_("Updated at") + " "), time);
  }
  showStamp(updated.dataset.at);

  const full = document.getElementById("board-fullscreen");
  if (full && document.fullscreenEnabled) {
    full.hidden = false;
    full.addEventListener("click", () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else document.documentElement.requestFullscreen().catch(() => {});
    });
  }

  const seconds = Number(root.dataset.refresh);
  if (!seconds) return;
  const tbody = document.getElementById("board-rows");
  const params = new URLSearchParams({limit: root.dataset.limit, window: root.dataset.window});
  if (root.dataset.activity) params.set("activity", root.dataset.activity);
  if (root.dataset.season) {  // a season has no window; team rows are keyed "team:<slug>"
    params.delete("window");
    params.set("season", root.dataset.season);
    if (root.dataset.team) params.set("team", "1");
  }

  function setText(cell, text) {
    if (cell.textContent !== text) cell.textContent = text;  // untouched cells are not repainted
  }

  function rowFor(item) {
    const key = String(item.key || item.user_id);
    let row = Array.from(tbody.children).find((r) => r.dataset.user === key);
    if (!row) {
      row = document.createElement("tr");
      row.dataset.user = key;
      ["rank", "name", "num value"].forEach((cls) => {
        const cell = document.createElement("td");
        cell.className = cls;
        row.appendChild(cell);
      });
    }
    return row;
  }

  function patch(body) {
    const keep = new Set();
    body.items.forEach((item, index) => {
      const row = rowFor(item);
      keep.add(row);
      setText(row.cells[0], String(item.rank));
      setText(row.cells[1], item.name);
      setText(row.cells[2], String(item.value));
      const cls = (item.rank <= 3 ? "top" + item.rank : "") + (item.me ? " highlight" : "");
      if (row.className !== cls.trim()) row.className = cls.trim();
      if (tbody.children[index] !== row) tbody.insertBefore(row, tbody.children[index] || null);
    });
    Array.from(tbody.children).forEach((row) => {
      if (!keep.has(row) && (body.items.length || !row.classList.contains("empty"))) row.remove();
    });
    showStamp(body.updated_at);
  }

  async function refresh() {
    try {
      const response = await fetch(root.dataset.url + "?" + params, {headers: {"Accept": "application/json"}});
      if (response.ok) patch(await response.json());
    } catch (err) { /* keep showing the last board; try again next time */ }
  }

  setInterval(refresh, seconds * 1000);
})();
