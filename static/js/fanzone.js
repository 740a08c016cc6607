// The fan zone page (/me/): profile, avatar, rewards. Its data comes from the page's #fz-data JSON.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("fz-data").textContent);
  const t = data.text;
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const $ = (id) => document.getElementById(id);
  let points = data.points;

  async function api(method, url, body, extraHeaders) {
    const headers = Object.assign({"X-CSRFToken": csrf, "Accept": "application/json"}, extraHeaders || {});
    const init = {method: method, headers: headers, credentials: "same-origin"};
    if (body instanceof FormData) { init.body = body; }
    else if (body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    const response = await fetch(url, init);
    let json = {};
    try { json = await response.json(); } catch (e) { json = {}; }
    return {ok: response.ok, status: response.status, json: json};
  }

  function say(el, text, ok) {
    el.textContent = text;
    el.className = "fz-status " + (ok ? "ok" : "error");
  }

  function errorText(result) {
    if (result.status === 404) { return t.unavailable; }
    return (result.json && result.json.detail) || t.failed;
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "text") { node.textContent = v; } else { node.setAttribute(k, v); }
    });
    (children || []).forEach((c) => node.appendChild(c));
    return node;
  }

  function showProfile(profile) {
    $("display-name").textContent = profile.username || $("display-name").textContent;
    if (profile.avatar_url) { $("avatar-img").src = profile.avatar_url; }
    points = profile.points;
    $("points").textContent = profile.points;
  }

  // --- Username -------------------------------------------------------------------------------------------
  $("username-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = await api("PATCH", "/api/v1/engagement/profile", {username: $("username-input").value});
    if (result.ok) { showProfile(result.json); say($("username-status"), t.saved, true); }
    else { say($("username-status"), errorText(result), false); $("username-status").dataset.code = result.json.code || ""; }
  });
  $("show-on-leaderboard").addEventListener("change", async (event) => {
    const result = await api("PATCH", "/api/v1/engagement/profile", {show_on_leaderboard: event.target.checked});
    say($("username-status"), result.ok ? t.saved : errorText(result), result.ok);
  });

  // --- Avatars ----------------------------------------------------------------------------------------------
  async function useAvatar(field, url, statusEl) {
    const body = {}; body[field] = url;
    const result = await api("PATCH", "/api/v1/engagement/avatar", body);
    if (result.ok) { showProfile(result.json); say(statusEl, t.avatar_saved, true); }
    else { say(statusEl, errorText(result), false); }
  }
  $("shuffle-avatar").addEventListener("click", () => {
    const seed = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("");
    $("random-avatar").src = data.random_avatar_template.replace("{seed}", seed);
  });
  $("use-random-avatar").addEventListener("click", () => useAvatar("avatar_url", $("random-avatar").src, $("avatar-status")));
  const upload = $("upload-form");
  if (upload) {
    upload.addEventListener("submit", async (event) => {
      event.preventDefault();
      const result = await api("POST", "/api/v1/engagement/avatar/upload", new FormData(upload));
      if (result.ok) { showProfile(result.json); say($("avatar-status"), t.avatar_saved, true); }
      else { say($("avatar-status"), errorText(result), false); }
    });
  }

  function showOwnedAvatars(redemptions) {
    const owned = redemptions.filter((r) => ["approved", "fulfilled"].includes(r.status) &&
      ["avatar_static", "avatar_animated"].includes(r.reward.type) && r.reward.image_url);
    if (!owned.length) { return; }
    const box = $("owned-avatars");
    box.replaceChildren();
    const seen = new Set();
    owned.forEach((r) => {
      if (seen.has(r.reward.image_url)) { return; }
      seen.add(r.reward.image_url);
      const field = r.reward.type === "avatar_animated" ? "animated_avatar_url" : "avatar_url";
      const button = el("button", {type: "button", title: r.reward.name, "aria-label": r.reward.name},
        [el("img", {src: r.reward.image_url, alt: ""})]);
      button.addEventListener("click", () => useAvatar(field, r.reward.image_url, $("avatar-status")));
      box.appendChild(button);
    });
  }

  // --- Rewards store (the rewards app's API) ---------------------------------------------------------------
  function showRedemptions(redemptions) {
    const list = $("redemptions");
    list.replaceChildren();
    if (!redemptions.length) { list.appendChild(el("li", {"class": "muted", text: t.no_redemptions})); return; }
    redemptions.forEach((r) => {
      const label = (t.status[r.status] || r.status);
      list.appendChild(el("li", {"class": "fz-reward", "data-status": r.status},
        [el("span", {text: r.reward.name}), el("span", {"class": "badge", text: label})]));
    });
  }

  async function loadRedemptions() {
    const result = await api("GET", "/api/v1/engagement/redemptions");
    if (!result.ok) { $("redemptions").replaceChildren(el("li", {"class": "muted", text: t.unavailable})); return; }
    const items = Array.isArray(result.json) ? result.json : (result.json.items || result.json.results || []);
    showRedemptions(items);
    showOwnedAvatars(items);
  }

  async function redeem(reward, button) {
    button.disabled = true;
    const key = "fz-" + reward.id + "-" + Date.now() + "-" + Math.random().toString(16).slice(2);
    const result = await api("POST", "/api/v1/engagement/redeem", {reward_id: reward.id}, {"Idempotency-Key": key});
    if (result.ok) {
      say($("store-status"), (result.json.status === "approved" ? t.redeemed : t.pending).replace("%s", reward.name), true);
      const profile = await api("GET", "/api/v1/engagement/profile");
      if (profile.ok) { showProfile(profile.json); }
      await loadRedemptions();
      await loadRewards();
    } else {
      say($("store-status"), errorText(result), false);
      button.disabled = false;
    }
  }

  async function loadRewards() {
    const result = await api("GET", "/api/v1/engagement/rewards");
    const list = $("rewards");
    list.replaceChildren();
    if (!result.ok) { list.appendChild(el("li", {"class": "muted", text: t.unavailable})); return; }
    const rewards = Array.isArray(result.json) ? result.json : (result.json.items || result.json.results || []);
    if (!rewards.length) { list.appendChild(el("li", {"class": "muted", text: t.no_rewards})); return; }
    rewards.forEach((reward) => {
      // XP-only rewards cost nothing: the member needs that much XP (which never goes down).
      const xpOnly = reward.cost_type === "xp";
      const button = el("button", {"class": "btn primary", type: "button", "data-reward": reward.id,
        text: (xpOnly ? t.redeem_xp : t.redeem).replace("%s", reward.cost_points)});
      if (reward.cost_points > (xpOnly ? data.xp : points)) {
        button.disabled = true; button.title = xpOnly ? t.not_enough_xp : t.not_enough;
      }
      button.addEventListener("click", () => redeem(reward, button));
      const stock = reward.stock === -1 || reward.stock === null ? "" : " · " + t.left.replace("%s", reward.stock);
      list.appendChild(el("li", {"class": "fz-reward"}, [
        el("span", {}, [el("strong", {text: reward.name}), el("br"),
          el("span", {"class": "muted", text: (t.types[reward.type] || reward.type) + stock})]),
        button]));
    });
  }

  loadRewards();
  loadRedemptions();
})();
