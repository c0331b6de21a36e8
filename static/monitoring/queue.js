/*
 * The alert queue, live: a websocket client of ws/monitoring/. A new alert is added to the top of the
 * first page of the unfiltered queue (other views only mark the rows that changed); a changed alert's
 * row shows its new status and score. Reconnects with backoff and, after a lost connection, reloads the
 * page once connected again so nothing sent in between is missed. No inline script, no innerHTML.
 */
(function () {
  "use strict";

  var root = document.getElementById("alert-queue");
  if (!root || !window.WebSocket) { return; }
  var labels = JSON.parse(document.getElementById("alert-labels").textContent);
  var table = document.querySelector("#alert-table tbody");
  var status = document.getElementById("alert-conn");
  var live = root.dataset.live === "1";
  var attempt = 0;
  var lost = false;
  var stopped = false;

  function msg(name) { return root.dataset["msg" + name.charAt(0).toUpperCase() + name.slice(1)] || ""; }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function cell(child) { var td = el("td"); if (child) { td.appendChild(child); } return td; }
  function score(value) { return Number(value).toFixed(3); }
  function stamp(iso) {
    var d = iso ? new Date(iso) : new Date();
    var p = function (n) { return String(n).padStart(2, "0"); };
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes());
  }

  function statusBadge(value) {
    return el("span", labels.status[value] || value, { "class": "state alert-status-" + value });
  }

  function newRow(a) {
    var tr = el("tr", null, { "data-alert-id": a.id, "data-level": a.level, "data-status": a.status, "class": "alert-new" });
    tr.appendChild(cell(el("span", labels.level[String(a.level)] || a.level, { "class": "level level-" + a.level, "data-level": a.level })));
    var s = cell(); s.className = "num"; s.dataset.field = "score"; s.textContent = score(a.score); tr.appendChild(s);
    tr.appendChild(cell(el("span", msg("new"), { "class": "tag" })));
    tr.appendChild(cell(document.createTextNode(a.lot ? String(a.lot) : "—")));
    tr.appendChild(cell(document.createTextNode(labels.node[a.node] || a.node || "")));
    tr.appendChild(cell(el("a", a.message, { "class": "alert-link", href: a.url })));
    var st = cell(statusBadge(a.status)); st.dataset.field = "status"; tr.appendChild(st);
    tr.appendChild(cell(document.createTextNode("—")));
    tr.appendChild(cell(el("time", stamp(), {})));
    return tr;
  }

  function receive(m) {
    if (m.type !== "alert" || !m.alert || !m.alert.id) { return; }
    var a = m.alert;
    var row = table.querySelector('tr[data-alert-id="' + String(a.id) + '"]');
    if (row) {
      row.dataset.status = a.status;
      row.dataset.level = a.level;
      var st = row.querySelector('[data-field="status"]');
      if (st) { st.replaceChildren(statusBadge(a.status)); }
      var sc = row.querySelector('[data-field="score"]');
      if (sc) { sc.textContent = score(a.score); }
      row.classList.add("alert-changed");
      return;
    }
    if (!live || a.status !== "open") { return; }
    var empty = table.querySelector("tr.empty-row");
    if (empty) { empty.remove(); }
    table.insertBefore(newRow(a), table.firstChild);
    root.dataset.received = String(Number(root.dataset.received || "0") + 1);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    status.textContent = attempt ? msg("reconnecting") : msg("connecting");
    var socket = new WebSocket(scheme + location.host + root.dataset.wsPath);
    socket.onopen = function () {
      if (lost) { location.reload(); return; }
      attempt = 0;
      status.textContent = msg("connected");
    };
    socket.onmessage = function (e) {
      var m;
      try { m = JSON.parse(e.data); } catch (err) { return; }
      if (m.type === "ready") { root.dataset.connected = "1"; return; }
      receive(m);
    };
    socket.onclose = function (e) {
      root.dataset.connected = "0";
      if (e.code === 4401 || e.code === 4403) { stopped = true; status.textContent = msg("refused"); return; }
      if (stopped) { return; }
      lost = true;
      status.textContent = msg("reconnecting");
      // Exponential backoff with jitter, so a restarted server is not hit by every client at once.
      var delay = Math.min(15000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      attempt += 1;
      setTimeout(connect, delay);
    };
  }

  connect();
}());
