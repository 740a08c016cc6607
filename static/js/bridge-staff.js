/* Staff attribution (/staff/attribution/): identify a member (personal QR or name search), award by
 * template or a typed amount with a reason, show the new balance, then get ready for the next person. */
(function () {
  "use strict";
  const root = document.getElementById("attrib");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const _ = window.gettext || ((t) => t);
  const fmt = (text, values) => (window.interpolate ? window.interpolate(text, values, true) : text);
  const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));
  // A USB scanner types into the code field: on a laptop it keeps the focus (on load, after an award,
  // after "Next person"); on a phone the page-wide buffer catches scans without opening the keyboard.
  const focusCode = () => { if (window.matchMedia("(pointer: fine)").matches && !identify.hidden) $("attrib-code").focus(); };
  const csrf = root.querySelector("[name=csrfmiddlewaretoken]").value;
  const identify = $("step-identify"), award = $("step-award"), result = $("attrib-result");
  const template = $("attrib-template"), points = $("attrib-points"), reason = $("attrib-reason");
  let member = null, scanner = null, busy = false, searchTimer = null;

  async function call(url, options) {
    const response = await fetch(url, Object.assign({credentials: "same-origin", headers: {
      "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json"}}, options || {}));
    const body = await response.json().catch(() => ({}));
    return {ok: response.ok, body: body};
  }

  function showResult(ok, text) {
    result.hidden = false;
    result.className = "result " + (ok ? "ok" : "bad");
    result.textContent = text;
    window.PlauditQR.beep(ok);
  }

  function choose(found) {
    member = found;
    $("attrib-who").textContent = found.name;
    $("attrib-balance").textContent = fmt(ngettext("%(n)s point", "%(n)s points", found.points), {n: found.points});
    identify.hidden = true;
    award.hidden = false;
    $("attrib-award-error").textContent = "";
    if (scanner) scanner.pause();
    syncFields();
    (template.value ? $("attrib-submit") : points).focus();
  }

  function reset() {
    member = null;
    award.reset();
    award.hidden = true;
    identify.hidden = false;
    $("attrib-found").innerHTML = "";
    $("attrib-search").value = "";
    $("attrib-identify-error").textContent = "";
    syncFields();
    if (scanner) scanner.resume();
    focusCode();
  }

  async function resolve(code) {
    if (busy || !code) return;
    busy = true;
    try {
      const {ok, body} = await call(root.dataset.resolveUrl, {method: "POST", body: JSON.stringify({code: code})});
      if (ok) choose(body);
      else $("attrib-identify-error").textContent = body.detail || _("Unknown code.");
    } catch (err) {
      $("attrib-identify-error").textContent = _("No connection. Try again.");
    } finally {
      busy = false;
    }
  }

  async function search() {
    const q = $("attrib-search").value.trim();
    const list = $("attrib-found");
    if (q.length < 2) { list.innerHTML = ""; return; }
    const {ok, body} = await call(root.dataset.searchUrl + "?q=" + encodeURIComponent(q));
    list.innerHTML = "";
    (ok ? body.items : []).forEach((found) => {
      const item = document.createElement("li"), button = document.createElement("button");
      button.type = "button";
      button.className = "btn";
      button.textContent = found.name + " (" + found.username + ") · " + found.points;
      button.addEventListener("click", () => choose(found));
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function syncFields() {
    const option = template.selectedOptions[0];
    const manualTemplate = option && option.dataset.manual === "1";
    $("attrib-manual-fields").hidden = Boolean(template.value);
    points.parentNode.querySelector("label[for=attrib-points]").hidden = Boolean(template.value) && !manualTemplate;
    points.hidden = Boolean(template.value) && !manualTemplate;
    reason.required = !template.value;
  }

  async function submit(event) {
    event.preventDefault();
    if (!member || busy) return;
    const data = {user_id: member.user_id};
    if (template.value) data.template = Number(template.value);
    if (!points.hidden && points.value) data.points = Number(points.value);
    if (!template.value) { data.description = reason.value; data.activity = $("attrib-activity").value; }
    busy = true;
    $("attrib-submit").disabled = true;
    try {
      const {ok, body} = await call(root.dataset.addUrl, {method: "POST", body: JSON.stringify(data)});
      if (!ok) { $("attrib-award-error").textContent = body.detail || _("Not awarded."); return; }
      showResult(true, fmt(_("+%(points)s → %(name)s: %(balance)s points"),
        {points: body.points, name: member.name, balance: body.balance}));
      reset();
    } catch (err) {
      $("attrib-award-error").textContent = _("No connection: nothing was awarded. Try again.");
    } finally {
      busy = false;
      $("attrib-submit").disabled = false;
    }
  }

  template.addEventListener("change", syncFields);
  award.addEventListener("submit", submit);
  $("attrib-cancel").addEventListener("click", reset);
  $("attrib-search").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(search, 250); });
  // Page-wide only while we are looking for somebody: on the award step the keys belong to the form.
  const typed = window.PlauditQR.attachTypedScanner($("attrib-code"), (code) => { if (!identify.hidden) resolve(code); },
    {repeatMs: 2500});
  award.addEventListener("reset", () => typed.reset());
  window.PlauditQR.hasCamera().then((yes) => {
    const video = $("attrib-video");
    if (!yes) { video.hidden = true; return; }
    video.hidden = false;
    scanner = window.PlauditQR.start({video, onCode: resolve, repeatMs: 2500,
      onError: () => {
        video.hidden = true;
        $("attrib-camera-status").textContent = _("Camera unavailable: use a scanner, paste or search.");
      }});
    if (identify.hidden) scanner.pause();
  });
  syncFields();
  focusCode();
  if (root.dataset.memberCode) resolve(root.dataset.memberCode);
})();
