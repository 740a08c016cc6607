/* The fan zone (/me/): username, avatar, rewards store with a confirmation before spending, and the
 * member's redemptions with what an approval delivers (coupon code, download link, licence key, note). */
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("fz-data").textContent);
  // The level badge wears its title band's colour (engagement/levels.py): set through the CSSOM, which the
  // Content-Security-Policy allows, rather than an inline style attribute.
  document.querySelectorAll("[data-level-color]").forEach((badge) => {
    badge.style.setProperty("--level-color", badge.dataset.levelColor);
  });
  const _ = window.gettext || ((s) => s);
  const fmt = (text, values) => (window.interpolate ? window.interpolate(text, values, true) : text);
  const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));
  const lang = document.documentElement.lang || undefined;
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const $ = (id) => document.getElementById(id);
  const STATUS = {pending: _("Pending"), approved: _("Approved"), rejected: _("Rejected"), fulfilled: _("Fulfilled")};
  const TYPES = {avatar_static: _("Avatar"), avatar_animated: _("Animated avatar"),
    avatar_upload_unlock: _("Own picture upload"), merch_coupon: _("Coupon"), merch_physical: _("Merchandise"),
    merch_digital: _("Digital goods"), custom: _("Special")};
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

  const REFUSALS = {reward_expired: _("This offer has ended."), reward_not_yet_available: _("This offer has not started yet."),
    reward_member_limit: _("You have redeemed it as many times as allowed.")};

  function errorText(result) {
    if (result.status === 404) { return _("Not available right now."); }
    if (result.json && REFUSALS[result.json.code]) { return REFUSALS[result.json.code]; }
    return (result.json && result.json.detail) || _("That did not work. Try again.");
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
    if (result.ok) { showProfile(result.json); say($("username-status"), _("Saved."), true); }
    else { say($("username-status"), errorText(result), false); $("username-status").dataset.code = result.json.code || ""; }
  });
  $("show-on-leaderboard").addEventListener("change", async (event) => {
    const result = await api("PATCH", "/api/v1/engagement/profile", {show_on_leaderboard: event.target.checked});
    say($("username-status"), result.ok ? _("Saved.") : errorText(result), result.ok);
  });

  // --- Avatars ----------------------------------------------------------------------------------------------
  async function useAvatar(field, url, statusEl) {
    const body = {}; body[field] = url;
    const result = await api("PATCH", "/api/v1/engagement/avatar", body);
    if (result.ok) { showProfile(result.json); say(statusEl, _("Avatar updated."), true); }
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
      if (result.ok) { showProfile(result.json); say($("avatar-status"), _("Avatar updated."), true); }
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

  // --- My redemptions: the status in colour, and what an approval delivers ---------------------------------
  function deliveryList(r) {
    const d = r.delivery || {};
    const rows = [];
    if (d.coupon_code) rows.push([_("Coupon code"), el("code", {text: d.coupon_code})]);
    if (d.expires_on) rows.push([_("Valid until"), el("span", {text: new Date(d.expires_on).toLocaleDateString(lang)})]);
    if (d.download_url) rows.push([_("Download"), el("a", {href: d.download_url, rel: "noopener", text: d.download_url})]);
    if (d.licence_key) rows.push([_("Licence key"), el("code", {text: d.licence_key})]);
    if (r.note) rows.push([_("Note from the team"), el("span", {text: r.note})]);
    if (!rows.length) return null;
    const dl = el("dl", {"class": "fz-delivery"});
    rows.forEach(([label, value]) => { dl.appendChild(el("dt", {text: label})); dl.appendChild(el("dd", {}, [value])); });
    return dl;
  }

  function showRedemptions(redemptions) {
    const list = $("redemptions");
    list.replaceChildren();
    if (!redemptions.length) { list.appendChild(el("li", {"class": "muted", text: _("Nothing redeemed yet.")})); return; }
    redemptions.forEach((r) => {
      const when = new Date(r.created_at).toLocaleDateString(lang);
      const head = el("div", {"class": "fz-redemption-head"}, [
        el("span", {}, [el("strong", {text: r.reward.name}), el("br"), el("span", {"class": "muted fz-small", text: when})]),
        el("span", {"class": "badge status-" + r.status, text: STATUS[r.status] || r.status})]);
      const item = el("li", {"class": "fz-redemption", "data-status": r.status}, [head]);
      const details = deliveryList(r);
      if (details) item.appendChild(details);
      list.appendChild(item);
    });
  }

  async function loadRedemptions() {
    const result = await api("GET", "/api/v1/engagement/redemptions");
    if (!result.ok) { $("redemptions").replaceChildren(el("li", {"class": "muted", text: _("Not available right now.")})); return; }
    const items = Array.isArray(result.json) ? result.json : (result.json.items || result.json.results || []);
    showRedemptions(items);
    showOwnedAvatars(items);
  }

  // --- Rewards store: spending asks first ---------------------------------------------------------------------
  async function redeem(reward, box) {
    box.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    const key = "fz-" + reward.id + "-" + Date.now() + "-" + Math.random().toString(16).slice(2);
    const result = await api("POST", "/api/v1/engagement/redeem", {reward_id: reward.id}, {"Idempotency-Key": key});
    if (result.ok) {
      // Redraw the store first and speak last: a click made while the list is being rebuilt would land
      // on a button that is about to disappear.
      const profile = await api("GET", "/api/v1/engagement/profile");
      if (profile.ok) { showProfile(profile.json); }
      await loadRewards();
      await loadRedemptions();
      const text = result.json.status === "approved" ? _("%(name)s is yours!") : _("%(name)s requested: waiting for approval.");
      say($("store-status"), fmt(text, {name: reward.name}), true);
    } else {
      say($("store-status"), errorText(result), false);
      await loadRewards();
    }
  }

  function askFirst(reward, box) {
    const question = el("span", {"class": "fz-small", text: fmt(ngettext("Spend %(n)s point on this?",
      "Spend %(n)s points on this?", reward.cost_points), {n: reward.cost_points})});
    const yes = el("button", {"class": "btn primary", type: "button", "data-confirm": reward.id, text: _("Yes, redeem")});
    const no = el("button", {"class": "btn", type: "button", text: _("Cancel")});
    yes.addEventListener("click", () => redeem(reward, box));
    no.addEventListener("click", () => box.replaceChildren(offerButton(reward, box)));
    box.replaceChildren(question, yes, no);
    yes.focus();
  }

  // An XP-only reward spends nothing (the member needs that much XP, which never goes down), so it
  // needs no confirmation.
  const xpOnly = (reward) => reward.cost_type === "xp";

  function offerButton(reward, box) {
    const text = xpOnly(reward) ? fmt(_("Free from %(n)s XP"), {n: reward.cost_points})
      : fmt(ngettext("Redeem for %(n)s point", "Redeem for %(n)s points", reward.cost_points), {n: reward.cost_points});
    const button = el("button", {"class": "btn primary", type: "button", "data-reward": reward.id, text: text});
    button.addEventListener("click", () => (xpOnly(reward) ? redeem(reward, box) : askFirst(reward, box)));
    return button;
  }

  function rewardAction(reward) {
    const box = el("div", {"class": "fz-confirm"});
    const missing = reward.cost_points - (xpOnly(reward) ? data.xp : points);
    if (missing > 0) {
      const need = xpOnly(reward) ? fmt(_("%(n)s more XP needed"), {n: missing})
        : fmt(ngettext("%(n)s more point needed", "%(n)s more points needed", missing), {n: missing});
      box.appendChild(el("span", {"class": "fz-need", "data-need": reward.id, text: need}));
    } else {
      box.appendChild(offerButton(reward, box));
    }
    return box;
  }

  // A limited-time offer shows when it ends (or, before its window, when it starts) as a countdown;
  // countdown.js ticks it and tells us when it reaches zero.
  function countdown(seconds, iso) {
    const node = el("time", {"data-countdown": "", "data-seconds": String(seconds), datetime: iso || ""});
    if (window.plauditCountdown) { window.plauditCountdown.watch(node); }
    return node;
  }

  function timing(reward) {
    const line = el("span", {"class": "fz-small fz-timing"});
    if (!reward.available_now && reward.starts_in !== null) {
      line.append(_("Starts in") + " ", countdown(reward.starts_in, reward.available_from));
      line.dataset.state = "upcoming";
    } else if (reward.seconds_left !== null && reward.seconds_left !== undefined) {
      line.append(_("Ends in") + " ", countdown(reward.seconds_left, reward.available_until));
      line.dataset.state = "open";
    } else {
      return null;
    }
    return line;
  }

  function limitNote(reward) {
    if (reward.remaining === null || reward.remaining === undefined) { return null; }
    const text = reward.remaining > 0
      ? fmt(ngettext("You can redeem it %(n)s more time", "You can redeem it %(n)s more times", reward.remaining), {n: reward.remaining})
      : _("You have redeemed it as many times as allowed.");
    return el("span", {"class": "fz-small muted fz-limit", "data-remaining": String(reward.remaining), text: text});
  }

  function storeItem(reward) {
    const stock = reward.stock === -1 || reward.stock === null ? "" : " · " + fmt(_("%(n)s left"), {n: reward.stock});
    const locked = reward.cost_points > (xpOnly(reward) ? data.xp : points);
    const price = xpOnly(reward) ? fmt(_("%(n)s XP, nothing deducted"), {n: reward.cost_points})
      : fmt(ngettext("%(n)s point", "%(n)s points", reward.cost_points), {n: reward.cost_points});
    const info = el("span", {}, [el("strong", {text: reward.name}), el("br"),
      el("span", {"class": "muted", text: price + " · " + (TYPES[reward.type] || reward.type) + stock})]);
    [timing(reward), limitNote(reward)].forEach((extra) => { if (extra) { info.append(el("br"), extra); } });
    const waiting = !reward.available_now || reward.remaining === 0;
    const action = waiting ? el("div", {"class": "fz-confirm"}) : rewardAction(reward);
    const item = el("li", {"class": "fz-reward" + (locked || waiting ? " locked" : ""), "data-reward-id": String(reward.id)},
      [info, action]);
    // An offer that ends while the page is open is marked ended and can no longer be redeemed; one that
    // starts is fetched again so that its button appears.
    item.addEventListener("countdown:done", () => {
      if (!reward.available_now) { loadRewards(); return; }
      item.classList.add("ended", "locked");
      action.replaceChildren(el("span", {"class": "fz-need", text: _("Ended")}));
      const line = item.querySelector(".fz-timing");
      if (line) { line.replaceChildren(_("This offer has ended.")); line.dataset.state = "ended"; }
    });
    return item;
  }

  async function loadRewards() {
    const result = await api("GET", "/api/v1/engagement/rewards?upcoming=true");
    const list = $("rewards");
    list.replaceChildren();
    if (!result.ok) { list.appendChild(el("li", {"class": "muted", text: _("Not available right now.")})); return; }
    const rewards = Array.isArray(result.json) ? result.json : (result.json.items || result.json.results || []);
    if (!rewards.length) { list.appendChild(el("li", {"class": "muted", text: _("No rewards on offer right now.")})); return; }
    rewards.forEach((reward) => list.appendChild(storeItem(reward)));
  }

  // --- Teams of the running season: join (with the team's code when it has one) or leave, then reload -------
  const TEAM_REFUSALS = {join_code_required: _("This team needs its join code."),
    join_code_invalid: _("That join code is not right."), already_in_team: _("You are already in a team this season."),
    season_closed: _("The season is over: teams can no longer change.")};
  const teams = $("season-teams");
  if (teams) {
    teams.addEventListener("click", async (event) => {
      const button = event.target.closest("button[data-team-join], button[data-team-leave]");
      if (!button) { return; }
      const row = button.closest("[data-team]");
      const season = encodeURIComponent(teams.dataset.season);
      button.disabled = true;
      let result;
      if (button.hasAttribute("data-team-join")) {
        const code = row.querySelector("[data-team-code]");
        result = await api("POST", "/api/v1/engagement/teams",
          {season: teams.dataset.season, team: row.dataset.team, code: code ? code.value.trim() : ""});
      } else {
        result = await api("DELETE", "/api/v1/engagement/teams?season=" + season);
      }
      if (result.ok) { window.location.reload(); return; }
      button.disabled = false;
      const status = $("team-status");
      say(status, TEAM_REFUSALS[result.json.code] || errorText(result), false);
      status.dataset.code = result.json.code || "";
    });
  }

  // --- Invite link: copy to the clipboard (select it where the clipboard API is not allowed) ---------------
  $("copy-invite").addEventListener("click", async () => {
    const input = $("invite-link");
    try {
      await navigator.clipboard.writeText(input.value);
      say($("invite-status"), _("Link copied."), true);
    } catch (e) {
      input.select();
      say($("invite-status"), _("Press Ctrl+C (or long-press) to copy the selected link."), true);
    }
  });

  loadRewards();
  loadRedemptions();
})();
