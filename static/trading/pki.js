/*
 * The bidder's side of the platform PKI in the browser (docs/pki.md).
 *
 * - Makes an ECDSA P-256 key pair with WebCrypto, builds a PKCS#10 certificate request in DER by hand
 *   (a minimal ASN.1 DER encoder below) and sends only that request to the platform.
 * - Saves the private key as a password-protected key file: PKCS#8, AES-256-GCM under a key derived
 *   with PBKDF2-HMAC-SHA256 (the same JSON format trading/keyclient.py reads and writes).
 * - Loads that file back to sign a login challenge: "gongjiao-login\n<nonce>\n<username>".
 *
 * No inline script anywhere: the page's CSP allows only 'self' and the nonce.
 */
(function () {
  "use strict";

  var KEYFILE_FORMAT = "gongjiao-key";
  var KEYFILE_VERSION = 1;
  var KEYFILE_ITERATIONS = 600000;
  var KEYFILE_AAD = new TextEncoder().encode("gongjiao-key/1");
  var OID_COMMON_NAME = "2.5.4.3";
  var OID_ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
  var ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" };
  var ECDSA_SHA256 = { name: "ECDSA", hash: { name: "SHA-256" } };

  // --- bytes --------------------------------------------------------------------------------------

  function concat(parts) {
    var length = 0;
    parts.forEach(function (p) { length += p.length; });
    var out = new Uint8Array(length);
    var offset = 0;
    parts.forEach(function (p) { out.set(p, offset); offset += p.length; });
    return out;
  }

  function toBase64(bytes) {
    var binary = "";
    for (var i = 0; i < bytes.length; i += 1) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary);
  }

  function fromBase64(text) {
    var binary = atob(text);
    var out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) { out[i] = binary.charCodeAt(i); }
    return out;
  }

  function pemWrap(label, der) {
    var b64 = toBase64(der);
    var lines = [];
    for (var i = 0; i < b64.length; i += 64) { lines.push(b64.slice(i, i + 64)); }
    return "-----BEGIN " + label + "-----\n" + lines.join("\n") + "\n-----END " + label + "-----\n";
  }

  // --- a minimal ASN.1 DER encoder (just what a PKCS#10 request needs) ----------------------------

  function derLength(n) {
    if (n < 0x80) { return Uint8Array.of(n); }
    var bytes = [];
    while (n > 0) { bytes.unshift(n & 0xff); n = Math.floor(n / 256); }
    return Uint8Array.from([0x80 | bytes.length].concat(bytes));
  }

  function der(tag, content) {
    return concat([Uint8Array.of(tag), derLength(content.length), content]);
  }

  function derSequence(items) { return der(0x30, concat(items)); }
  function derSet(items) { return der(0x31, concat(items)); }
  function derUtf8String(text) { return der(0x0c, new TextEncoder().encode(text)); }
  function derBitString(bytes) { return der(0x03, concat([Uint8Array.of(0), bytes])); }

  // A non-negative INTEGER from big-endian bytes: minimal length, a 0x00 pad if the top bit is set.
  function derUnsignedInteger(bytes) {
    var i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) { i += 1; }
    var body = bytes.slice(i);
    if (body[0] & 0x80) { body = concat([Uint8Array.of(0), body]); }
    return der(0x02, body);
  }

  function derOid(dotted) {
    var arcs = dotted.split(".").map(Number);
    var bytes = [40 * arcs[0] + arcs[1]];
    arcs.slice(2).forEach(function (arc) {
      var chunk = [arc & 0x7f];
      arc = Math.floor(arc / 128);
      while (arc > 0) { chunk.unshift((arc & 0x7f) | 0x80); arc = Math.floor(arc / 128); }
      bytes = bytes.concat(chunk);
    });
    return der(0x06, Uint8Array.from(bytes));
  }

  // WebCrypto returns ECDSA signatures as raw r||s; X.509 wants SEQUENCE { INTEGER r, INTEGER s }.
  function ecdsaRawToDer(raw) {
    var half = raw.length / 2;
    return derSequence([derUnsignedInteger(raw.slice(0, half)), derUnsignedInteger(raw.slice(half))]);
  }

  async function buildCsr(keyPair, commonName) {
    var spki = new Uint8Array(await crypto.subtle.exportKey("spki", keyPair.publicKey));
    var subject = derSequence([derSet([derSequence([derOid(OID_COMMON_NAME), derUtf8String(commonName)])])]);
    var info = derSequence([
      derUnsignedInteger(Uint8Array.of(0)), // version 0 (v1)
      subject,
      spki, // SubjectPublicKeyInfo, already DER
      Uint8Array.of(0xa0, 0x00), // attributes [0] IMPLICIT SET OF Attribute: empty
    ]);
    var raw = new Uint8Array(await crypto.subtle.sign(ECDSA_SHA256, keyPair.privateKey, info));
    var csr = derSequence([info, derSequence([derOid(OID_ECDSA_WITH_SHA256)]), derBitString(ecdsaRawToDer(raw))]);
    return { pem: pemWrap("CERTIFICATE REQUEST", csr), spki: spki };
  }

  // --- the key file -------------------------------------------------------------------------------

  async function deriveFileKey(password, salt, iterations) {
    var base = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false,
      ["deriveKey"]);
    return crypto.subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt: salt, iterations: iterations }, base,
      { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  }

  async function keyFileCreate(privateKey, spki, password, meta) {
    var salt = crypto.getRandomValues(new Uint8Array(16));
    var iv = crypto.getRandomValues(new Uint8Array(12));
    var pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", privateKey));
    var fileKey = await deriveFileKey(password, salt, KEYFILE_ITERATIONS);
    var sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: iv, additionalData: KEYFILE_AAD },
      fileKey, pkcs8));
    pkcs8.fill(0);
    return JSON.stringify({
      format: KEYFILE_FORMAT,
      version: KEYFILE_VERSION,
      algorithm: "EC P-256",
      kdf: { name: "PBKDF2", hash: "SHA-256", iterations: KEYFILE_ITERATIONS, salt: toBase64(salt) },
      cipher: { name: "AES-GCM", iv: toBase64(iv) },
      encrypted_pkcs8: toBase64(sealed),
      public_key_spki: toBase64(spki),
      username: meta.username || "",
      certificate_serial: meta.serial || "",
      created_at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    }, null, 2) + "\n";
  }

  function KeyFileError(code) { this.code = code; }

  // opts.ecdh: also import the key for ECDH (issue 3 unwraps bid content keys with the same key).
  async function keyFileOpen(text, password, opts) {
    var doc;
    try { doc = JSON.parse(text); } catch (e) { throw new KeyFileError("key_file_malformed"); }
    if (!doc || doc.format !== KEYFILE_FORMAT || doc.version !== KEYFILE_VERSION || !doc.kdf || !doc.cipher ||
        doc.kdf.name !== "PBKDF2" || doc.cipher.name !== "AES-GCM" ||
        !(doc.kdf.iterations >= 100000 && doc.kdf.iterations <= 10000000)) {
      throw new KeyFileError("key_file_malformed");
    }
    var fileKey = await deriveFileKey(password, fromBase64(doc.kdf.salt), doc.kdf.iterations);
    var pkcs8;
    try {
      pkcs8 = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromBase64(doc.cipher.iv), additionalData: KEYFILE_AAD },
        fileKey, fromBase64(doc.encrypted_pkcs8));
    } catch (e) {
      throw new KeyFileError("key_password_wrong");
    }
    // Not extractable once loaded: this page only needs to sign with it.
    var key = await crypto.subtle.importKey("pkcs8", pkcs8, ECDSA_P256, false, ["sign"]);
    var ecdhKey = null;
    if (opts && opts.ecdh) {
      ecdhKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "ECDH", namedCurve: "P-256" }, false,
        ["deriveBits", "deriveKey"]);
    }
    return { key: key, ecdhKey: ecdhKey, serial: doc.certificate_serial || "", username: doc.username || "" };
  }

  function download(filename, text) {
    var url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    var a = document.createElement("a");
    a.href = url;
    a.download = filename;
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
  }

  // --- talking to the platform --------------------------------------------------------------------

  function csrfToken(root) {
    var input = root.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  async function postJson(url, body, root) {
    var response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken(root) },
      body: JSON.stringify(body),
    });
    var data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    return { ok: response.ok, status: response.status, data: data };
  }

  function describeError(prefix, result) {
    var error = (result.data && result.data.error) || {};
    return prefix + ": " + (error.message || ("HTTP " + result.status)) + (error.code ? " [" + error.code + "]" : "");
  }

  function setStatus(root, text, isError) {
    var status = root.querySelector("#pki-status");
    status.textContent = text;
    status.className = isError ? "message message-error" : "message";
    if (isError) { status.setAttribute("data-error", "1"); } else { status.removeAttribute("data-error"); }
  }

  function hasWebCrypto() {
    return Boolean(window.isSecureContext && window.crypto && window.crypto.subtle);
  }

  // --- the request page ---------------------------------------------------------------------------

  function initRequestPage(root) {
    var form = root.querySelector("#pki-generate-form");
    if (!form) { return; }
    var msg = root.dataset;
    var lastKeyFile = null;
    var lastFilename = "";

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var password = root.querySelector("#pki-password").value;
      if (password.length < 8) { setStatus(root, msg.msgPasswordShort, true); return; }
      if (password !== root.querySelector("#pki-password2").value) { setStatus(root, msg.msgPasswordMismatch, true); return; }
      if (!hasWebCrypto()) { setStatus(root, msg.msgNoWebcrypto, true); return; }
      var button = root.querySelector("#pki-generate");
      button.disabled = true;
      try {
        setStatus(root, msg.msgGenerating, false);
        // Extractable only so that it can be written to the encrypted key file below.
        var keyPair = await crypto.subtle.generateKey(ECDSA_P256, true, ["sign", "verify"]);
        var csr = await buildCsr(keyPair, (msg.username || "gongjiao-key").slice(0, 64));
        setStatus(root, msg.msgSubmitting, false);
        var result = await postJson(msg.requestUrl, { csr: csr.pem }, root);
        if (!result.ok) { setStatus(root, describeError(msg.msgFailed, result), true); return; }
        var serial = result.data.serial;
        lastKeyFile = await keyFileCreate(keyPair.privateKey, csr.spki, password,
          { username: msg.username, serial: serial });
        lastFilename = "gongjiao-key-" + (msg.username || "user") + "-" + serial.slice(0, 8) + ".json";
        download(lastFilename, lastKeyFile);
        root.querySelector("#pki-serial").textContent = serial;
        root.querySelector("#pki-result").hidden = false;
        form.hidden = true;
        setStatus(root, msg.msgIssued, false);
      } catch (e) {
        setStatus(root, msg.msgFailed + ": " + (e && e.message ? e.message : String(e)), true);
      } finally {
        button.disabled = false;
        root.querySelector("#pki-password").value = "";
        root.querySelector("#pki-password2").value = "";
      }
    });

    root.querySelector("#pki-save-again").addEventListener("click", function () {
      if (lastKeyFile) { download(lastFilename, lastKeyFile); }
    });
  }

  // --- the key-login page -------------------------------------------------------------------------

  function initLoginPage(root) {
    var form = root.querySelector("#pki-login-form");
    var msg = root.dataset;

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (!hasWebCrypto()) { setStatus(root, msg.msgNoWebcrypto, true); return; }
      var file = root.querySelector("#pki-keyfile").files[0];
      if (!file) { setStatus(root, msg.msgKeyFile, true); return; }
      var username = root.querySelector("#pki-username").value.trim();
      var passwordInput = root.querySelector("#pki-login-password");
      var button = root.querySelector("#pki-login");
      button.disabled = true;
      try {
        setStatus(root, msg.msgSigning, false);
        var opened;
        try {
          opened = await keyFileOpen(await file.text(), passwordInput.value);
        } catch (e) {
          if (e instanceof KeyFileError) {
            setStatus(root, (e.code === "key_password_wrong" ? msg.msgPasswordWrong : msg.msgKeyFileMalformed) +
              " [" + e.code + "]", true);
            return;
          }
          throw e;
        }
        var response = await fetch(msg.challengeUrl + "?username=" + encodeURIComponent(username), {
          credentials: "same-origin", headers: { "Accept": "application/json" },
        });
        var challenge = await response.json();
        if (!response.ok) {
          setStatus(root, describeError(msg.msgFailed, { status: response.status, data: challenge }), true);
          return;
        }
        var message = new TextEncoder().encode("gongjiao-login\n" + challenge.nonce + "\n" + username);
        var signature = new Uint8Array(await crypto.subtle.sign(ECDSA_SHA256, opened.key, message));
        var result = await postJson(msg.loginUrl, {
          username: username, nonce: challenge.nonce, signature: toBase64(signature),
          certificate_serial: opened.serial, next: msg.next,
        }, root);
        if (!result.ok) { setStatus(root, describeError(msg.msgFailed, result), true); return; }
        setStatus(root, msg.msgSuccess + " " + result.data.username, false);
        window.location.assign(result.data.redirect || "/");
      } catch (e) {
        setStatus(root, msg.msgFailed + ": " + (e && e.message ? e.message : String(e)), true);
      } finally {
        passwordInput.value = "";
        button.disabled = false;
      }
    });
  }

  function init() {
    var requestRoot = document.getElementById("pki-request");
    if (requestRoot) { initRequestPage(requestRoot); }
    var loginRoot = document.getElementById("pki-key-login");
    if (loginRoot) { initLoginPage(loginRoot); }
  }

  // Exposed for tests and for issue 3's bid page (the same key file opens there).
  window.GongjiaoPki = {
    buildCsr: buildCsr, ecdsaRawToDer: ecdsaRawToDer, keyFileCreate: keyFileCreate, keyFileOpen: keyFileOpen,
    derOid: derOid, toBase64: toBase64,
  };

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
}());
