/*
 * GJ-SEAL v1 in the browser (docs/sealed-bid.md): seal a bid with WebCrypto, open it, unwrap its
 * content key, load the bidder's key file, and upload the ciphertext resumably.
 *
 * - No libraries and no inline script: the page's CSP allows only 'self' and the nonce.
 * - Memory stays flat: the document is read from the File in slices and the ciphertext is built as a
 *   Blob of Blobs, so hundreds of MB never sit in one ArrayBuffer.
 * - WebCrypto has no incremental digest, and the signed statement needs the SHA-256 of the whole
 *   ciphertext (and the form the SHA-256 of the whole document), so SHA-256 is implemented here
 *   (FIPS 180-4) and checked against crypto.subtle.digest by the browser tests. MD5 too, only as the
 *   document fingerprint the data specification records as evidence (never for security).
 * - The header, form and reading rules, and the order of the checks (hence the refusal codes), are
 *   those of bidding/envelope; tests/e2e/test_seal_browser.py binds the two with the vectors.
 * - canonicalJson equals Python's json.dumps(sort_keys=True, separators=(",", ":"),
 *   ensure_ascii=False) byte for byte for the values the format uses: strings, safe integers,
 *   booleans, null, arrays and objects. Floats are refused (Python writes 1.0 where JS writes 1);
 *   keys are sorted by code point, as Python sorts str, not by UTF-16 code unit as JS's sort does;
 *   lone surrogates are refused (Python could not encode them as UTF-8 either).
 */
