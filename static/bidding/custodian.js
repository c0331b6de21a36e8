/*
 * The custodian's page (templates/bidding/custodian.html): open a share of a tender's opening key in
 * this browser with the custodian's key file and hand it in after the deadline (docs/custodian-key.md).
 *
 * The share arrives wrapped exactly like a bid's content key (docs/sealed-bid.md §3) with
 * to = "custodian-share", kid = the certificate serial, and the binding tender = the tender code,
 * lot = the share index, bidder = the key id. The key file is read by GJSeal.loadKeyFile (seal.js).
 * Before sending, the opened share y is checked against its public commitment y·G.
 */
(function () {
  "use strict";

  var encoder = new TextEncoder();
  var ECDH_P256 = { name: "ECDH", namedCurve: "P-256" };
  var WRAP_AAD = encoder.encode("GJ-SEAL-1 wrap");
  var WRAP_INFO_PREFIX = "GJ-SEAL-1 wrap|";
  var SHARE_TO = "custodian-share";
  // PKCS#8 of a P-256 scalar without its public key: WebCrypto derives the point (y·G) on import.
  var PKCS8_P256_PREFIX = Uint8Array.from([
    0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x27, 0x30, 0x25, 0x02, 0x01,
    0x01, 0x04, 0x20,
  ]);

  function CustodianError(code) { this.code = code; }

  function b64u(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function b64uDecode(text) {
    if (typeof text !== "string" || /[^A-Za-z0-9_-]/.test(text)) { throw new CustodianError("custodian_document_malformed"); }
    var s = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
    var out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) { out[i] = s.charCodeAt(i); }
    return out;
  }

  function concat(parts) {
    var length = 0;
    parts.forEach(function (p) { length += p.length; });
    var out = new Uint8Array(length);
    var offset = 0;
    parts.forEach(function (p) { out.set(p, offset); offset += p.length; });
    return out;
  }

  function equalBytes(a, b) {
    if (a.length !== b.length) { return false; }
    var diff = 0;
    for (var i = 0; i < a.length; i++) { diff |= a[i] ^ b[i]; }
    return diff === 0;
  }

  // y·G, encoded as the 65-byte uncompressed point, computed by WebCrypto.
  async function commitmentOf(y) {
    var pkcs8 = concat([PKCS8_P256_PREFIX, y]);
    try {
      var key = await crypto.subtle.importKey("pkcs8", pkcs8, ECDH_P256, true, ["deriveBits"]);
      var jwk = await crypto.subtle.exportKey("jwk", key);
      return concat([Uint8Array.of(4), b64uDecode(jwk.x), b64uDecode(jwk.y)]);
    } catch (e) {
      throw new CustodianError("custodian_share_invalid");
    } finally {
      pkcs8.fill(0);
    }
  }

  /*
   * Unwrap the share in a share document (GET /bidding/custodian/shares/<id>/) with the custodian's
   * ECDH private key (CryptoKey). Returns the share as b64u, after checking it against its commitment.
   */
  async function openShare(doc, ecdhKey) {
    var wrap = doc && doc.wrap;
    if (!wrap || wrap.to !== SHARE_TO || doc.v !== 1) { throw new CustodianError("custodian_document_malformed"); }
    var epk = b64uDecode(wrap.epk);
    var iv = b64uDecode(wrap.iv);
    var ct = b64uDecode(wrap.ct);
    if (epk.length !== 65 || iv.length !== 12 || ct.length !== 48) { throw new CustodianError("custodian_share_wrap_invalid"); }
    var info = encoder.encode(WRAP_INFO_PREFIX + [wrap.to, wrap.kid, doc.tender, String(doc.index), doc.key_id].join("|"));
    var y;
    try {
      var peer = await crypto.subtle.importKey("raw", epk, ECDH_P256, false, []);
      var z = new Uint8Array(await crypto.subtle.deriveBits({ name: "ECDH", public: peer }, ecdhKey, 256));
      var ikm = await crypto.subtle.importKey("raw", z, "HKDF", false, ["deriveKey"]);
      z.fill(0);
      var kek = await crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: epk, info: info }, ikm,
        { name: "AES-GCM", length: 256 }, false, ["decrypt"]);
      y = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: iv, additionalData: WRAP_AAD }, kek, ct));
    } catch (e) {
      throw new CustodianError("custodian_share_wrap_invalid");
    }
    if (!equalBytes(await commitmentOf(y), b64uDecode(doc.commitment))) {
      throw new CustodianError("custodian_share_invalid");
    }
    var out = b64u(y);
    y.fill(0);
    return out;
  }

  // --- the page -------------------------------------------------------------------------------------

  function csrfToken(root) {
    var input = root.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  async function fetchJson(url, options) {
    var response = await fetch(url, Object.assign({ credentials: "same-origin", headers: { "Accept": "application/json" } }, options || {}));
    var data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (!response.ok) {
      var error = (data && data.error) || {};
      var err = new CustodianError(error.code || ("http_" + response.status));
      err.message = error.message || "";
      throw err;
    }
    return data;
  }

  function messageFor(root, error) {
    var ds = root.dataset;
    switch (error && error.code) {
      case "key_password_wrong": return ds.msgPasswordWrong;
      case "key_file_malformed": return ds.msgKeyFileMalformed;
      case "custodian_share_wrap_invalid": return ds.msgWrongKey;
      case "custodian_share_invalid": return ds.msgCommitment;
      default: return ds.msgFailed + ": " + ((error && (error.message || error.code)) || "");
    }
  }

  async function reveal(root, row, setStatus) {
    var ds = root.dataset;
    var file = root.querySelector("#custodian-keyfile").files[0];
    if (!file) { setStatus(ds.msgKeyFile, true); return; }
    var keys = await window.GJSeal.loadKeyFile(file, root.querySelector("#custodian-password").value);
    setStatus(ds.msgOpening);
    var doc = await fetchJson(row.dataset.shareUrl);
    var share = await openShare(doc, keys.ecdhKey);
    setStatus(ds.msgSending);
    await fetchJson(row.dataset.revealUrl, {
      method: "POST",
      headers: { "Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken(root) },
      body: JSON.stringify({ share: share }),
    });
    setStatus(ds.msgDone);
    var button = row.querySelector(".custodian-reveal");
    if (button) { button.remove(); }
  }

  function init() {
    var root = document.getElementById("custodian-shares");
    if (!root) { return; }
    var hasCrypto = Boolean(window.isSecureContext && window.crypto && window.crypto.subtle && window.GJSeal);
    root.querySelectorAll("tr.custodian-share").forEach(function (row) {
      var button = row.querySelector(".custodian-reveal");
      var status = row.querySelector(".custodian-status");
      function setStatus(text, isError) {
        status.textContent = text || "";
        status.classList.toggle("error", Boolean(isError));
      }
      if (!button) { return; }
      if (!hasCrypto) { button.disabled = true; setStatus(root.dataset.msgNoWebcrypto, true); return; }
      button.addEventListener("click", async function () {
        button.disabled = true;
        try {
          await reveal(root, row, setStatus);
        } catch (e) {
          setStatus(messageFor(root, e), true);
          button.disabled = false;
        }
      });
    });
  }

  window.GJCustodian = { openShare: openShare, commitmentOf: commitmentOf };

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
}());
