/*
 * The bidder's sealing page (templates/bidding/submit.html): countdown from the server's clock,
 * the bid form, sealing with GJSeal (seal.js) and the resumable upload, then the receipt, replace
 * and withdraw. The plaintext, the content key and the key password never leave this page.
 */
(function () {
  "use strict";

  // Exposed for tests: the evidence the page sends and its price rule (they need no page element).
  window.GJSubmitPage = { documentMeta: documentMeta, hardware: hardware, normalisePrice: normalisePrice };

  var root = document.getElementById("bid-submit");
  if (!root) { return; }
  var msg = root.dataset;
  var prefix = msg.prefix || "/bidding/";
  var lotId = Number(msg.lot);
  var params = null; // the recipients endpoint's answer: tender, bidder, cert, recipients, chunk, ...
  var clockOffset = 0; // server time minus this computer's time, in ms
  var deadline = Date.parse(msg.deadline);
  var timer = null;

  function $(selector) { return root.querySelector(selector); }

  function setStatus(text, isError) {
    var status = $("#bid-status");
    status.textContent = text;
    status.className = isError ? "message message-error" : (text ? "message" : "");
    if (isError) { status.setAttribute("data-error", "1"); } else { status.removeAttribute("data-error"); }
  }

  function describe(prefixText, error) {
    var code = error && error.code ? " [" + error.code + "]" : "";
    return prefixText + ": " + (error && error.message ? error.message : String(error)) + code;
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) { return input.value; }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function getJson(url) {
    var response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } });
    var data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (!response.ok) {
      var error = (data && data.error) || {};
      throw new GJSeal.SealError(error.code || "http_" + response.status, error.message || ("HTTP " + response.status));
    }
    return data;
  }

  async function postJson(url, body) {
    var response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {}),
    });
    var data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (!response.ok) {
      var error = (data && data.error) || {};
      throw new GJSeal.SealError(error.code || "http_" + response.status, error.message || ("HTTP " + response.status));
    }
    return data;
  }

  // --- the countdown: this computer's clock, corrected by the server's (DOMAIN B2) ------------------

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    var left = deadline - (Date.now() + clockOffset);
    var countdown = $("#bid-countdown");
    if (!(left > 0)) {
      countdown.textContent = msg.msgDeadlinePassed;
      countdown.setAttribute("data-passed", "1");
      var button = $("#bid-seal");
      if (button) { button.disabled = true; }
      if (timer) { clearInterval(timer); timer = null; }
      return;
    }
    var seconds = Math.floor(left / 1000);
    var days = Math.floor(seconds / 86400);
    seconds -= days * 86400;
    var text = pad(Math.floor(seconds / 3600)) + ":" + pad(Math.floor(seconds / 60) % 60) + ":" + pad(seconds % 60);
    countdown.textContent = (days > 0 ? days + " " + msg.msgDays + " " : "") + text;
  }

  function startClock(serverTime, requestedAt, answeredAt) {
    // The server stamped its time somewhere between sending and receiving: take the midpoint.
    clockOffset = Date.parse(serverTime) - (requestedAt + answeredAt) / 2;
    if (!timer) { timer = setInterval(tick, 1000); }
    tick();
  }

  async function loadParameters() {
    var requestedAt = Date.now();
    var data = await getJson(prefix + "lots/" + lotId + "/recipients");
    startClock(data.server_time, requestedAt, Date.now());
    if (data.deadline) { deadline = Date.parse(data.deadline); tick(); }
    params = data;
    return data;
  }

  // --- the bid form ----------------------------------------------------------------------------------

  // "1234.5" -> "1234.50" by string arithmetic: money never passes through a float.
  function normalisePrice(text) {
    var match = /^\s*(\d{1,15})(?:\.(\d{1,2}))?\s*$/.exec(text || "");
    if (!match) { return null; }
    var whole = match[1].replace(/^0+(?=\d)/, "");
    return whole + "." + ((match[2] || "") + "00").slice(0, 2);
  }

  function readForm() {
    var price = normalisePrice($("#bid-price").value);
    if (!price) { throw new GJSeal.SealError("bid_price_invalid", msg.msgPrice); }
    var durationText = $("#bid-duration").value.trim();
    if (!/^\d{1,6}$/.test(durationText) || Number(durationText) < 1) {
      throw new GJSeal.SealError("bid_duration_invalid", msg.msgDuration);
    }
    var form = {
      price: price,
      currency: msg.currency || "CNY",
      duration_days: Number(durationText),
      quality: $("#bid-quality").value.trim(),
      items: {},
    };
    var select = $("#bid-manager");
    var option = select && select.selectedOptions[0];
    if (option && option.value !== "") {
      form.project_manager = { name: option.dataset.name || "", reg_no: option.dataset.regNo || "" };
    }
    root.querySelectorAll(".bid-item").forEach(function (input) { form.items[input.dataset.item] = input.value.trim(); });
    return form;
  }

  // --- evidence: authoring metadata of the document and the client's hardware (DOMAIN D2) ----------

  function clip(value) { return value === undefined || value === null ? "" : String(value).slice(0, 200); }

  function pdfString(raw) {
    // Literal strings: unescape \( \) \\ and octal; UTF-16BE when the BOM is there.
    var text = raw.replace(/\\([nrtbf()\\]|[0-7]{1,3})/g, function (m, c) {
      if (/^[0-7]+$/.test(c)) { return String.fromCharCode(parseInt(c, 8)); }
      return { n: "\n", r: "\r", t: "\t", b: "\b", f: "\f" }[c] || c;
    });
    if (text.charCodeAt(0) === 0xfe && text.charCodeAt(1) === 0xff) {
      var out = "";
      for (var i = 2; i + 1 < text.length; i += 2) { out += String.fromCharCode((text.charCodeAt(i) << 8) | text.charCodeAt(i + 1)); }
      return out;
    }
    return text;
  }

  // Bytes as a string of U+0000..U+00FF (TextDecoder's "latin1" is windows-1252, which is not).
  function binaryString(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i += 0x8000) { out += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000)); }
    return out;
  }

  async function pdfMeta(file) {
    var head = new Uint8Array(await file.slice(0, 262144).arrayBuffer());
    var tail = file.size > 262144 ? new Uint8Array(await file.slice(Math.max(262144, file.size - 262144)).arrayBuffer())
      : new Uint8Array(0);
    var text = binaryString(head) + "\n" + binaryString(tail);
    var meta = {};
    var keys = { Author: "author", Creator: "creator_tool", Producer: "producer", CreationDate: "created",
      ModDate: "modified" };
    Object.keys(keys).forEach(function (key) {
      var literal = new RegExp("/" + key + "\\s*\\(((?:\\\\.|[^\\\\)])*)\\)").exec(text);
      var hexString = new RegExp("/" + key + "\\s*<([0-9A-Fa-f\\s]*)>").exec(text);
      if (literal) {
        meta[keys[key]] = clip(pdfString(literal[1]));
      } else if (hexString) {
        var hexText = hexString[1].replace(/\s+/g, "");
        var raw = "";
        for (var i = 0; i + 1 < hexText.length; i += 2) { raw += String.fromCharCode(parseInt(hexText.slice(i, i + 2), 16)); }
        meta[keys[key]] = clip(pdfString(raw.replace(/[\\()]/g, "\\$&")));
      }
    });
    var tool = /<xmp:CreatorTool>([^<]*)<\/xmp:CreatorTool>/.exec(text);
    if (tool && !meta.creator_tool) { meta.creator_tool = clip(tool[1]); }
    return meta;
  }

  async function inflateRaw(bytes) {
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  // docProps/core.xml and app.xml of a .docx / .xlsx / .pptx (a zip): read through the central
  // directory, so only those two small entries are read from the file.
  async function ooxmlMeta(file) {
    var tailStart = Math.max(0, file.size - 65557);
    var tail = new Uint8Array(await file.slice(tailStart).arrayBuffer());
    var view = new DataView(tail.buffer);
    var eocd = -1;
    for (var i = tail.length - 22; i >= 0; i -= 1) { if (view.getUint32(i, true) === 0x06054b50) { eocd = i; break; } }
    if (eocd < 0) { return null; }
    var cdSize = view.getUint32(eocd + 12, true);
    var cdOffset = view.getUint32(eocd + 16, true);
    if (cdSize > 16 * 1024 * 1024) { return null; }
    var cd = new Uint8Array(await file.slice(cdOffset, cdOffset + cdSize).arrayBuffer());
    var cdv = new DataView(cd.buffer);
    var wanted = {};
    var decoder = new TextDecoder();
    for (var p = 0; p + 46 <= cd.length && cdv.getUint32(p, true) === 0x02014b50;) {
      var nameLength = cdv.getUint16(p + 28, true);
      var extraLength = cdv.getUint16(p + 30, true);
      var commentLength = cdv.getUint16(p + 32, true);
      var name = decoder.decode(cd.subarray(p + 46, p + 46 + nameLength));
      if (name === "docProps/core.xml" || name === "docProps/app.xml") {
        wanted[name] = { method: cdv.getUint16(p + 10, true), size: cdv.getUint32(p + 20, true),
          offset: cdv.getUint32(p + 42, true) };
      }
      p += 46 + nameLength + extraLength + commentLength;
    }
    var meta = {};
    // Named as the platform's evidence keys (bidding.services.submission.FILE_META_KEYS).
    var fields = {
      "docProps/core.xml": { creator: "author", lastModifiedBy: "last_modified_by", created: "created",
        modified: "modified" },
      "docProps/app.xml": { Application: "creator_tool", AppVersion: "app_version", Company: "company",
        Template: "template_id" },
    };
    for (var entryName in wanted) {
      var entry = wanted[entryName];
      if (entry.size > 1024 * 1024) { continue; }
      var local = new DataView(await file.slice(entry.offset, entry.offset + 30).arrayBuffer());
      var start = entry.offset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
      var data = new Uint8Array(await file.slice(start, start + entry.size).arrayBuffer());
      if (entry.method === 8) { data = await inflateRaw(data); } else if (entry.method !== 0) { continue; }
      var xml = new DOMParser().parseFromString(decoder.decode(data), "application/xml");
      var map = fields[entryName];
      Array.prototype.forEach.call(xml.getElementsByTagName("*"), function (el) {
        if (map[el.localName] && !meta[map[el.localName]]) { meta[map[el.localName]] = clip(el.textContent.trim()); }
      });
    }
    if (meta.app_version) {
      meta.creator_tool = (meta.creator_tool ? meta.creator_tool + " " : "") + meta.app_version;
      delete meta.app_version;
    }
    return meta;
  }

  async function documentMeta(file) {
    try {
      var magic = new Uint8Array(await file.slice(0, 5).arrayBuffer());
      if (magic[0] === 0x25 && magic[1] === 0x50 && magic[2] === 0x44 && magic[3] === 0x46) { return await pdfMeta(file); }
      if (magic[0] === 0x50 && magic[1] === 0x4b && magic[2] === 0x03 && magic[3] === 0x04) {
        return (await ooxmlMeta(file)) || {};
      }
    } catch (e) {
      return {}; // a damaged or unusual file: its metadata is evidence, not a reason to refuse
    }
    return {};
  }

  // A random identifier kept by this browser: the closest a page can get to a machine code, so
  // that two bidders submitting from one computer can be told (DOMAIN D2, D3).
  function deviceId() {
    try {
      var id = localStorage.getItem("gj-device-id");
      if (!id) {
        id = GJSeal.hex(crypto.getRandomValues(new Uint8Array(16)));
        localStorage.setItem("gj-device-id", id);
      }
      return id;
    } catch (e) {
      return "";
    }
  }

  // X-Client-Hardware: a page cannot read CPU or disk serials, so its "machine code" is the random
  // identifier this browser keeps (evidence.HARDWARE_KEYS keeps machine_code).
  function hardware() {
    var id = deviceId();
    return id ? { machine_code: "browser:" + id } : {};
  }

  // --- seal and upload -------------------------------------------------------------------------------

  var PHASES = { digest: "msgDigest", encrypt: "msgEncrypt", upload: "msgUpload" };

  function showProgress(event) {
    var bar = $("#bid-progress");
    bar.hidden = false;
    bar.value = event.total > 0 ? Math.round(1000 * event.done / event.total) : 1000;
    bar.setAttribute("data-phase", event.phase);
    $("#bid-phase").textContent = msg[PHASES[event.phase]] || "";
  }

  // "2026-03-25 09:29:59" in Beijing time, as the server renders times (the footer says so).
  function beijingTime(iso) {
    var when = new Date(iso);
    if (isNaN(when.getTime())) { return iso || ""; }
    var parts = {};
    new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).formatToParts(when)
      .forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute + ":" + parts.second;
  }

  function showBid(bidId, signed, sealed) {
    var receipt = (signed && signed.receipt) || {};
    $("#bid-id").textContent = bidId;
    $("#bid-received-at").textContent = beijingTime(receipt.received_at);
    $("#bid-received-at").setAttribute("datetime", receipt.received_at || "");
    $("#bid-ciphertext-sha256").textContent = receipt.ciphertext_sha256 || "";
    $("#bid-ciphertext-size").textContent = receipt.ciphertext_size === undefined ? "" : String(receipt.ciphertext_size);
    $("#bid-journal").textContent = receipt.journal ? receipt.journal.stream + " #" + receipt.journal.seq : "";
    $("#bid-receipt-download").href = prefix + "bids/" + bidId + "/receipt";
    $("#bid-receipt-download").setAttribute("download", "receipt-" + bidId + ".json");
    root.dataset.bid = bidId;
    var check = $("#bid-receipt-check");
    if (sealed) {
      var match = receipt.header_sha256 === sealed.headerSha256 && receipt.ciphertext_sha256 === sealed.ciphertextSha256 &&
        receipt.ciphertext_size === sealed.ciphertextSize;
      check.textContent = match ? msg.msgReceiptMatch : msg.msgReceiptMismatch;
      check.className = match ? "message message-success" : "message message-error";
      check.setAttribute("data-match", match ? "1" : "0");
    } else {
      check.textContent = "";
      check.className = "muted";
    }
    $("#bid-current").hidden = false;
    var form = $("#bid-form");
    if (form) { form.hidden = true; }
  }

  async function openKey(file, password) {
    try {
      return await GJSeal.loadKeyFile(file, password);
    } catch (e) {
      if (e.code === "key_password_wrong") { throw new GJSeal.SealError(e.code, msg.msgPasswordWrong); }
      if (e.code === "key_file_malformed") { throw new GJSeal.SealError(e.code, msg.msgKeyFileMalformed); }
      throw e;
    }
  }

  async function sealAndUpload(event) {
    event.preventDefault();
    if (!(window.isSecureContext && window.crypto && crypto.subtle)) { setStatus(msg.msgNoWebcrypto, true); return; }
    var button = $("#bid-seal");
    var passwordInput = $("#bid-key-password");
    button.disabled = true;
    try {
      var form = readForm();
      var documentFile = $("#bid-document").files[0];
      if (!documentFile) { throw new GJSeal.SealError("bid_document_missing", msg.msgDocument); }
      var keyFile = $("#bid-keyfile").files[0];
      if (!keyFile) { throw new GJSeal.SealError("key_file_missing", msg.msgKeyFile); }
      setStatus(msg.msgPreparing, false);
      var p = await loadParameters();
      var key = await openKey(keyFile, passwordInput.value);
      passwordInput.value = "";
      var bidderWrap = p.recipients[0];
      if (key.publicKey !== bidderWrap.public_key) {
        throw new GJSeal.SealError("key_certificate_mismatch", msg.msgKeyMismatch);
      }
      setStatus("", false);
      var sealed = await GJSeal.seal({
        form: form, documentFile: documentFile, documentName: documentFile.name,
        contentType: documentFile.type || "application/octet-stream",
        tender: p.tender, lot: p.lot, bidder: p.bidder, certSerial: p.cert, signingKey: key.signingKey,
        recipients: p.recipients.map(function (r) { return { to: r.to, kid: r.kid, publicKey: r.public_key }; }),
        chunk: p.chunk, onProgress: showProgress, documentMd5: true,
      });
      // Evidence (DOMAIN D2): name, size, MD5 fingerprint and authoring metadata; never content.
      var fileMeta = Object.assign({}, await documentMeta(documentFile), {
        file_name: documentFile.name, file_size: documentFile.size, file_md5: sealed.documentMd5,
        content_type: documentFile.type || "",
      });
      var result = await GJSeal.upload({
        prefix: prefix, lot: lotId, ciphertext: sealed.ciphertext, headerBytes: sealed.headerBytes,
        signature: sealed.signature, ciphertextSha256: sealed.ciphertextSha256, ciphertextSize: sealed.ciphertextSize,
        fileMeta: fileMeta, csrfToken: csrfToken(), hardware: hardware(),
        onProgress: showProgress,
      });
      $("#bid-phase").textContent = "";
      var headerSha256 = GJSeal.hex(new Uint8Array(await crypto.subtle.digest("SHA-256", sealed.headerBytes)));
      showBid(result.bid_id, result.receipt, {
        headerSha256: headerSha256, ciphertextSha256: sealed.ciphertextSha256, ciphertextSize: sealed.ciphertextSize,
      });
      setStatus(msg.msgDone, false);
      $("#bid-status").setAttribute("data-done", "1");
    } catch (e) {
      setStatus(describe(msg.msgFailed, e), true);
    } finally {
      passwordInput.value = "";
      button.disabled = false;
      tick();
    }
  }

  async function withdraw() {
    var bidId = root.dataset.bid;
    if (!bidId || !window.confirm(msg.msgWithdrawConfirm)) { return; }
    var button = $("#bid-withdraw");
    button.disabled = true;
    try {
      await postJson(prefix + "bids/" + bidId + "/withdraw", {});
      root.dataset.bid = "";
      $("#bid-current").hidden = true;
      $("#bid-form").hidden = false;
      setStatus(msg.msgWithdrawn, false);
    } catch (e) {
      setStatus(describe(msg.msgWithdrawFailed, e), true);
    } finally {
      button.disabled = false;
    }
  }

  function init() {
    var form = $("#bid-form");
    if (msg.open !== "1" || !form) { return; }
    // Until the server's clock is known, count from the time the page was rendered.
    startClock(msg.serverTime, performance.timeOrigin, performance.timeOrigin);
    loadParameters().catch(function (e) {
      setStatus(describe(msg.msgFailed, e), true);
    });
    form.addEventListener("submit", sealAndUpload);
    var replace = $("#bid-replace");
    if (replace) { replace.addEventListener("click", function () { form.hidden = false; $("#bid-price").focus(); }); }
    var withdrawButton = $("#bid-withdraw");
    if (withdrawButton) { withdrawButton.addEventListener("click", withdraw); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
}());