(function () {
  "use strict";

  var ALG = "GJ-SEAL-1";
  var VERSION = 1;
  var TAG_BYTES = 16;
  var MIN_CHUNK = 4096;
  var MAX_CHUNK = 4 * 1024 * 1024;
  // Plaintext is read and encrypted in windows of about this many bytes: large enough that the
  // per-call cost of Blob.slice and WebCrypto vanishes, small enough that memory stays flat.
  var WINDOW_BYTES = 4 * 1024 * 1024;
  var encoder = new TextEncoder();
  var PT_MAGIC = encoder.encode("GJPT1\n");
  var CHUNK_AAD_PREFIX = encoder.encode(ALG);
  var WRAP_AAD = encoder.encode(ALG + " wrap");
  var WRAP_INFO_PREFIX = ALG + " wrap|";
  var ECDH_P256 = { name: "ECDH", namedCurve: "P-256" };
  var ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" };
  var ECDSA_SHA256 = { name: "ECDSA", hash: { name: "SHA-256" } };
  var KEYFILE_FORMAT = "gongjiao-key";
  var KEYFILE_AAD = encoder.encode("gongjiao-key/1");

  // --- errors ---------------------------------------------------------------------------------------

  // `code` is one of docs/sealed-bid.md's refusal codes (or key_file_* / upload_* / a server's code).
  function SealError(code, message, details) {
    this.name = "SealError";
    this.code = code;
    this.message = message || code;
    this.details = details || {};
  }
  SealError.prototype = Object.create(Error.prototype);
  SealError.prototype.constructor = SealError;

  function fail(code, message, details) { throw new SealError(code, message, details); }

  // --- bytes ----------------------------------------------------------------------------------------

  function concat(parts) {
    var length = 0;
    parts.forEach(function (p) { length += p.length; });
    var out = new Uint8Array(length);
    var offset = 0;
    parts.forEach(function (p) { out.set(p, offset); offset += p.length; });
    return out;
  }

  // Bytes from a Uint8Array, an ArrayBuffer or view, or a b64u string (as the vectors carry them).
  function asBytes(value) {
    if (value instanceof Uint8Array) { return value; }
    if (value instanceof ArrayBuffer) { return new Uint8Array(value); }
    if (ArrayBuffer.isView(value)) { return new Uint8Array(value.buffer, value.byteOffset, value.byteLength); }
    if (typeof value === "string") { return b64uDecode(value); }
    return fail("invalid_argument", "bytes expected");
  }

  function b64u(bytes) {
    bytes = asBytes(bytes);
    var binary = "";
    for (var i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // Strict: the unpadded URL-safe alphabet only, as the format writes it.
  function b64uDecode(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
      return fail("invalid_base64", "not base64url");
    }
    var binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
    var out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) { out[i] = binary.charCodeAt(i); }
    return out;
  }

  function base64Decode(text) {
    if (typeof text !== "string") { throw new TypeError("base64 text expected"); }
    var binary = atob(text);
    var out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) { out[i] = binary.charCodeAt(i); }
    return out;
  }

  function hex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i += 1) { out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16); }
    return out;
  }

  function u32be(n) { return Uint8Array.of((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255); }

  function equalBytes(a, b) {
    if (a.length !== b.length) { return false; }
    var diff = 0;
    for (var i = 0; i < a.length; i += 1) { diff |= a[i] ^ b[i]; }
    return diff === 0;
  }

  function randomBytes(n) { return crypto.getRandomValues(new Uint8Array(n)); }

  // --- canonical JSON -------------------------------------------------------------------------------

  // Python orders str keys by code point; JS's default sort orders by UTF-16 code unit, which
  // differs once a key mixes characters above U+FFFF with ones in U+E000..U+FFFF.
  function compareCodePoints(a, b) {
    var i = 0;
    var j = 0;
    while (i < a.length && j < b.length) {
      var ca = a.codePointAt(i);
      var cb = b.codePointAt(j);
      if (ca !== cb) { return ca < cb ? -1 : 1; }
      i += ca > 0xffff ? 2 : 1;
      j += cb > 0xffff ? 2 : 1;
    }
    if (i < a.length) { return 1; }
    return j < b.length ? -1 : 0;
  }

  function checkString(s) {
    // A lone surrogate: JSON.stringify would escape it, Python would fail to encode it.
    if (/[\ud800-\udbff](?![\udc00-\udfff])|(^|[^\ud800-\udbff])[\udc00-\udfff]/.test(s)) {
      fail("canonical_json_unsupported", "lone surrogate in a string");
    }
    return s;
  }

  function canonicalText(value) {
    if (value === null) { return "null"; }
    if (value === true) { return "true"; }
    if (value === false) { return "false"; }
    if (typeof value === "string") {
      // JSON.stringify escapes exactly what Python's encoder escapes with ensure_ascii=False:
      // '"', '\\', \b \f \n \r \t, and other controls below U+0020 as lower-case \u00xx.
      return JSON.stringify(checkString(value));
    }
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value)) { fail("canonical_json_unsupported", "only safe integers: " + value); }
      return String(value === 0 ? 0 : value); // -0 is "0" in JS; Python has no int -0
    }
    if (Array.isArray(value)) { return "[" + value.map(canonicalText).join(",") + "]"; }
    var proto = typeof value === "object" ? Object.getPrototypeOf(value) : undefined;
    if (proto === Object.prototype || proto === null) {
      var keys = Object.keys(value).filter(function (k) { return value[k] !== undefined; });
      keys.forEach(checkString);
      keys.sort(compareCodePoints);
      return "{" + keys.map(function (k) { return JSON.stringify(k) + ":" + canonicalText(value[k]); }).join(",") + "}";
    }
    return fail("canonical_json_unsupported", "unsupported value: " + typeof value);
  }

  function canonicalJson(value) { return encoder.encode(canonicalText(value)); }

  // --- SHA-256, incremental (FIPS 180-4) ------------------------------------------------------------

  var K256 = new Int32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);

  function Sha256() {
    this.h = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    this.w = new Int32Array(64);
    this.block = new Uint8Array(64);
    this.blockLength = 0;
    this.length = 0; // bytes hashed so far (a double: exact up to 2^53)
    this.done = false;
  }

  Sha256.prototype._compress = function (p, off) {
    var w = this.w;
    var h = this.h;
    var i;
    var t1;
    var t2;
    for (i = 0; i < 16; i += 1) {
      var k = off + 4 * i;
      w[i] = (p[k] << 24) | (p[k + 1] << 16) | (p[k + 2] << 8) | p[k + 3];
    }
    for (i = 16; i < 64; i += 1) {
      var x = w[i - 15];
      var y = w[i - 2];
      var s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      var s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    var a = h[0]; var b = h[1]; var c = h[2]; var d = h[3];
    var e = h[4]; var f = h[5]; var g = h[6]; var hh = h[7];
    for (i = 0; i < 64; i += 1) {
      t1 = (hh + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
        ((e & f) ^ (~e & g)) + K256[i] + w[i]) | 0;
      t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
        ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + hh) | 0;
  };

  Sha256.prototype.update = function (data) {
    if (this.done) { throw new Error("sha256: update after digest"); }
    data = asBytes(data);
    var pos = 0;
    var n = data.length;
    this.length += n;
    if (this.blockLength > 0) {
      var take = Math.min(64 - this.blockLength, n);
      this.block.set(data.subarray(0, take), this.blockLength);
      this.blockLength += take;
      pos = take;
      if (this.blockLength < 64) { return this; }
      this._compress(this.block, 0);
      this.blockLength = 0;
    }
    for (; pos + 64 <= n; pos += 64) { this._compress(data, pos); }
    if (pos < n) {
      this.block.set(data.subarray(pos), 0);
      this.blockLength = n - pos;
    }
    return this;
  };

  Sha256.prototype.digest = function () {
    if (this.done) { throw new Error("sha256: digest twice"); }
    var bits = this.length * 8;
    var tail = new Uint8Array(this.blockLength < 56 ? 64 : 128);
    tail.set(this.block.subarray(0, this.blockLength), 0);
    tail[this.blockLength] = 0x80;
    var hi = Math.floor(bits / 0x100000000);
    var lo = bits >>> 0;
    tail.set(u32be(hi), tail.length - 8);
    tail.set(u32be(lo), tail.length - 4);
    for (var off = 0; off < tail.length; off += 64) { this._compress(tail, off); }
    this.done = true;
    var out = new Uint8Array(32);
    for (var i = 0; i < 8; i += 1) { out.set(u32be(this.h[i]), 4 * i); }
    return out;
  };

  Sha256.prototype.hexdigest = function () { return hex(this.digest()); };

  function sha256Hex(bytes) { return new Sha256().update(bytes).hexdigest(); }

  // --- MD5, incremental (RFC 1321) ------------------------------------------------------------------
  // Not for security: the bid document's MD5 is the file fingerprint (特征码) the data specification
  // records at submission (DOMAIN D2), and WebCrypto does not offer MD5.

  var MD5_S = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
    5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15,
    21, 6, 10, 15, 21];
  var MD5_K = new Int32Array(64);
  for (var mk = 0; mk < 64; mk += 1) { MD5_K[mk] = Math.floor(Math.abs(Math.sin(mk + 1)) * 0x100000000) | 0; }

  function Md5() {
    this.h = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
    this.m = new Int32Array(16);
    this.block = new Uint8Array(64);
    this.blockLength = 0;
    this.length = 0;
    this.done = false;
  }

  Md5.prototype._compress = function (p, off) {
    var m = this.m;
    var h = this.h;
    for (var i = 0; i < 16; i += 1) {
      var k = off + 4 * i;
      m[i] = p[k] | (p[k + 1] << 8) | (p[k + 2] << 16) | (p[k + 3] << 24);
    }
    var a = h[0]; var b = h[1]; var c = h[2]; var d = h[3];
    for (i = 0; i < 64; i += 1) {
      var f;
      var g;
      if (i < 16) { f = (b & c) | (~b & d); g = i; } else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) & 15; } else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) & 15; } else { f = c ^ (b | ~d); g = (7 * i) & 15; }
      var t = (a + f + MD5_K[i] + m[g]) | 0;
      a = d; d = c; c = b;
      b = (b + ((t << MD5_S[i]) | (t >>> (32 - MD5_S[i])))) | 0;
    }
    h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
  };

  Md5.prototype.update = Sha256.prototype.update;

  Md5.prototype.digest = function () {
    if (this.done) { throw new Error("md5: digest twice"); }
    var bits = this.length * 8;
    var tail = new Uint8Array(this.blockLength < 56 ? 64 : 128);
    tail.set(this.block.subarray(0, this.blockLength), 0);
    tail[this.blockLength] = 0x80;
    var lo = bits >>> 0;
    var hi = Math.floor(bits / 0x100000000);
    for (var b = 0; b < 4; b += 1) {
      tail[tail.length - 8 + b] = (lo >>> (8 * b)) & 255;
      tail[tail.length - 4 + b] = (hi >>> (8 * b)) & 255;
    }
    for (var off = 0; off < tail.length; off += 64) { this._compress(tail, off); }
    this.done = true;
    var out = new Uint8Array(16);
    for (var i = 0; i < 16; i += 1) { out[i] = (this.h[i >> 2] >>> (8 * (i & 3))) & 255; }
    return out;
  };

  Md5.prototype.hexdigest = function () { return hex(this.digest()); };

  // --- byte sources: a Uint8Array or a Blob/File, read by range --------------------------------------

  function sourceOf(documentFile, documentBytes) {
    if (documentFile instanceof Blob) {
      return { size: documentFile.size, read: async function (start, end) {
        if (end <= start) { return new Uint8Array(0); }
        return new Uint8Array(await documentFile.slice(start, end).arrayBuffer());
      } };
    }
    var bytes = documentBytes === undefined || documentBytes === null ? new Uint8Array(0) : asBytes(documentBytes);
    return { size: bytes.length, read: async function (start, end) { return bytes.subarray(start, end); } };
  }

  // The plaintext is a small prefix (magic, form length, form) followed by the document.
  function plaintextSource(prefix, document) {
    return { size: prefix.length + document.size, read: async function (start, end) {
      var parts = [];
      if (start < prefix.length) { parts.push(prefix.subarray(start, Math.min(end, prefix.length))); }
      if (end > prefix.length) {
        parts.push(await document.read(Math.max(start, prefix.length) - prefix.length, end - prefix.length));
      }
      return parts.length === 1 ? parts[0] : concat(parts);
    } };
  }

  function windowSize(chunk) { return Math.max(chunk, Math.floor(WINDOW_BYTES / chunk) * chunk); }

  // SHA-256 (for the form) and, when asked, MD5 (the evidence fingerprint) in one pass over the file.
  async function digestSource(source, onProgress, withMd5) {
    var hasher = new Sha256();
    var md5 = withMd5 ? new Md5() : null;
    var step = WINDOW_BYTES;
    for (var pos = 0; pos < source.size; pos += step) {
      var piece = await source.read(pos, Math.min(pos + step, source.size));
      hasher.update(piece);
      if (md5) { md5.update(piece); }
      if (onProgress) { onProgress({ phase: "digest", done: Math.min(pos + step, source.size), total: source.size }); }
    }
    return { sha256: hasher.hexdigest(), md5: md5 ? md5.hexdigest() : null };
  }

  // --- the format: rules of docs/sealed-bid.md, checked as bidding/envelope checks them --------------

  var HEADER_MAX = 16 * 1024;
  var FORM_MAX = 1024 * 1024;
  var FRAMING = 10; // "GJPT1\n" + uint32 form length
  var TEXT_MAX = 1000;
  var ITEMS_MAX = 100;
  var LOT_MAX = 10000;
  var MAX_CHUNKS = 4294967296;
  var KC_PREFIX = encoder.encode(ALG + " key");
  var BINDING_RE = /^[0-9A-Za-z*_.-]{1,64}$/;
  var KID_RE = /^[0-9A-Za-z_.-]{1,64}$/;
  var CERT_RE = /^[0-9a-f]{1,64}$/;
  var PRICE_RE = /^(0|[1-9][0-9]{0,13})\.[0-9]{2}$/;
  var CURRENCY_RE = /^[A-Z]{3}$/;
  var HEX64_RE = /^[0-9a-f]{64}$/;
  var HEADER_KEYS = ["alg", "bidder", "cert", "chunk", "kc", "lot", "np", "size", "tender", "v", "wraps"];
  var WRAP_KEYS = ["ct", "epk", "iv", "kid", "to"];
  var FORM_REQUIRED = ["bidder", "currency", "document", "lot", "price", "tender", "v"];
  var FORM_OPTIONAL = ["duration_days", "items", "project_manager", "quality"];
  var DOCUMENT_KEYS = ["content_type", "name", "sha256", "size"];

  function isString(v) { return typeof v === "string"; }
  function isInt(v) { return Number.isSafeInteger(v); } // JSON booleans are never numbers in JS
  function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function sameKeys(obj, keys) { return Object.keys(obj).sort().join(",") === keys.join(","); }

  function chunkCount(size, chunk) { return Math.max(1, Math.ceil(size / chunk)); }

  function expectedCiphertextSize(header) { return header.size + TAG_BYTES * chunkCount(header.size, header.chunk); }

  function checkChunk(chunk, code) {
    if (!isInt(chunk) || chunk < MIN_CHUNK || chunk > MAX_CHUNK || (chunk & (chunk - 1)) !== 0) {
      fail(code || "envelope_header_malformed", "chunk must be a power of two from 4096 to 4194304");
    }
    return chunk;
  }

  function checkBinding(tender, lot, bidder, code) {
    code = code || "envelope_header_malformed";
    if (!isString(tender) || !BINDING_RE.test(tender)) { fail(code, "tender must be 1-64 characters of [0-9A-Za-z*_.-]"); }
    if (!isString(bidder) || !BINDING_RE.test(bidder)) { fail(code, "bidder must be 1-64 characters of [0-9A-Za-z*_.-]"); }
    if (!isInt(lot) || lot < 1 || lot > LOT_MAX) { fail(code, "lot must be an integer 1..10000"); }
  }

  // Strict b64u as the format writes it: no padding, and the one canonical encoding of the bytes.
  function b64uField(text, code, what) {
    var bytes = null;
    try { bytes = b64uDecode(text); } catch (e) { bytes = null; }
    if (!bytes || b64u(bytes) !== text) { fail(code || "envelope_header_malformed", what + " is not canonical base64url"); }
    return bytes;
  }

  async function checkPoint(point, code) {
    if (point.length !== 65 || point[0] !== 4) { fail(code, "a P-256 public key is a 65-byte uncompressed point"); }
    try {
      return await crypto.subtle.importKey("raw", point, ECDH_P256, true, []);
    } catch (e) {
      return fail(code, "the point is not on P-256");
    }
  }

  // Form text: at most 1000 characters and nothing beyond U+FFFF (JS and Python would sort such keys
  // differently), which also refuses lone surrogates.
  function checkText(value, what, nonEmpty) {
    if (!isString(value) || value.length > TEXT_MAX || (nonEmpty && !value) || /[\ud800-\udfff]/.test(value)) {
      fail("envelope_plaintext_malformed", what + " must be a string of at most 1000 characters within the BMP");
    }
  }

  // The bid form (§1): what the platform would refuse is refused here before anything is sealed.
  function checkForm(form, tender, lot, bidder) {
    var bad = function (detail) { fail("envelope_plaintext_malformed", detail); };
    if (!isObject(form)) { bad("the form is not an object"); }
    var keys = Object.keys(form);
    var missing = FORM_REQUIRED.filter(function (k) { return !(k in form); });
    var extra = keys.filter(function (k) { return FORM_REQUIRED.indexOf(k) < 0 && FORM_OPTIONAL.indexOf(k) < 0; });
    if (missing.length || extra.length) { bad("the form needs " + FORM_REQUIRED.join(", ") + " and may have " + FORM_OPTIONAL.join(", ")); }
    if (form.v !== VERSION) { bad("form version must be 1"); }
    checkBinding(form.tender, form.lot, form.bidder, "envelope_plaintext_malformed");
    if (form.tender !== tender || form.lot !== lot || form.bidder !== bidder) { bad("the form names another tender, lot or bidder than the header"); }
    if (!isString(form.price) || !PRICE_RE.test(form.price)) { bad("price is a decimal string with two places"); }
    if (!isString(form.currency) || !CURRENCY_RE.test(form.currency)) { bad("currency is three capital letters"); }
    if ("duration_days" in form && form.duration_days !== null &&
        (!isInt(form.duration_days) || form.duration_days < 0 || form.duration_days > 100000)) {
      bad("duration_days is a non-negative integer");
    }
    if ("quality" in form) { checkText(form.quality, "quality"); }
    if ("project_manager" in form) {
      var manager = form.project_manager;
      if (!isObject(manager) || !sameKeys(manager, ["name", "reg_no"])) { bad("project_manager is {name, reg_no}"); }
      checkText(manager.name, "project_manager.name");
      checkText(manager.reg_no, "project_manager.reg_no");
    }
    if ("items" in form) {
      if (!isObject(form.items) || Object.keys(form.items).length > ITEMS_MAX) { bad("items is an object of at most 100 strings"); }
      Object.keys(form.items).forEach(function (name) {
        checkText(name, "an item name", true);
        checkText(form.items[name], "item " + name);
      });
    }
    var document = form.document;
    if (!isObject(document) || !sameKeys(document, DOCUMENT_KEYS)) { bad("document is {name, size, sha256, content_type}"); }
    checkText(document.name, "document.name", true);
    checkText(document.content_type, "document.content_type");
    if (!isInt(document.size) || document.size < 0) { bad("document.size is a non-negative integer"); }
    if (!isString(document.sha256) || !HEX64_RE.test(document.sha256)) { bad("document.sha256 is 64 lower-case hex digits"); }
    return form;
  }

  function chunkNonce(np, index, final) {
    var nonce = new Uint8Array(12);
    nonce.set(np, 0);
    nonce.set(u32be(index), 7);
    nonce[11] = final ? 1 : 0;
    return nonce;
  }

  function chunkAad(headerDigest, index, final) {
    return concat([CHUNK_AAD_PREFIX, headerDigest, u32be(index), Uint8Array.of(final ? 1 : 0)]);
  }

  function wrapInfo(to, kid, tender, lot, bidder) {
    return encoder.encode(WRAP_INFO_PREFIX + [to, kid, tender, String(lot), bidder].join("|"));
  }

  async function keyCommitment(cek) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", concat([KC_PREFIX, cek])));
  }

  /*
   * Parse and validate header bytes (§2, §3); refuses with envelope_header_malformed. Asynchronous
   * because WebCrypto checks that the wraps' ephemeral points lie on the curve.
   */
  async function parseHeader(headerBytes) {
    headerBytes = asBytes(headerBytes);
    var bad = function (detail) { fail("envelope_header_malformed", detail); };
    if (headerBytes.length === 0 || headerBytes.length > HEADER_MAX) { bad("the header is empty or longer than 16 KiB"); }
    var header;
    try {
      header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
    } catch (e) {
      bad("the header is not UTF-8 JSON");
    }
    var canonical = null;
    try { canonical = canonicalJson(header); } catch (e) { canonical = null; }
    if (!isObject(header) || !canonical || !equalBytes(canonical, headerBytes)) { bad("the header is not canonical JSON"); }
    if (!sameKeys(header, HEADER_KEYS)) { bad("the header must have exactly " + HEADER_KEYS.join(", ")); }
    if (header.alg !== ALG || header.v !== VERSION) { bad("unsupported alg or version"); }
    checkBinding(header.tender, header.lot, header.bidder);
    if (!isString(header.cert) || !CERT_RE.test(header.cert)) { bad("cert must be lower-case hex"); }
    checkChunk(header.chunk);
    if (!isInt(header.size) || header.size < FRAMING || chunkCount(header.size, header.chunk) > MAX_CHUNKS) {
      bad("size is out of range");
    }
    if (b64uField(header.np, null, "np").length !== 7) { bad("np must be 7 bytes"); }
    if (b64uField(header.kc, null, "kc").length !== 32) { bad("kc must be 32 bytes"); }
    if (!Array.isArray(header.wraps) || header.wraps.length < 1 || header.wraps.length > 2) { bad("one or two wraps"); }
    for (var position = 0; position < header.wraps.length; position += 1) {
      var wrap = header.wraps[position];
      if (!isObject(wrap) || !sameKeys(wrap, WRAP_KEYS)) { bad("wrap " + position + " must have exactly " + WRAP_KEYS.join(", ")); }
      var expectedTo = position === 0 ? "bidder" : "custodian";
      if (wrap.to !== expectedTo) { bad("wrap " + position + " must be addressed to " + expectedTo); }
      if (!isString(wrap.kid) || !KID_RE.test(wrap.kid) || (position === 0 && wrap.kid !== header.cert)) {
        bad("wrap " + position + " has an invalid kid");
      }
      await checkPoint(b64uField(wrap.epk, null, "epk"), "envelope_header_malformed");
      if (b64uField(wrap.iv, null, "iv").length !== 12 || b64uField(wrap.ct, null, "ct").length !== 48) {
        bad("wrap " + position + ": iv is 12 bytes, ct 48 bytes");
      }
    }
    return header;
  }

  function signatureStatement(headerDigestHex, ciphertextSha256, ciphertextSize) {
    return canonicalJson({
      ciphertext_sha256: ciphertextSha256, ciphertext_size: ciphertextSize, header_sha256: headerDigestHex, v: VERSION,
    });
  }

  // A P-256 private scalar as PKCS#8 without the optional public key: WebCrypto (BoringSSL) derives
  // the public point itself. Used only for the fixed ephemeral keys of the known-answer vectors.
  var PKCS8_P256_PREFIX = Uint8Array.from([
    0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x27, 0x30, 0x25, 0x02, 0x01,
    0x01, 0x04, 0x20,
  ]);

  // A fixed ephemeral key: {pkcs8} (DER, b64u or bytes) or {d} (the 32-byte scalar).
  async function ecdhKeyPairFromScalar(fixed) {
    var pkcs8;
    if (fixed.pkcs8) {
      pkcs8 = asBytes(fixed.pkcs8).slice();
    } else {
      var d = asBytes(fixed.d);
      if (d.length !== 32) { fail("invalid_argument", "a P-256 scalar is 32 bytes"); }
      pkcs8 = concat([PKCS8_P256_PREFIX, d]);
    }
    try {
      var extractable = await crypto.subtle.importKey("pkcs8", pkcs8, ECDH_P256, true, ["deriveBits"]);
      var jwk = await crypto.subtle.exportKey("jwk", extractable);
      var point = concat([Uint8Array.of(4), b64uDecode(jwk.x), b64uDecode(jwk.y)]);
      var privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, ECDH_P256, false, ["deriveBits"]);
    } finally {
      pkcs8.fill(0);
    }
    return { privateKey: privateKey, point: point };
  }

  async function freshEphemeral() {
    var pair = await crypto.subtle.generateKey(ECDH_P256, false, ["deriveBits"]);
    var point = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    return { privateKey: pair.privateKey, point: point };
  }

  async function deriveKek(privateKey, publicKey, epk, info) {
    var z = new Uint8Array(await crypto.subtle.deriveBits({ name: "ECDH", public: publicKey }, privateKey, 256));
    var ikm = await crypto.subtle.importKey("raw", z, "HKDF", false, ["deriveBits"]);
    z.fill(0);
    var kek = new Uint8Array(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: epk, info: info },
      ikm, 256));
    var key = await crypto.subtle.importKey("raw", kek, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
    kek.fill(0);
    return key;
  }

  async function wrapFor(recipient, cek, binding, fixed) {
    var publicKey = await checkPoint(asBytes(recipient.publicKey), "invalid_argument");
    var eph = fixed && (fixed.d || fixed.pkcs8) ? await ecdhKeyPairFromScalar(fixed) : await freshEphemeral();
    var iv = fixed && fixed.iv ? asBytes(fixed.iv) : randomBytes(12);
    var info = wrapInfo(recipient.to, recipient.kid, binding.tender, binding.lot, binding.bidder);
    var kek = await deriveKek(eph.privateKey, publicKey, eph.point, info);
    var ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: iv, additionalData: WRAP_AAD }, kek, cek));
    return { to: recipient.to, kid: recipient.kid, epk: b64u(eph.point), iv: b64u(iv), ct: b64u(ct) };
  }

  function progress(onProgress, phase, done, total) {
    if (onProgress) { onProgress({ phase: phase, done: done, total: total }); }
  }

  /*
   * Seal a bid. opts: {form (the caller's fields: price, currency, duration_days, quality,
   * project_manager, items), documentFile (Blob/File) | documentBytes, documentName, contentType,
   * tender, lot, bidder, certSerial, signingKey (ECDSA P-256 CryptoKey), recipients [{to, kid,
   * publicKey (b64u point)}] (bidder first, then the custodian), chunk, onProgress}.
   * Returns {headerBytes, signature, ciphertext (Blob), ciphertextSha256, ciphertextSize, form}.
   * The content key is not returned: it leaves this function only wrapped in the header.
   * _cek, _noncePrefix and _ephemeral ([{pkcs8 | d, iv}] per recipient) fix the random inputs for the
   * known-answer vectors; never pass them otherwise.
   */
  async function seal(opts) {
    var chunk = checkChunk(opts.chunk || 1048576, "invalid_argument");
    checkBinding(opts.tender, opts.lot, opts.bidder, "invalid_argument");
    var binding = { tender: opts.tender, lot: opts.lot, bidder: opts.bidder };
    if (!isString(opts.certSerial) || !CERT_RE.test(opts.certSerial)) { fail("invalid_argument", "certSerial is lower-case hex"); }
    var recipients = opts.recipients || [];
    if (recipients.length < 1 || recipients.length > 2) { fail("invalid_argument", "one or two recipients"); }
    recipients.forEach(function (r, position) {
      if (!r || r.to !== (position === 0 ? "bidder" : "custodian") || !isString(r.kid) || !KID_RE.test(r.kid) ||
          (position === 0 && r.kid !== opts.certSerial)) {
        fail("invalid_argument", "recipients: the bidder (kid = certSerial) first, then the custodian");
      }
    });
    var onProgress = opts.onProgress;
    var document = sourceOf(opts.documentFile, opts.documentBytes);
    var digests = await digestSource(document, onProgress, opts.documentMd5);
    var documentSha256 = digests.sha256;
    var form = Object.assign({}, opts.form || {});
    var filled = {
      v: VERSION, tender: opts.tender, lot: opts.lot, bidder: opts.bidder,
      document: {
        name: opts.documentName || (opts.documentFile && opts.documentFile.name) || "",
        size: document.size, sha256: documentSha256,
        content_type: isString(opts.contentType) ? opts.contentType
          : ((opts.documentFile && opts.documentFile.type) || "application/octet-stream"),
      },
    };
    // As bidding.envelope.seal: the caller may repeat these fields, but not contradict them.
    Object.keys(filled).forEach(function (k) {
      if (!(k in form)) {
        form[k] = filled[k];
      } else if (!equalBytes(canonicalJson(form[k]), canonicalJson(filled[k]))) {
        fail("envelope_plaintext_malformed", "the form's " + k + " differs from the envelope's");
      }
    });
    checkForm(form, opts.tender, opts.lot, opts.bidder);
    var formBytes = canonicalJson(form);
    if (formBytes.length > FORM_MAX) { fail("envelope_plaintext_malformed", "the form is larger than 1 MiB"); }
    var plaintext = plaintextSource(concat([PT_MAGIC, u32be(formBytes.length), formBytes]), document);

    var cek = opts._cek ? asBytes(opts._cek).slice() : randomBytes(32);
    if (cek.length !== 32) { fail("invalid_argument", "the content key is 32 bytes"); }
    var np = opts._noncePrefix ? asBytes(opts._noncePrefix) : randomBytes(7);
    if (np.length !== 7) { fail("invalid_argument", "the nonce prefix is 7 bytes"); }
    var wraps = [];
    var kc;
    var cekKey;
    try {
      for (var r = 0; r < recipients.length; r += 1) {
        wraps.push(await wrapFor(recipients[r], cek, binding, opts._ephemeral && opts._ephemeral[r]));
      }
      kc = await keyCommitment(cek);
      cekKey = await crypto.subtle.importKey("raw", cek, { name: "AES-GCM" }, false, ["encrypt"]);
    } finally {
      cek.fill(0); // the raw key is no longer needed: the non-extractable CryptoKey encrypts
    }
    var header = {
      alg: ALG, v: VERSION, tender: opts.tender, lot: opts.lot, bidder: opts.bidder, cert: opts.certSerial,
      chunk: chunk, size: plaintext.size, np: b64u(np), kc: b64u(kc), wraps: wraps,
    };
    var headerBytes = canonicalJson(header);
    if (headerBytes.length > HEADER_MAX) { fail("invalid_argument", "the header would exceed 16 KiB"); }
    var headerDigest = new Uint8Array(await crypto.subtle.digest("SHA-256", headerBytes));

    var n = chunkCount(plaintext.size, chunk);
    var step = windowSize(chunk);
    var hasher = new Sha256();
    var blobs = [];
    var written = 0;
    var index = 0;
    for (var start = 0; start < plaintext.size; start += step) {
      var end = Math.min(start + step, plaintext.size);
      var window = await plaintext.read(start, end);
      var jobs = [];
      // Windows hold whole chunks (step is a multiple of chunk), so chunk boundaries line up.
      for (var off = 0; off < window.length; off += chunk) {
        var final = index === n - 1;
        jobs.push(crypto.subtle.encrypt({ name: "AES-GCM", iv: chunkNonce(np, index, final),
          additionalData: chunkAad(headerDigest, index, final) }, cekKey, window.subarray(off, off + chunk)));
        index += 1;
      }
      var parts = (await Promise.all(jobs)).map(function (buf) { return new Uint8Array(buf); });
      parts.forEach(function (p) { hasher.update(p); written += p.length; });
      blobs.push(new Blob(parts));
      progress(onProgress, "encrypt", end, plaintext.size);
    }
    var ciphertext = new Blob(blobs, { type: "application/octet-stream" });
    var ciphertextSha256 = hasher.hexdigest();
    var statement = signatureStatement(hex(headerDigest), ciphertextSha256, written);
    var signature = new Uint8Array(await crypto.subtle.sign(ECDSA_SHA256, opts.signingKey, statement));
    return {
      headerBytes: headerBytes, signature: b64u(signature), ciphertext: ciphertext,
      ciphertextSha256: ciphertextSha256, ciphertextSize: written, form: form, documentMd5: digests.md5,
    };
  }

  // Verify a bidder's signature (b64u raw r||s) with its public key (b64u point).
  async function verifySignature(opts) {
    var headerDigest = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", asBytes(opts.headerBytes))));
    var statement = signatureStatement(headerDigest, opts.ciphertextSha256, opts.ciphertextSize);
    var point = asBytes(opts.publicKey);
    var key;
    try {
      key = await crypto.subtle.importKey("raw", point, ECDSA_P256, false, ["verify"]);
    } catch (e) {
      fail("envelope_signature_invalid", "the public key is not a P-256 point");
    }
    var raw = b64uField(opts.signature, "envelope_signature_invalid", "signature");
    if (raw.length !== 64 || !(await crypto.subtle.verify(ECDSA_SHA256, key, raw, statement))) {
      fail("envelope_signature_invalid", "the signature does not verify");
    }
    return true;
  }

  /*
   * The platform's submission checks (§5 "Checking a submission"), in the same order, for a client
   * that wants to check an envelope before sending it: header -> binding -> size -> signature.
   */
  async function verifyEnvelope(opts) {
    var header = await parseHeader(opts.headerBytes);
    if (header.tender !== opts.tender || header.lot !== opts.lot || header.bidder !== opts.bidder) {
      fail("envelope_binding_mismatch", "the header names another tender, lot or bidder");
    }
    if (opts.ciphertextSize !== expectedCiphertextSize(header)) {
      fail("envelope_size_invalid", "the ciphertext length does not match size and chunk");
    }
    await verifySignature(opts);
    return header;
  }

  // The content key from this party's wrap ("bidder" or "custodian"), with its ECDH private key,
  // checked against the header's commitment `kc`; refuses with envelope_key_invalid.
  async function unwrapContentKey(opts) {
    var header = await parseHeader(opts.headerBytes);
    var wrap = header.wraps.filter(function (w) { return w.to === opts.to; })[0];
    if (!wrap) { fail("envelope_key_invalid", "the envelope has no wrap for " + opts.to); }
    var epk = b64uDecode(wrap.epk);
    var ephemeral = await checkPoint(epk, "envelope_header_malformed");
    var kek;
    try {
      kek = await deriveKek(opts.privateKey, ephemeral, epk,
        wrapInfo(wrap.to, wrap.kid, header.tender, header.lot, header.bidder));
    } catch (e) {
      fail("envelope_key_invalid", "only P-256 ECDH keys unwrap");
    }
    var cek;
    try {
      cek = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: b64uDecode(wrap.iv),
        additionalData: WRAP_AAD }, kek, b64uDecode(wrap.ct)));
    } catch (e) {
      fail("envelope_key_invalid", "the " + opts.to + " wrap does not open with this key");
    }
    if (!equalBytes(await keyCommitment(cek), b64uDecode(header.kc))) {
      fail("envelope_key_invalid", "the content key does not match the header's commitment");
    }
    return cek;
  }

  /*
   * Open a sealed bid with its content key, chunk by chunk, checking in the order of §4 "Reading"
   * (so a tampered envelope is refused with the same code as in Python). Returns {form, document
   * (Blob), documentSha256, plaintextSize, header}.
   */
  async function open(opts) {
    var headerBytes = asBytes(opts.headerBytes);
    var header = await parseHeader(headerBytes);
    var cek = asBytes(opts.cek);
    if (cek.length !== 32 || !equalBytes(await keyCommitment(cek), b64uDecode(header.kc))) {
      fail("envelope_key_invalid", "the content key does not match the header's commitment");
    }
    var ciphertext = opts.ciphertext instanceof Blob ? opts.ciphertext : new Blob([asBytes(opts.ciphertext)]);
    var key = await crypto.subtle.importKey("raw", cek, { name: "AES-GCM" }, false, ["decrypt"]);
    var headerDigest = new Uint8Array(await crypto.subtle.digest("SHA-256", headerBytes));
    var np = b64uDecode(header.np);
    var chunk = header.chunk;
    var size = header.size;
    var n = chunkCount(size, chunk);
    var perWindow = Math.max(1, Math.floor(windowSize(chunk) / chunk));

    var framing = [];
    var framingLength = 0;
    var need = FRAMING;
    var form = null;
    var documentHasher = new Sha256();
    var documentParts = [];
    var documentBlobs = [];
    var documentSize = 0;

    function parseForm(data) {
      var parsed;
      var canonical = null;
      try {
        parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
        canonical = canonicalJson(parsed);
      } catch (e) {
        fail("envelope_plaintext_malformed", "the form is not UTF-8 JSON");
      }
      if (!equalBytes(canonical, data)) { fail("envelope_plaintext_malformed", "the form is not canonical JSON"); }
      checkForm(parsed, header.tender, header.lot, header.bidder);
      if (need + parsed.document.size !== size) {
        fail("envelope_plaintext_malformed", "document.size does not match the plaintext length");
      }
      return parsed;
    }

    // Consume the framing and the form from a decrypted piece; the rest is the document.
    function take(piece) {
      while (form === null && piece.length) {
        var part = piece.subarray(0, need - framingLength);
        framing.push(part);
        framingLength += part.length;
        piece = piece.subarray(part.length);
        if (framingLength < need) { return; }
        var head = concat(framing);
        framing = [head];
        if (need === FRAMING) {
          if (!equalBytes(head.subarray(0, PT_MAGIC.length), PT_MAGIC)) {
            fail("envelope_plaintext_malformed", "the plaintext does not start with GJPT1");
          }
          var length = new DataView(head.buffer, head.byteOffset + PT_MAGIC.length, 4).getUint32(0);
          if (length > FORM_MAX || FRAMING + length > size) { fail("envelope_plaintext_malformed", "the form length is out of range"); }
          need = FRAMING + length;
          if (framingLength < need) { continue; }
        }
        form = parseForm(head.subarray(FRAMING, need));
      }
      if (piece.length) {
        documentHasher.update(piece);
        documentParts.push(piece);
        documentSize += piece.length;
      }
    }

    function sealedEnd(i) { return i === n - 1 ? size + TAG_BYTES * n : (i + 1) * (chunk + TAG_BYTES); }

    for (var index = 0; index < n;) {
      var count = Math.min(perWindow, n - index);
      var begin = index * (chunk + TAG_BYTES);
      var stop = Math.min(sealedEnd(index + count - 1), ciphertext.size);
      var window = new Uint8Array(await ciphertext.slice(begin, stop).arrayBuffer());
      var jobs = [];
      for (var k = 0; k < count; k += 1) {
        var i = index + k;
        var from = i * (chunk + TAG_BYTES) - begin;
        var to = sealedEnd(i) - begin;
        if (to > window.length) { break; } // the stream ends inside chunk i: report it in order below
        var final = i === n - 1;
        jobs.push(crypto.subtle.decrypt({ name: "AES-GCM", iv: chunkNonce(np, i, final),
          additionalData: chunkAad(headerDigest, i, final) }, key, window.subarray(from, to)));
      }
      var results = await Promise.allSettled(jobs);
      for (var j = 0; j < results.length; j += 1) {
        if (results[j].status !== "fulfilled") { fail("envelope_chunk_invalid", "chunk " + (index + j) + " fails authentication"); }
        take(new Uint8Array(results[j].value));
      }
      if (results.length < count) { fail("envelope_truncated", "the ciphertext ends before chunk " + (index + results.length) + " is complete"); }
      documentBlobs.push(new Blob(documentParts));
      documentParts = [];
      index += count;
      progress(opts.onProgress, "decrypt", Math.min(index * chunk, size), size);
    }
    if (ciphertext.size > expectedCiphertextSize(header)) { fail("envelope_trailing_data", "bytes follow the final chunk"); }
    var documentSha256 = documentHasher.hexdigest();
    if (form.document.size !== documentSize || form.document.sha256 !== documentSha256) {
      fail("envelope_plaintext_malformed", "the document differs from the form's size or digest");
    }
    return {
      form: form, document: new Blob(documentBlobs, { type: form.document.content_type || "application/octet-stream" }),
      documentSha256: documentSha256, plaintextSize: size, header: header,
    };
  }

  // --- the key file (docs/pki.md): one key signs (ECDSA) and agrees (ECDH) --------------------------

  async function loadKeyFile(file, password) {
    var text = typeof file === "string" ? file : await file.text();
    var doc;
    try { doc = JSON.parse(text); } catch (e) { fail("key_file_malformed", "not JSON"); }
    if (!doc || doc.format !== KEYFILE_FORMAT || doc.version !== 1 || !doc.kdf || !doc.cipher ||
        doc.kdf.name !== "PBKDF2" || doc.kdf.hash !== "SHA-256" || doc.cipher.name !== "AES-GCM" ||
        !(doc.kdf.iterations >= 100000 && doc.kdf.iterations <= 10000000)) {
      fail("key_file_malformed", "not a platform key file");
    }
    var salt;
    var iv;
    var sealedKey;
    try {
      salt = base64Decode(doc.kdf.salt);
      iv = base64Decode(doc.cipher.iv);
      sealedKey = base64Decode(doc.encrypted_pkcs8);
    } catch (e) {
      fail("key_file_malformed", "the key file's salt, IV or key is not base64");
    }
    if (salt.length < 16 || iv.length !== 12) { fail("key_file_malformed", "the key file's salt or IV has the wrong length"); }
    var base = await crypto.subtle.importKey("raw", encoder.encode(password || ""), "PBKDF2", false, ["deriveKey"]);
    var fileKey = await crypto.subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt: salt,
      iterations: doc.kdf.iterations }, base, { name: "AES-GCM", length: 256 }, false, ["decrypt"]);
    var pkcs8;
    try {
      pkcs8 = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: iv, additionalData: KEYFILE_AAD },
        fileKey, sealedKey));
    } catch (e) {
      fail("key_password_wrong", "wrong password, or the key file is damaged");
    }
    try {
      // The public point, to check the key against the certificate before anything is sealed.
      var probe = await crypto.subtle.importKey("pkcs8", pkcs8, ECDH_P256, true, ["deriveBits"]);
      var jwk = await crypto.subtle.exportKey("jwk", probe);
      var point = concat([Uint8Array.of(4), b64uDecode(jwk.x), b64uDecode(jwk.y)]);
      jwk.d = "";
      // Imported twice, non-extractable: the same key signs (ECDSA) and unwraps (ECDH).
      var signingKey = await crypto.subtle.importKey("pkcs8", pkcs8, ECDSA_P256, false, ["sign"]);
      var ecdhKey = await crypto.subtle.importKey("pkcs8", pkcs8, ECDH_P256, false, ["deriveBits"]);
    } catch (e) {
      fail("key_file_malformed", "the key inside the file is not a P-256 key");
    } finally {
      pkcs8.fill(0);
    }
    return {
      signingKey: signingKey, ecdhKey: ecdhKey, publicKey: b64u(point),
      certSerial: doc.certificate_serial || "", username: doc.username || "",
    };
  }

  // --- resumable upload (the submission API, issue 3) -----------------------------------------------

  function delay(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  async function jsonOf(response) {
    try { return await response.json(); } catch (e) { return {}; }
  }

  function httpError(response, data, fallback) {
    var error = (data && data.error) || {};
    return new SealError(error.code || fallback, error.message || ("HTTP " + response.status),
      { status: response.status, error: error });
  }

  /*
   * Upload a sealed bid: create a session, PUT parts at the server's offset, and on any failure ask
   * the server what it has (`received`) and go on from there; then complete with header and signature.
   * opts: {prefix ("/bidding/"), lot, ciphertext (Blob), headerBytes, signature, ciphertextSha256,
   * ciphertextSize, fileMeta, csrfToken, hardware (object, sent as X-Client-Hardware), partSize,
   * retries, onProgress}. -> {bid_id, receipt}
   */
  async function upload(opts) {
    var prefix = opts.prefix || "/bidding/";
    var blob = opts.ciphertext;
    var retries = opts.retries === undefined ? 5 : opts.retries;
    var headers = { "Accept": "application/json", "X-CSRFToken": opts.csrfToken || "" };
    if (opts.hardware) { headers["X-Client-Hardware"] = JSON.stringify(opts.hardware); }

    async function call(method, url, body, contentType) {
      var h = Object.assign({}, headers);
      if (contentType) { h["Content-Type"] = contentType; }
      return fetch(url, { method: method, credentials: "same-origin", headers: h, body: body });
    }

    var created = await call("POST", prefix + "lots/" + opts.lot + "/uploads/", JSON.stringify({ size: blob.size }),
      "application/json");
    var session = await jsonOf(created);
    if (!created.ok) { throw httpError(created, session, "upload_refused"); }
    var id = session.upload_id;
    var base = prefix + "uploads/" + id + "/";
    var partSize = Math.max(1, Math.min(opts.partSize || 8 * 1024 * 1024, session.part_max || Infinity));
    var received = session.received || 0;
    var failures = 0;
    progress(opts.onProgress, "upload", received, blob.size);

    async function resync() {
      var response = await call("GET", base);
      var status = await jsonOf(response);
      if (!response.ok) { throw httpError(response, status, "upload_status_failed"); }
      if (status.state && status.state !== "open") { throw new SealError("upload_not_open", "the upload is " + status.state); }
      if (!Number.isSafeInteger(status.received) || status.received < 0 || status.received > blob.size) {
        throw new SealError("upload_status_invalid", "the server reports an impossible offset");
      }
      return status.received;
    }

    while (received < blob.size) {
      var end = Math.min(received + partSize, blob.size);
      var response = null;
      try {
        response = await call("PUT", base + "?offset=" + received, blob.slice(received, end), "application/octet-stream");
      } catch (e) {
        response = null; // a network failure: ask the server what arrived
      }
      var answer = response && response.ok ? await jsonOf(response) : null;
      if (answer && Number.isSafeInteger(answer.received) && answer.received > received && answer.received <= blob.size) {
        received = answer.received;
        failures = 0;
      } else if (answer) {
        // An answer that does not move forward: ask the server where it stands.
        failures += 1;
        if (failures > retries) { throw new SealError("upload_stalled", "the upload does not advance"); }
        received = await resync();
      } else {
        var data = response ? await jsonOf(response) : {};
        var resumable = !response || response.status === 409 || response.status >= 500 || response.status === 408 ||
          response.status === 429;
        failures += 1;
        if (!resumable || failures > retries) {
          throw response ? httpError(response, data, "upload_failed") : new SealError("upload_network", "network error");
        }
        if (response && response.status !== 409) { await delay(Math.min(8000, 250 * Math.pow(2, failures))); }
        var back = null;
        while (back === null) {
          try {
            back = await resync();
          } catch (e) {
            // Only a network failure or a server error is worth another try; a refusal is final.
            var transient = !(e instanceof SealError) || (e.details.status || 0) >= 500;
            failures += 1;
            if (!transient || failures > retries) { throw e; }
            await delay(Math.min(8000, 250 * Math.pow(2, failures)));
          }
        }
        received = back;
      }
      progress(opts.onProgress, "upload", received, blob.size);
    }

    var completed = await call("POST", base + "complete", JSON.stringify({
      header: b64u(opts.headerBytes), signature: opts.signature, file_meta: opts.fileMeta || {},
      // Declared so that a damaged upload is reported as such, not as a bad signature (§6).
      ciphertext_sha256: opts.ciphertextSha256, ciphertext_size: opts.ciphertextSize,
    }), "application/json");
    var result = await jsonOf(completed);
    if (!completed.ok) { throw httpError(completed, result, "submission_refused"); }
    return result;
  }

  window.GJSeal = {
    ALG: ALG,
    SealError: SealError,
    seal: seal,
    open: open,
    unwrapContentKey: unwrapContentKey,
    verifySignature: verifySignature,
    verifyEnvelope: verifyEnvelope,
    loadKeyFile: loadKeyFile,
    upload: upload,
    parseHeader: parseHeader,
    checkForm: checkForm,
    expectedCiphertextSize: expectedCiphertextSize,
    canonicalJson: canonicalJson,
    Sha256: Sha256,
    Md5: Md5,
    sha256Hex: sha256Hex,
    b64u: b64u,
    b64uDecode: b64uDecode,
    hex: hex,
    _ephemeralKeyPair: ecdhKeyPairFromScalar,
  };
}());
