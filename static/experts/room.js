/*
 * The evaluation room in the browser: a websocket client that renders the page from the server's
 * state. On connect and after every change in the room the server sends this viewer's full state
 * (a member sees the others as seat numbers; centre staff see progress only), so a reload or a
 * reconnect shows exactly where the evaluation is. No inline script, no innerHTML.
 */
(function () {
  "use strict";

  var root = document.getElementById("room");
  if (!root) { return; }
  var labels = JSON.parse(document.getElementById("room-labels").textContent);
  var state = null;
  var socket = null;
  var attempt = 0;
  var stopped = false;
  var nextId = 1;
  var alertsLoaded = false;

  function msg(name) { return root.dataset["msg" + name.replace(/(^|-)(\w)/g, function (m, d, c) { return c.toUpperCase(); })] || ""; }
  function $(id) { return document.getElementById(id); }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function show(id, visible) { var node = $(id); if (node) { node.hidden = !visible; } }
  function when(iso) {
    if (!iso) { return ""; }
    var d = new Date(iso);
    var p = function (n) { return String(n).padStart(2, "0"); };
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes());
  }
  function notice(text, isError) {
    var node = $("room-notice");
    node.textContent = text || "";
    node.className = isError ? "message message-error" : (text ? "message message-success" : "");
  }

  // --- the socket -----------------------------------------------------------------------------------

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    $("room-conn").textContent = attempt ? msg("reconnecting") : msg("connecting");
    socket = new WebSocket(scheme + location.host + root.dataset.wsPath);
    socket.onopen = function () { attempt = 0; $("room-conn").textContent = msg("connected"); };
    socket.onmessage = function (e) { receive(JSON.parse(e.data)); };
    socket.onclose = function (e) {
      socket = null;
      if (e.code === 4401 || e.code === 4403 || e.code === 4404) {
        stopped = true;
        $("room-conn").textContent = msg("refused");
        return;
      }
      if (stopped) { return; }
      $("room-conn").textContent = msg("reconnecting");
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

  // --- collusion alerts of the lot (monitoring's JSON; refreshed when the server says one changed) ---
  function loadAlerts() {
    var panel = $("room-alerts");
    if (!panel || !window.fetch) { return; }
    fetch(panel.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        var list = $("room-alerts-list");
        if (!data || !list) { return; }
        list.replaceChildren();
        data.alerts.forEach(function (a) {
          var item = el("li", null, { "data-alert": String(a.id), "data-level": String(a.level) });
          item.append(el("strong", a.level_label), " ", el("span", a.message));
          var codes = el("ul", null, { "class": "small" });
          a.indicators.forEach(function (i) {
            codes.append(el("li", i.label + (i.legal_source ? " — " + i.legal_source : ""), { "data-code": i.code }));
          });
          item.append(codes);
          list.append(item);
        });
        panel.hidden = data.alerts.length === 0;
      })
      .catch(function () { /* the panel is informative; the room works without it */ });
  }

  function receive(m) {
    if (m.type === "state") {
      if (!state || m.room.version >= state.room.version) { state = m; render(); }
      if (m.event === "monitoring_alert" || !alertsLoaded) { alertsLoaded = true; loadAlerts(); }
      if (m.event && msg("event-" + m.event)) { notice(msg("event-" + m.event), false); }
    } else if (m.type === "error") {
      var detail = m.error.params && m.error.params.count ? " (" + m.error.params.count + " " + msg("missing") + ")" : "";
      notice(msg("failed") + ": " + (m.error.message || m.error.code) + detail, true);
      root.dataset.lastError = m.error.code;
    } else if (m.type === "ok") {
      notice(m.action === "complete_stage" ? msg("stage-complete") : msg("saved"), false);
    }
  }

  // --- rendering ------------------------------------------------------------------------------------

  function render() {
    var room = state.room;
    var me = state.me;
    root.dataset.phase = room.phase;
    root.dataset.version = room.version;
    $("room-phase").textContent = labels.phase[room.phase] || room.phase;
    $("room-phase").dataset.phase = room.phase;
    $("room-version").textContent = "v" + room.version;
    var chair = state.seats.filter(function (s) { return s.chair; })[0];
    $("room-chair").textContent = chair ? (chair.name || chair.label) : "—";
    $("room-me").textContent = me.seat ? (me.name + " · " + state.seats.filter(function (s) { return s.me; })[0].label) : me.name;
    var past = true;
    document.querySelectorAll("#room-steps li").forEach(function (li) {
      if (li.dataset.phase === room.phase) { past = false; }
      li.classList.toggle("current", li.dataset.phase === room.phase);
      li.classList.toggle("done", past);
    });
    renderTime();
    renderDeclaration();
    renderSeats();
    renderProgress();
    renderBids();
    renderReview();
    renderScores();
    renderOutliers();
    renderJustifications();
    renderClarifications();
    renderChair();
    renderSummary();
    renderCorrect();
    renderCorrections();
    renderReport();
    renderRevisions();
  }

  function member() { return state.me.seat !== null && state.me.seat !== undefined; }

  // The scheduled end, an extension, and the members' "the time is insufficient" (条例48).
  function renderTime() {
    var t = state.time;
    var end = $("room-end");
    var text = t.end ? when(t.end) : "—";
    if (t.extended_until) {
      text = msg("extended") + " " + when(t.extended_until) + (t.ends_at ? " · " + msg("scheduled") + " " + when(t.ends_at) : "");
    }
    if (t.over && ["closed", "signing"].indexOf(state.room.phase) < 0) { text += " · " + msg("time-over"); }
    end.textContent = text;
    end.dataset.extended = t.extended_until ? "true" : "false";
    show("room-time", t.may_flag || t.flagged > 0);
    $("room-time-count").textContent = t.flagged + "/" + t.active + " " + msg("time-count") + " " + t.needed;
    var button = $("room-time-flag");
    button.hidden = !t.may_flag;
    button.textContent = t.mine ? msg("time-unflag") : msg("time-flag");
    button.setAttribute("aria-pressed", t.mine ? "true" : "false");
  }

  function renderDeclaration() {
    var needed = member() && !state.me.declared && !!state.me.declaration;
    show("room-declaration", needed);
    if (needed) { $("room-declaration-text").textContent = state.me.declaration; }
  }

  function electing() {
    var p = state.room.phase;
    return p === "chair" || (state.room.chair === null && ["qualification", "preliminary", "detailed", "summary"].indexOf(p) >= 0);
  }

  function renderSeats() {
    var list = $("room-seats");
    list.replaceChildren();
    var voting = electing() && member() && state.me.declared;
    show("room-chair-help", electing());
    state.seats.forEach(function (s) {
      var li = el("li", null, { "data-seat": s.seat, "class": s.active ? "" : "inactive" });
      li.append(el("strong", s.name ? s.name + " (" + s.label + ")" : s.label));
      li.append(el("span", " " + (labels.kind[s.kind] || s.kind), { "class": "muted" }));
      var flags = [];
      if (s.chair) { flags.push(msg("chair")); }
      if (s.me) { flags.push(msg("me")); }
      flags.push(s.declared ? msg("declared") : msg("undeclared"));
      if (s.recused) { flags.push(msg("recused")); }
      if (s.replaced) { flags.push(msg("replaced")); }
      if (electing() && s.votes) { flags.push(s.votes + " " + msg("votes")); }
      li.append(el("span", " · " + flags.join(" · "), { "class": "muted" }));
      if (voting && s.active && s.declared) {
        var button = el("button", msg("vote"), { type: "button", "class": "button button-secondary", "data-vote": s.seat });
        if (state.me.vote === s.seat) { button.setAttribute("aria-pressed", "true"); }
        button.addEventListener("click", function () { send({ type: "vote", seat: s.seat }); });
        li.append(button);
      }
      list.append(li);
    });
  }

  function bidName(id) {
    var b = state.bids.filter(function (x) { return x.bid === id; })[0];
    return b ? b.order + ". " + b.bidder : id.slice(0, 8);
  }

  function criterionName(code) {
    var all = [].concat(state.criteria ? state.criteria.qualification : [], state.criteria ? state.criteria.preliminary : [],
      state.criteria ? state.criteria.scored : []);
    var c = all.filter(function (x) { return x.code === code; })[0];
    return c ? c.name : code;
  }

  function renderProgress() {
    var p = state.progress;
    show("room-progress-panel", !!p);
    if (!p) { return; }
    $("room-progress-stage").textContent = labels.stage[p.stage] || p.stage;
    var head = el("tr");
    head.append(el("th", "#"));
    p.bids.forEach(function (b, i) { head.append(el("th", state.bids.length ? bidName(b) : String(i + 1))); });
    head.append(el("th", "∑"));
    var thead = document.querySelector("#room-progress thead");
    thead.replaceChildren(head);
    var body = document.querySelector("#room-progress tbody");
    body.replaceChildren();
    p.members.forEach(function (row) {
      var seat = state.seats.filter(function (s) { return s.seat === row.seat; })[0];
      var tr = el("tr", null, { "data-seat": row.seat, "data-done": row.done, "data-total": row.total });
      tr.append(el("th", seat ? (seat.name || seat.label) : row.seat));
      p.bids.forEach(function (b) {
        var cells = row.cells[b] || {};
        var done = Object.keys(cells).filter(function (k) { return cells[k]; }).length;
        tr.append(el("td", done + "/" + Object.keys(cells).length, { "class": done === Object.keys(cells).length ? "complete" : "" }));
      });
      tr.append(el("td", row.done + "/" + row.total, { "class": "progress-total" }));
      body.append(tr);
    });
  }

  function renderBids() {
    var panel = $("room-bids-panel");
    if (!panel) { return; }
    panel.hidden = !state.bids.length;
    var body = panel.querySelector("tbody");
    body.replaceChildren();
    state.bids.forEach(function (b) {
      var f = b.form || {};
      var pm = f.project_manager || {};
      var tr = el("tr", null, { "data-bid": b.bid });
      var doc = el("td");
      if (b.document && b.document.url) {
        doc.append(el("a", msg("download") + " " + b.document.name, { href: b.document.url, "class": "file-link" }));
      } else if (b.document) { doc.textContent = b.document.name; }
      var out = b.rejections.map(function (r) { return (labels.stage[r.stage] || r.stage) + ": " + criterionName(r.criterion); }).join("；");
      tr.append(el("td", b.order), el("td", b.bidder), el("td", (f.price || "") + " " + (f.currency || "")),
        el("td", b.evaluated_price || ""), el("td", f.duration_days === undefined ? "" : f.duration_days),
        el("td", f.quality || ""), el("td", ((pm.name || "") + " " + (pm.reg_no || "")).trim()), doc,
        el("td", out ? msg("out") + " — " + out : ""));
      body.append(tr);
    });
  }

  function stageBids(stage) { return state.bids.filter(function (b) { return b.in[stage]; }); }

  function renderReview() {
    var panel = $("room-review-panel");
    if (!panel) { return; }
    var stage = state.room.phase;
    var open = (stage === "qualification" || stage === "preliminary") && state.me.declared;
    panel.hidden = !open;
    if (!open) { return; }
    $("room-review-stage").textContent = labels.stage[stage];
    var criteria = state.criteria[stage];
    var bids = stageBids(stage);
    var table = $("room-review");
    var signature = stage + JSON.stringify(bids.map(function (b) { return b.bid; }));
    if (table.dataset.signature !== signature) {
      table.dataset.signature = signature;
      var head = el("tr");
      head.append(el("th", ""));
      criteria.forEach(function (c) { head.append(el("th", c.name)); });
      table.tHead.replaceChildren(head);
      var body = table.tBodies[0];
      body.replaceChildren();
      bids.forEach(function (b) {
        var tr = el("tr", null, { "data-bid": b.bid });
        tr.append(el("th", b.order + ". " + b.bidder));
        criteria.forEach(function (c) { tr.append(reviewCell(stage, b, c)); });
        body.append(tr);
      });
    }
    table.querySelectorAll("td[data-criterion]").forEach(function (td) {
      var given = state.mine.reviews[td.dataset.bid + "|" + stage + "|" + td.dataset.criterion];
      var select = td.querySelector("select");
      var reason = td.querySelector("input");
      if (document.activeElement !== select) { select.value = given ? (given.passed ? "pass" : "fail") : ""; }
      if (document.activeElement !== reason) { reason.value = given ? given.reason : ""; }
      reason.hidden = select.value !== "fail";
      td.classList.toggle("given", !!given);
    });
  }

  function reviewCell(stage, b, c) {
    var td = el("td", null, { "data-bid": b.bid, "data-criterion": c.code });
    var select = el("select", null, { "aria-label": b.bidder + " · " + c.name });
    [["", "—"], ["pass", msg("pass")], ["fail", msg("fail")]].forEach(function (o) { select.append(el("option", o[1], { value: o[0] })); });
    var reason = el("input", null, { type: "text", maxlength: "1000", placeholder: msg("reason"), "aria-label": msg("reason") });
    function submit() {
      if (!select.value) { return; }
      if (select.value === "fail" && !reason.value.trim()) { reason.hidden = false; reason.focus(); notice(msg("reason-needed"), true); return; }
      send({ type: "review", bid: b.bid, stage: stage, criterion: c.code, passed: select.value === "pass", reason: reason.value.trim() });
    }
    select.addEventListener("change", function () { reason.hidden = select.value !== "fail"; submit(); });
    reason.addEventListener("change", submit);
    td.append(select, reason);
    return td;
  }

  function renderScores() {
    var panel = $("room-scores-panel");
    if (!panel) { return; }
    var phase = state.room.phase;
    var criteria = state.criteria.scored;
    var open = ["detailed", "summary", "signing"].indexOf(phase) >= 0 && state.me.declared && criteria.length > 0;
    panel.hidden = !open;
    if (!open) { return; }
    var bids = stageBids("detailed");
    var table = $("room-scores");
    var signature = JSON.stringify(bids.map(function (b) { return b.bid; })) + JSON.stringify(criteria);
    if (table.dataset.signature !== signature) {
      table.dataset.signature = signature;
      var head = el("tr");
      head.append(el("th", ""));
      criteria.forEach(function (c) { head.append(el("th", c.name + " (0–" + c.max + ")")); });
      table.tHead.replaceChildren(head);
      var body = table.tBodies[0];
      body.replaceChildren();
      bids.forEach(function (b) {
        var tr = el("tr", null, { "data-bid": b.bid });
        tr.append(el("th", b.order + ". " + b.bidder));
        criteria.forEach(function (c) {
          var td = el("td", null, { "data-bid": b.bid, "data-criterion": c.code });
          var input = el("input", null, { type: "number", min: "0", max: c.max, step: "0.01", inputmode: "decimal",
            "data-bid": b.bid, "data-criterion": c.code, "aria-label": b.bidder + " · " + c.name });
          input.addEventListener("change", function () {
            if (input.value === "") { return; }
            send({ type: "score", bid: b.bid, criterion: c.code, value: input.value });
          });
          td.append(input, el("span", "", { "class": "outlier-flag" }), el("span", "", { "class": "corrected-flag" }));
          tr.append(td);
        });
        body.append(tr);
      });
    }
    table.querySelectorAll("td[data-criterion]").forEach(function (td) {
      var given = state.mine.scores[td.dataset.bid + "|" + td.dataset.criterion];
      var input = td.querySelector("input");
      if (document.activeElement !== input && given) { input.value = given.value; }
      td.classList.toggle("given", !!given);
      // From the summary on a given score changes only by a correction (87号令64).
      input.disabled = phase === "signing" || (phase === "summary" && !!given);
      var corrected = given && given.corrected_from !== null && given.corrected_from !== undefined;
      td.classList.toggle("corrected", !!corrected);
      td.querySelector(".corrected-flag").textContent = corrected
        ? " " + msg("corrected-from") + " " + given.corrected_from + " (" + (labels.correction[given.correction_case] || given.correction_case) + ")" : "";
      var flagged = state.outliers.filter(function (o) { return o.me && o.bid === td.dataset.bid && o.criterion === td.dataset.criterion; })[0];
      td.classList.toggle("outlier", !!flagged);
      td.querySelector(".outlier-flag").textContent = flagged ? " ⚠ " + msg("median") + " " + flagged.median : "";
    });
  }

  function renderOutliers() {
    var list = $("room-outliers");
    show("room-outliers-panel", state.outliers.length > 0);
    list.replaceChildren();
    state.outliers.forEach(function (o) {
      list.append(el("li", (o.name || o.label) + " · " + bidName(o.bid) + " · " + criterionName(o.criterion) + ": " +
        o.value + " (" + msg("median") + " " + o.median + ") — " + msg("outlier"), { "data-seat": o.seat, "data-bid": o.bid }));
    });
  }

  function isChair() { return state.me.role === "chair"; }

  function renderJustifications() {
    var list = $("room-justifications");
    show("room-justifications-panel", state.justifications.length > 0);
    list.replaceChildren();
    state.justifications.forEach(function (j) {
      var li = el("li", null, { "data-justification": j.id });
      li.append(el("strong", bidName(j.bid)), el("span", " · " + j.ratio + " · " + msg("due") + " " + when(j.due_at), { "class": "muted" }));
      li.append(el("p", j.text || (j.overdue ? msg("overdue") : msg("awaiting"))));
      if (j.accepted !== null) {
        li.append(el("p", (j.accepted ? msg("accepted") : msg("rejected")) + (j.decided_at ? " · " + msg("decided") + " " + when(j.decided_at) : ""), { "class": "muted" }));
      }
      if (isChair() && state.room.phase === "detailed" && (j.text || j.overdue)) {
        if (j.text) {
          var accept = el("button", msg("accept"), { type: "button", "class": "button button-secondary" });
          accept.addEventListener("click", function () { send({ type: "decide_justification", justification: j.id, accepted: true }); });
          li.append(accept);
        }
        var reject = el("button", msg("reject"), { type: "button", "class": "button button-secondary" });
        reject.addEventListener("click", function () { send({ type: "decide_justification", justification: j.id, accepted: false }); });
        li.append(reject);
      }
      list.append(li);
    });
  }

  function renderClarifications() {
    var asking = member() && state.me.declared && ["qualification", "preliminary", "detailed"].indexOf(state.room.phase) >= 0;
    show("room-clarifications-panel", state.clarifications.length > 0 || asking);
    show("room-ask-form", asking);
    var list = $("room-clarifications");
    list.replaceChildren();
    state.clarifications.forEach(function (c) {
      var li = el("li", null, { "data-clarification": c.id });
      li.append(el("time", when(c.asked_at)), el("strong", " " + bidName(c.bid) + " · " + c.asked_by), el("p", c.question));
      li.append(el("p", c.answer ? "↳ " + c.answer : msg("awaiting") + " (" + msg("due") + " " + when(c.due_at) + ")", { "class": c.answer ? "answer" : "muted" }));
      list.append(li);
    });
    var select = $("room-ask-bid");
    if (select && select.dataset.count !== String(state.bids.length)) {
      select.dataset.count = String(state.bids.length);
      select.replaceChildren();
      state.bids.forEach(function (b) { select.append(el("option", b.order + ". " + b.bidder, { value: b.bid })); });
    }
  }

  function renderChair() {
    var panel = $("room-chair-panel");
    if (!panel) { return; }
    var p = state.room.phase;
    panel.hidden = !isChair() || ["qualification", "preliminary", "detailed", "summary"].indexOf(p) < 0;
    show("room-complete", ["qualification", "preliminary", "detailed"].indexOf(p) >= 0);
    show("room-build-report", p === "summary");
  }

  function renderSummary() {
    var data = state.summary || (state.report && state.report.data);
    show("room-summary-panel", !!data);
    if (!data) { return; }
    var body = document.querySelector("#room-summary tbody");
    body.replaceChildren();
    var bids = data.bids.slice().sort(function (a, b) { return (a.rank || 99) - (b.rank || 99); });
    bids.forEach(function (b) {
      var tr = el("tr", null, { "data-bid": b.bid, "data-rank": b.rank || "" });
      var out = b.rejections.map(function (r) { return (labels.stage[r.stage] || r.stage) + ": " + criterionName(r.criterion); }).join("；");
      tr.append(el("td", b.rank ? b.rank + (b.tie ? " (" + msg("tie") + ")" : "") : "—"), el("td", b.bidder),
        el("td", b.evaluated_price || ""), el("td", b.price_score || ""), el("td", b.total || ""), el("td", out));
      body.append(tr);
    });
  }

  // A member corrects one of their own scores after the summary, naming the case of 87号令64.
  function renderCorrect() {
    var panel = $("room-correct-panel");
    if (!panel) { return; }
    var criteria = state.criteria.scored;
    var open = member() && state.me.declared && ["summary", "signing"].indexOf(state.room.phase) >= 0 &&
      criteria.length > 0 && Object.keys(state.mine.scores).length > 0;
    panel.hidden = !open;
    if (!open) { return; }
    var bids = stageBids("detailed");
    var bidSelect = $("room-correct-bid");
    var signature = JSON.stringify(bids.map(function (b) { return b.bid; }));
    if (bidSelect.dataset.signature !== signature) {
      bidSelect.dataset.signature = signature;
      bidSelect.replaceChildren();
      bids.forEach(function (b) { bidSelect.append(el("option", b.order + ". " + b.bidder, { value: b.bid })); });
      var criterionSelect = $("room-correct-criterion");
      criterionSelect.replaceChildren();
      criteria.forEach(function (c) { criterionSelect.append(el("option", c.name + " (0–" + c.max + ")", { value: c.code, "data-max": c.max })); });
      fillCorrection();
    }
  }

  function fillCorrection() {
    var given = state.mine.scores[$("room-correct-bid").value + "|" + $("room-correct-criterion").value];
    var option = $("room-correct-criterion").selectedOptions[0];
    var value = $("room-correct-value");
    value.value = given ? given.value : "";
    if (option) { value.max = option.dataset.max; }
  }

  function renderCorrections() {
    var data = state.summary || (state.report && state.report.data);
    var corrections = (data && data.corrections) || [];
    show("room-corrections-box", corrections.length > 0);
    var list = $("room-corrections");
    list.replaceChildren();
    corrections.forEach(function (c) {
      var seat = state.seats.filter(function (s) { return s.seat === c.seat; })[0];
      list.append(el("li", (seat ? (seat.name || seat.label) : c.seat) + " · " + (c.bidder || bidName(c.bid)) + " · " +
        criterionName(c.criterion) + ": " + c.from + " → " + c.to + " (" + (labels.correction[c.case] || c.case) + ")" +
        (c.reason ? " — " + c.reason : ""), { "data-seat": c.seat, "data-bid": c.bid, "data-criterion": c.criterion }));
    });
  }

  function renderRevisions() {
    var revisions = state.revisions || [];
    show("room-revisions-panel", revisions.length > 0);
    var list = $("room-revisions");
    list.replaceChildren();
    revisions.forEach(function (r) {
      var li = el("li", null, { "data-revision": r.revision });
      li.append(el("strong", msg("revision") + " " + r.revision), el("span", " · " + msg("superseded") + " " + when(r.superseded_at), { "class": "muted" }));
      li.append(el("p", r.reason), el("p", r.data_sha256, { "class": "hash", translate: "no" }));
      if (r.pdf_url) { li.append(el("a", msg("download") + " PDF", { href: r.pdf_url, "class": "file-link" })); }
      list.append(li);
    });
  }

  function renderReport() {
    var report = state.report;
    show("room-report-panel", !!report);
    if (!report) { return; }
    $("room-report-revision").textContent = report.revision;
    $("room-report-sha").textContent = report.data_sha256;
    $("room-report-signed").textContent = report.signed.map(function (seat) {
      return report.deemed.indexOf(seat) >= 0 ? seat + " (" + msg("deemed") + ")" : String(seat);
    }).join(", ") || "—";
    $("room-report-panel").dataset.revision = report.revision;
    show("room-report-due-line", !!report.signing_due_at);
    $("room-report-due").textContent = when(report.signing_due_at);
    if (report.signing_due_at) { $("room-report-due").setAttribute("datetime", report.signing_due_at); }
    $("room-report-panel").dataset.final = report.finalized_at ? "true" : "false";
    show("room-sign", member() && state.room.phase === "signing" && !report.signed_by_me);
    var pdf = $("room-report-pdf");
    pdf.hidden = !report.pdf_url;
    if (report.pdf_url) { pdf.href = report.pdf_url; }
  }

  // --- actions --------------------------------------------------------------------------------------

  function bind() {
    var declare = $("room-declare");
    if (declare) {
      declare.addEventListener("click", function () { send({ type: "declare" }); });
      $("room-recuse-form").addEventListener("submit", function (e) {
        e.preventDefault();
        var reason = $("room-recuse-reason").value.trim();
        if (!reason) { notice(msg("reason-needed"), true); return; }
        send({ type: "declare", recuse: true, reason: reason });
      });
    }
    var ask = $("room-ask-form");
    if (ask) {
      ask.addEventListener("submit", function (e) {
        e.preventDefault();
        var question = $("room-ask-question");
        if (send({ type: "ask", bid: $("room-ask-bid").value, question: question.value.trim() })) { question.value = ""; }
      });
    }
    var complete = $("room-complete");
    if (complete) {
      complete.addEventListener("click", function () { send({ type: "complete_stage" }); });
      $("room-build-report").addEventListener("click", function () { send({ type: "build_report" }); });
    }
    $("room-time-flag").addEventListener("click", function () {
      send({ type: "time_insufficient", value: !(state && state.time.mine) });
    });
    var correct = $("room-correct-form");
    if (correct) {
      $("room-correct-bid").addEventListener("change", fillCorrection);
      $("room-correct-criterion").addEventListener("change", fillCorrection);
      correct.addEventListener("submit", function (e) {
        e.preventDefault();
        var reason = $("room-correct-reason");
        if (!reason.value.trim()) { reason.focus(); notice(msg("reason-needed"), true); return; }
        var sent = send({ type: "correct_score", bid: $("room-correct-bid").value, criterion: $("room-correct-criterion").value,
          value: $("room-correct-value").value, case: $("room-correct-case").value, reason: reason.value.trim() });
        if (sent) { reason.value = ""; }
      });
    }
    var agree = $("room-sign-agree");
    if (agree) {
      agree.addEventListener("click", function () { send({ type: "sign_report", agrees: true, dissent: "" }); });
      $("room-sign-dissent").addEventListener("click", function () {
        var dissent = $("room-dissent").value.trim();
        if (!dissent) { notice(msg("reason-needed"), true); return; }
        send({ type: "sign_report", agrees: false, dissent: dissent });
      });
    }
  }

  bind();
  connect();
}());
