/*
 * The opening hall (不见面开标) in the browser: a websocket client that renders the whole page from
 * the server's state (docs/opening-hall.md). The server is the only source of truth: on connect it
 * sends the full state, every change comes as an event carrying the hall's new public snapshot with
 * a version, and the page re-renders from that — so a reload or a reconnect shows exactly where the
 * hall is. Countdowns run on the server's clock (DOMAIN B2). No inline script, no innerHTML.
 */
(function () {
  "use strict";

  var root = document.getElementById("hall");
  if (!root) { return; }
  var labels = JSON.parse(document.getElementById("hall-labels").textContent);
  var role = root.dataset.role;
  var hall = null;          // the public snapshot, replaced whenever a newer version arrives
  var me = null;            // the personal part, replaced by each full state
  var offset = 0;           // server time minus this browser's time, in ms
  var socket = null;
  var attempt = 0;
  var stopped = false;
  var key = null;           // the bidder's key, loaded from its key file, kept in memory only
  var nextId = 1;
  var lastDue = null;

  function msg(name) { return root.dataset["msg" + name.replace(/(^|-)(\w)/g, function (m, d, c) { return c.toUpperCase(); })] || ""; }
  function $(id) { return document.getElementById(id); }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function now() { return Date.now() + offset; }
  function syncClock(serverTime) { if (serverTime) { offset = Date.parse(serverTime) - Date.now(); } }
  function when(iso) {
    if (!iso) { return ""; }
    var d = new Date(iso);
    var p = function (n) { return String(n).padStart(2, "0"); };
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  }
  function notice(text, isError) {
    var node = $("hall-notice");
    node.textContent = text || "";
    node.className = isError ? "message message-error" : (text ? "message message-success" : "");
  }
  function show(id, visible) { var node = $(id); if (node) { node.hidden = !visible; } }

  // --- the socket -----------------------------------------------------------------------------------

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    $("hall-conn").textContent = attempt ? msg("reconnecting") : msg("connecting");
    socket = new WebSocket(scheme + location.host + root.dataset.wsPath);
    socket.onopen = function () { attempt = 0; $("hall-conn").textContent = msg("connected"); };
    socket.onmessage = function (e) { receive(JSON.parse(e.data)); };
    socket.onclose = function (e) {
      socket = null;
      if (e.code === 4401 || e.code === 4403 || e.code === 4404) {
        stopped = true;
        $("hall-conn").textContent = msg("refused");
        return;
      }
      if (stopped) { return; }
      $("hall-conn").textContent = msg("reconnecting");
      // Exponential backoff with jitter, so a restarted server is not hit by every client at once.
      var delay = Math.min(15000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      attempt += 1;
      setTimeout(connect, delay);
    };
  }

  function send(message) {
    if (!socket || socket.readyState !== WebSocket.OPEN) { return false; }
    message.id = nextId++;
    socket.send(JSON.stringify(message));
    return true;
  }

  function receive(m) {
    syncClock(m.server_time);
    if (m.type === "state") {
      hall = m.hall;
      me = m.me;
      render();
    } else if (m.type === "event") {
      if (!hall || m.version >= hall.version) { hall = m.hall; render(); }
    } else if (m.type === "error") {
      notice(msg("failed") + ": " + (m.error.message || m.error.code), true);
      root.dataset.lastError = m.error.code;
    } else if (m.type === "tock") {
      if (hall) { render(); }
    } else if (m.type === "ok") {
      var done = { decrypt: "decrypted", signin: "signed-in", confirm: "confirmed" }[m.action];
      notice(done ? msg(done) : "", false);
    }
  }

  // --- rendering ------------------------------------------------------------------------------------

  function render() {
    var phase = hall.phase;
    root.dataset.phase = phase;
    root.dataset.version = hall.version;
    $("hall-phase").textContent = labels.phase[phase] || phase;
    $("hall-phase").dataset.phase = phase;
    $("hall-version").textContent = "v" + hall.version;
    $("hall-host").textContent = hall.host || "—";
    var steps = document.querySelectorAll("#hall-steps li");
    steps.forEach(function (li) {
      li.classList.toggle("current", li.dataset.phase === phase);
      li.hidden = li.dataset.phase === "failed" && phase !== "failed";
    });
    var tenderState = (hall.tender && hall.tender.state) || "";
    root.dataset.tenderState = tenderState;
    $("hall-suspended").hidden = tenderState !== "suspended";
    $("hall-failure").hidden = !hall.failure_reason;
    $("hall-failure").textContent = hall.failure_reason || "";
    $("hall-attendance").textContent = hall.attendance === null ? "" : String(hall.attendance);
    renderBidders();
    renderReadout();
    renderObjections();
    renderRecord();
    if (role === "bidder") { renderMe(); }
    if (role === "host") { renderHost(); }
    tickClock();
  }

  function renderBidders() {
    var body = document.querySelector("#hall-bidders tbody");
    body.replaceChildren();
    var rows = hall.bidders.length ? hall.bidders : ((me && me.host && me.host.bidders) || []);
    show("hall-bidders-empty", !rows.length);
    rows.forEach(function (b) {
      var tr = el("tr", null, { "data-entity": b.entity, "data-decryption": b.decryption });
      tr.append(el("td", b.order), el("td", b.name), el("td", when(b.submitted_at)),
        el("td", b.signed_in_at ? when(b.signed_in_at) : msg("no")),
        el("td", labels.decryption[b.decryption] || b.decryption),
        el("td", b.confirmed_at ? (b.signed ? msg("signed") : msg("clicked")) + " " + when(b.confirmed_at) : ""));
      if (role === "host") { tr.append(faultCell(b)); }
      body.append(tr);
    });
  }

  function faultCell(b) {
    var td = el("td");
    var over = hall.decryption_ends_at && now() >= Date.parse(hall.decryption_ends_at);
    if (hall.phase !== "decryption" || !over || ["pending", "failed_bidder", "failed_other"].indexOf(b.decryption) < 0) { return td; }
    var reason = el("input", null, { type: "text", maxlength: "1000", "aria-label": msg("reason-needed") });
    [["bidder", labels.decryption.failed_bidder], ["other", labels.decryption.failed_other]].forEach(function (pair) {
      var button = el("button", pair[1], { type: "button", "class": "button button-secondary" });
      button.addEventListener("click", function () {
        if (!reason.value.trim()) { notice(msg("reason-needed"), true); return; }
        send({ type: "decryption_fault", bid: b.bid, fault: pair[0], reason: reason.value.trim() });
      });
      td.append(button);
    });
    if (hall.custodian) {
      var retry = el("button", "custodian", { type: "button", "class": "button button-secondary" });
      retry.addEventListener("click", function () { send({ type: "custodian_retry", bid: b.bid }); });
      td.append(retry);
    }
    td.append(reason);
    return td;
  }

  function renderReadout() {
    var section = $("hall-readout");
    section.hidden = !hall.readout.length;
    var body = section.querySelector("tbody");
    var signature = JSON.stringify(hall.readout);
    if (section.dataset.signature === signature) { return; }
    section.dataset.signature = signature;
    body.replaceChildren();
    hall.readout.forEach(function (r) {
      var f = r.form || {};
      var pm = f.project_manager || {};
      var items = Object.keys(f.items || {}).map(function (k) { return k + ": " + f.items[k]; }).join("；");
      var tr = el("tr", null, { "data-entity": r.entity });
      tr.append(el("td", r.order), el("td", r.name),
        el("td", r.form ? f.price + " " + f.currency : labels.decryption[r.decryption]),
        el("td", f.duration_days === undefined || f.duration_days === null ? "" : f.duration_days),
        el("td", f.quality || ""), el("td", ((pm.name || "") + " " + (pm.reg_no || "")).trim()), el("td", items));
      body.append(tr);
    });
    // When this browser showed the read-out, on its own clock and the server's (tests compare).
    if (hall.readout.length && !section.dataset.renderedAt) {
      section.dataset.renderedAt = String(Date.now());
      section.dataset.renderedAtServer = String(now());
    }
  }

  function renderObjections() {
    var open = ["bidders", "decryption", "readout"].indexOf(hall.phase) >= 0;
    show("hall-objections-panel", hall.objections.length > 0 || (open && role !== "observer"));
    show("hall-objection-form", open && role === "bidder");
    var list = $("hall-objections");
    list.replaceChildren();
    hall.objections.forEach(function (o) {
      var li = el("li", null, { "data-objection": o.id });
      li.append(el("time", when(o.raised_at)), el("strong", o.name), el("p", o.text));
      if (o.answer) {
        li.append(el("p", "↳ " + o.answer, { "class": "answer" }));
      } else if (o.withdrawn_at) {
        li.append(el("p", msg("withdrawn"), { "class": "muted" }));
      } else {
        li.append(el("p", msg("unanswered"), { "class": "muted" }));
        if (role === "host" && open) { li.append(answerForm(o)); }
        if (role === "bidder" && me && o.entity === me.entity && open) {
          var withdraw = el("button", msg("withdraw"), { type: "button", "class": "link-button" });
          withdraw.addEventListener("click", function () { send({ type: "withdraw_objection", objection: o.id }); });
          li.append(withdraw);
        }
      }
      list.append(li);
    });
  }

  function answerForm(o) {
    var form = el("form", null, { "class": "inline-form" });
    var text = el("input", null, { type: "text", maxlength: "2000", required: "required", "aria-label": "answer" });
    form.append(text, el("button", "↵", { type: "submit", "class": "button" }));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      send({ type: "answer", objection: o.id, text: text.value.trim() });
    });
    return form;
  }

  function renderRecord() {
    var record = hall.record;
    show("hall-record", !!record);
    if (!record) { return; }
    $("hall-record-sha").textContent = record.final ? record.data_sha256 : record.body_sha256;
    $("hall-record-json").href = record.json_url;
    $("hall-record-pdf").hidden = !record.pdf_url;
    if (record.pdf_url) { $("hall-record-pdf").href = record.pdf_url; }
  }

  function renderMe() {
    var bid = me.bid || {};
    var mine = hall.bidders.filter(function (b) { return b.entity === me.entity; })[0];
    var decryption = (mine && mine.decryption) || bid.decryption || "pending";
    $("hall-my-status").textContent = (me.signed_in ? msg("signed-in") + " " : "") + (labels.decryption[decryption] || "");
    var signinOpen = ["signin", "bidders", "decryption"].indexOf(hall.phase) >= 0;
    show("hall-signin-form", signinOpen && !me.signed_in);
    var windowOpen = hall.phase === "decryption" && hall.decryption_ends_at && now() < Date.parse(hall.decryption_ends_at);
    show("hall-key-form", (windowOpen && decryption === "pending" && me.signed_in) ||
      (hall.phase === "confirmation" && !key));
    var confirming = hall.phase === "confirmation" && me.confirmation && !(mine && mine.confirmed_at) &&
      ["ok", "custodian"].indexOf(decryption) >= 0;
    show("hall-confirm", !!confirming);
    if (confirming) { $("hall-record-digest").textContent = me.confirmation.body_sha256; }
    $("hall-decrypt").dataset.mode = hall.phase === "confirmation" ? "load" : "decrypt";
  }

  function renderHost() {
    var view = me.host || {};
    var p = hall.phase;
    var opened = now() >= Date.parse(hall.deadline);
    $("host-counts").textContent = view.bids === undefined ? "" : msg("bids") + ": " + view.bids;
    var shortfall = view.shortfall;
    var asks = shortfall && ((p === "signin" && opened) || p === "decryption");
    show("host-shortfall", !!asks);
    if (asks) {
      $("host-shortfall-text").textContent = shortfall.count + " / " + shortfall.minimum;
      $("host-continue").hidden = shortfall.choices.indexOf("continue") < 0;
    }
    show("host-publish", p === "signin" && opened && !asks);
    show("host-start-decryption", p === "bidders");
    show("host-start-readout", p === "decryption" && !asks);
    show("host-start-confirmation", p === "readout");
    show("host-close", p === "confirmation");
  }

  // --- the clock ------------------------------------------------------------------------------------

  function tickClock() {
    if (!hall) { return; }
    var target = null;
    var label = "";
    if ((hall.phase === "waiting" || hall.phase === "signin") && now() < Date.parse(hall.deadline)) {
      target = hall.deadline; label = msg("until-opening");
    } else if (hall.phase === "decryption" && hall.decryption_ends_at) {
      target = hall.decryption_ends_at; label = msg("until-decryption-end");
    } else if (hall.phase === "confirmation" && hall.confirmation_ends_at) {
      target = hall.confirmation_ends_at; label = msg("until-confirmation-end");
    }
    var out = $("hall-countdown");
    if (!target) {
      $("hall-countdown-label").textContent = msg("time");
      out.textContent = hall.opened ? msg("opened") : "—";
      return;
    }
    var left = Math.max(0, Math.floor((Date.parse(target) - now()) / 1000));
    var h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
    $("hall-countdown-label").textContent = label;
    out.textContent = (h ? h + ":" : "") + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
    // The moment a time-driven step falls due, ask the server to take it (it is idempotent).
    var due = hall.due_at ? Date.parse(hall.due_at) : null;
    if (due && now() >= due && lastDue !== hall.due_at) { lastDue = hall.due_at; send({ type: "tick" }); }
  }

  // --- actions --------------------------------------------------------------------------------------

  function deviceId() {
    try {
      var id = localStorage.getItem("gj-device-id");
      if (!id) {
        id = Array.from(crypto.getRandomValues(new Uint8Array(16)), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
        localStorage.setItem("gj-device-id", id);
      }
      return id;
    } catch (e) { return ""; }
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  async function loadKey() {
    if (key) { return key; }
    if (!window.crypto || !crypto.subtle || !window.GJSeal) { throw new Error(msg("no-webcrypto")); }
    var file = $("hall-keyfile").files[0];
    if (!file) { throw new Error(msg("key-file")); }
    key = await GJSeal.loadKeyFile(file, $("hall-key-password").value);
    if (me.bid && key.certSerial && key.certSerial !== me.bid.cert) { key = null; throw new Error(msg("key-mismatch")); }
    return key;
  }

  async function decrypt() {
    notice(msg("unwrapping"), false);
    var k = await loadKey();
    if (hall.phase !== "decryption") { render(); return; }
    var cek = await GJSeal.unwrapContentKey({ headerBytes: GJSeal.b64uDecode(me.bid.header), to: "bidder",
      kid: me.bid.cert, privateKey: k.ecdhKey });
    var id = deviceId();
    send({ type: "decrypt", cek: GJSeal.b64u(cek), hardware: id ? { machine_code: "browser:" + id } : {} });
    cek.fill(0);
  }

  async function confirmSigned() {
    var k = await loadKey();
    var message = new TextEncoder().encode(me.confirmation.message);
    var signature = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: { name: "SHA-256" } }, k.signingKey, message));
    send({ type: "confirm", signature: GJSeal.b64u(signature), serial: k.certSerial || "" });
  }

  function guard(fn) {
    return function (e) {
      if (e) { e.preventDefault(); }
      Promise.resolve().then(fn).catch(function (err) { notice(msg("failed") + ": " + (err.message || err), true); });
    };
  }

  function bind() {
    var signin = $("hall-signin-form");
    if (signin) {
      signin.addEventListener("submit", guard(async function () {
        var file = $("hall-attorney").files[0];
        if (!file) { send({ type: "signin" }); return; }
        var data = new FormData();
        data.append("attorney", file);
        var response = await fetch(root.dataset.signinUrl, { method: "POST", body: data, credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" } });
        var body = await response.json();
        if (!response.ok) { throw new Error((body.error && body.error.message) || response.status); }
        receive(body);
        notice(msg("signed-in"), false);
      }));
      $("hall-key-form").addEventListener("submit", guard(decrypt));
      $("hall-confirm-sign").addEventListener("click", guard(confirmSigned));
      $("hall-confirm-click").addEventListener("click", guard(function () { send({ type: "confirm" }); }));
      $("hall-objection-form").addEventListener("submit", guard(function () {
        var text = $("hall-objection-text");
        if (send({ type: "objection", text: text.value.trim() })) { text.value = ""; }
      }));
    }
    document.querySelectorAll("#hall-host-panel [data-action]").forEach(function (button) {
      button.addEventListener("click", function () { send({ type: button.dataset.action }); });
    });
    ["fail", "continue"].forEach(function (decision) {
      var button = $("host-" + decision);
      if (!button) { return; }
      button.addEventListener("click", function () {
        var reason = $("host-reason").value.trim();
        if (decision === "continue" && !reason) { notice(msg("reason-needed"), true); return; }
        send({ type: hall.phase === "signin" ? "publish_bidders" : "start_readout", decision: decision, reason: reason });
      });
    });
  }

  bind();
  connect();
  setInterval(tickClock, 1000);
  // A heartbeat tick: time-driven steps happen even if no page noticed the exact moment.
  setInterval(function () { send({ type: "tick" }); }, 5000);
}());
