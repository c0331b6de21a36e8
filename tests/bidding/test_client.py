"""The bidder's Python client (bidding/client/, `manage.py bid_client`): sealing to a file, resumable
upload with retries, receipt checks, unwrapping — offline, against a scripted server, and end to end
against the live platform (key login → recipients → seal → parts → complete → receipt → unwrap)."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from bidding import client as bc
from bidding import envelope
from bidding.models import Bid
from trading import keyclient

PASSWORD = "correct horse battery"
TENDER, BIDDER, CERT = "12450000MB0Y95706Y20260301000007I", "91450100MA5KX2Q7AQ", "0a1b2c3d"
FORM = {"price": "4500000.00", "currency": "CNY", "duration_days": 180, "items": {"工期": "180日历天"}}


def info_for(key, *, cert=CERT, chunk=4096) -> dict:
    """What GET /bidding/lots/<id>/recipients answers."""
    return {
        "tender": TENDER,
        "lot": 1,
        "bidder": BIDDER,
        "cert": cert,
        "recipients": [
            {"to": "bidder", "kid": cert, "public_key": envelope.public_key_b64u(key.public_key())}
        ],
        "chunk": chunk,
    }


@pytest.fixture(scope="module")
def key():
    return keyclient.key_generate()


@pytest.fixture
def document(tmp_path) -> Path:
    path = tmp_path / "投标文件.pdf"
    path.write_bytes(
        b"%PDF-1.7\n1 0 obj <</Author (Wang Jianguo) /Creator (WPS Office)>> endobj\n" + b"x" * 20_000
    )
    return path


def sealed(tmp_path, key, document) -> tuple[dict, Path]:
    out = tmp_path / "bid.gjseal"
    return bc.seal_to_file(form=FORM, document_path=document, info=info_for(key), key=key, out_path=out), out


# --- offline -------------------------------------------------------------------------------------------


def test_seal_to_file_writes_ciphertext_and_a_manifest_without_the_key(tmp_path, key, document):
    # when a bid is sealed to a file
    manifest, out = sealed(tmp_path, key, document)
    # then the ciphertext is the manifest's, and the manifest holds no content key
    data = out.read_bytes()
    assert (
        hashlib.sha256(data).hexdigest() == manifest["ciphertext_sha256"]
        and len(data) == manifest["ciphertext_size"]
    )
    assert json.loads((tmp_path / "bid.gjseal.json").read_text()) == manifest
    header = envelope.parse_header(envelope.b64u_decode(manifest["header"]))
    cek = envelope.unwrap(header=header, to="bidder", private_key=key)
    assert envelope.b64u(cek) not in json.dumps(manifest) and cek.hex() not in json.dumps(manifest)
    assert b"Wang Jianguo" not in data
    # and the document's authoring metadata is reported for the evidence record
    assert (
        manifest["file_meta"]["author"] == "Wang Jianguo"
        and manifest["file_meta"]["creator_tool"] == "WPS Office"
    )
    assert manifest["file_meta"]["file_md5"] == hashlib.md5(document.read_bytes()).hexdigest()


def test_self_check_opens_the_envelope_as_the_platform_will(tmp_path, key, document):
    manifest, out = sealed(tmp_path, key, document)
    opened = bc.self_check(manifest, out, key)
    assert opened.form["price"] == "4500000.00" and opened.document_meta["size"] == document.stat().st_size


def test_self_check_catches_a_damaged_sealed_file(tmp_path, key, document):
    manifest, out = sealed(tmp_path, key, document)
    data = bytearray(out.read_bytes())
    data[100] ^= 1
    out.write_bytes(bytes(data))
    with pytest.raises(envelope.EnvelopeError) as info:
        bc.self_check(manifest, out, key)
    assert info.value.code == "envelope_chunk_invalid"


def test_sealing_refuses_when_the_platform_wraps_to_another_key(tmp_path, key, document):
    # given recipients that name another certified key (an old certificate, say)
    other = keyclient.key_generate()
    with pytest.raises(bc.ClientError) as info:
        bc.seal_to_file(
            form=FORM, document_path=document, info=info_for(other), key=key, out_path=tmp_path / "x"
        )
    assert info.value.code == "key_mismatch"
    assert not (tmp_path / "x").exists()


def test_unwrap_content_key_gives_the_key_that_opens_the_bid(tmp_path, key, document):
    manifest, out = sealed(tmp_path, key, document)
    cek = bc.unwrap_content_key(header=manifest["header"], key=key)
    with out.open("rb") as fh:
        opened = envelope.open_stream(
            header_bytes=envelope.b64u_decode(manifest["header"]),
            cek=envelope.cek_from_b64u(cek),
            ciphertext=fh,
        )
    assert opened.form["items"] == {"工期": "180日历天"}


def test_a_key_file_from_keyclient_loads_with_its_user_name(tmp_path, key):
    path = tmp_path / "me.key"
    path.write_bytes(keyclient.keyfile_dump(key, PASSWORD, username="alice", iterations=100_000))
    assert bc.load_key(path, PASSWORD).private_numbers() == key.private_numbers()
    assert bc.keyfile_username(path) == "alice"
    with pytest.raises(bc.ClientError) as info:
        bc.load_key(path, "wrong password!")
    assert info.value.code == "key_password_wrong"


def test_office_document_metadata_is_read_from_docprops(tmp_path):
    path = tmp_path / "商务标.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "docProps/core.xml",
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/">'
            "<dc:creator>李四</dc:creator><cp:lastModifiedBy>张三</cp:lastModifiedBy>"
            "<dcterms:created>2026-03-01T08:00:00Z</dcterms:created></cp:coreProperties>",
        )
        archive.writestr(
            "docProps/app.xml",
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            "<Application>Microsoft Office Word</Application><Company>某某建设有限公司</Company></Properties>",
        )
    meta = bc.file_metadata(
        path, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert meta["author"] == "李四" and meta["last_modified_by"] == "张三"
    assert meta["company"] == "某某建设有限公司" and meta["creator_tool"] == "Microsoft Office Word"
    assert meta["created"] == "2026-03-01T08:00:00Z" and meta["file_name"] == "商务标.docx"


def test_a_document_without_readable_metadata_still_gets_name_size_and_md5(tmp_path):
    path = tmp_path / "plain.bin"
    path.write_bytes(b"\x00\x01 not a known format")
    assert set(bc.file_metadata(path, content_type="application/octet-stream")) == {
        "file_name",
        "file_size",
        "file_md5",
        "content_type",
    }


def test_the_seal_command_works_offline_and_unwrap_gives_the_key(tmp_path, key, document, monkeypatch):
    # given a key file, the recipients the platform gave, and a form
    key_path = tmp_path / "me.key"
    key_path.write_bytes(keyclient.keyfile_dump(key, PASSWORD, username="alice", iterations=100_000))
    (tmp_path / "r.json").write_text(json.dumps(info_for(key)))
    (tmp_path / "f.json").write_text(json.dumps(FORM, ensure_ascii=False))
    monkeypatch.setenv("KEY_PASSWORD", PASSWORD)
    out = io.StringIO()
    # when sealed on the command line
    call_command(
        "bid_client", "seal", "--recipients", str(tmp_path / "r.json"), "--form", str(tmp_path / "f.json"),
        "--document", str(document), "--key", str(key_path), "--out", str(tmp_path / "bid.gjseal"), stdout=out,
    )  # fmt: skip
    # then the envelope opens with the key the unwrap command prints
    manifest = bc.manifest_read(tmp_path / "bid.gjseal.json")
    printed = io.StringIO()
    call_command(
        "bid_client",
        "unwrap",
        "--key",
        str(key_path),
        "--envelope",
        str(tmp_path / "bid.gjseal.json"),
        stdout=printed,
    )
    with (tmp_path / "bid.gjseal").open("rb") as fh:
        envelope.open_stream(
            header_bytes=envelope.b64u_decode(manifest["header"]),
            cek=envelope.cek_from_b64u(printed.getvalue().strip()),
            ciphertext=fh,
        )
    assert "sealed" in out.getvalue()
    # and sealing again over the same file is refused
    with pytest.raises(CommandError, match="output_exists"):
        call_command(
            "bid_client", "seal", "--recipients", str(tmp_path / "r.json"), "--form", str(tmp_path / "f.json"),
            "--document", str(document), "--key", str(key_path), "--out", str(tmp_path / "bid.gjseal"),
        )  # fmt: skip


def test_the_seal_command_reports_a_bad_form_with_its_code(tmp_path, key, document, monkeypatch):
    key_path = tmp_path / "me.key"
    key_path.write_bytes(keyclient.keyfile_dump(key, PASSWORD, iterations=100_000))
    (tmp_path / "r.json").write_text(json.dumps(info_for(key)))
    (tmp_path / "f.json").write_text(json.dumps({"price": "12.3", "currency": "CNY"}))
    monkeypatch.setenv("KEY_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="envelope_plaintext_malformed"):
        call_command(
            "bid_client", "seal", "--recipients", str(tmp_path / "r.json"), "--form", str(tmp_path / "f.json"),
            "--document", str(document), "--key", str(key_path), "--out", str(tmp_path / "bid.gjseal"),
        )  # fmt: skip


# --- resumable upload against a scripted server ---------------------------------------------------------


class ScriptedServer:
    """The upload API in memory; `faults` maps a PUT's ordinal to what goes wrong with it."""

    def __init__(self, faults=None, part_max=4096):
        self.data, self.expected, self.part_max = bytearray(), 0, part_max
        self.faults, self.puts, self.status_asks = dict(faults or {}), 0, 0
        self.cookies = []

    def cookie(self, name):
        return None

    def send(self, method, url, body, headers):
        path = url.split("://", 1)[1].split("/", 1)[1]
        if method == "POST" and path.endswith("/uploads/"):
            self.expected = json.loads(body)["size"]
            return 201, json.dumps(
                {"upload_id": str(uuid.UUID(int=7)), "received": 0, "part_max": self.part_max}
            ).encode()
        if method == "GET":
            self.status_asks += 1
            status = {"received": len(self.data), "expected_size": self.expected, "part_max": self.part_max}
            return 200, json.dumps(status).encode()
        assert method == "PUT"
        self.puts += 1
        fault = self.faults.get(self.puts)
        if fault == "drop_request":
            raise ConnectionResetError("connection reset before the part arrived")
        if fault == "server_error":
            return 503, b"Service Unavailable"
        offset = int(path.rsplit("offset=", 1)[1])
        if offset != len(self.data):
            error = {"code": "upload_offset_mismatch", "message": "", "params": {"received": len(self.data)}}
            return 409, json.dumps({"error": error}).encode()
        if len(body) > self.part_max:
            return 400, json.dumps({"error": {"code": "upload_part_too_large", "message": ""}}).encode()
        self.data += body
        if fault == "drop_response":
            raise TimeoutError("the answer never came back")
        return 200, json.dumps({"received": len(self.data)}).encode()


def _upload(tmp_path, server, *, size=20_000, retries=5, **kwargs):
    path = tmp_path / "bid.gjseal"
    path.write_bytes(hashlib.sha256(b"seed").digest() * (size // 32) + b"z" * (size % 32))
    sleeps = []
    client = bc.PlatformClient("http://platform.test", transport=server, hardware={}, sleep=sleeps.append)
    upload_id = client.upload_file(path, lot_id=1, part_size=10**9, retries=retries, **kwargs)
    return path, upload_id, sleeps


def test_upload_sends_parts_no_larger_than_the_server_allows(tmp_path):
    server = ScriptedServer()
    path, upload_id, _ = _upload(tmp_path, server)
    assert bytes(server.data) == path.read_bytes() and upload_id == str(uuid.UUID(int=7))
    assert server.puts == 5  # 20 000 bytes in parts of 4096


@pytest.mark.parametrize("fault", ["drop_request", "drop_response", "server_error"])
def test_upload_resumes_from_what_the_server_received_after_a_failure(tmp_path, fault):
    # given the third part fails (lost on the way, its answer lost, or a 503)
    server = ScriptedServer(faults={3: fault})
    # when the client uploads
    path, _, sleeps = _upload(tmp_path, server)
    # then it asked the server where it stands and the file arrived whole, once
    assert bytes(server.data) == path.read_bytes()
    assert server.status_asks == 1 and len(sleeps) == 1


def test_upload_gives_up_after_its_retries(tmp_path):
    server = ScriptedServer(faults=dict.fromkeys(range(1, 20), "drop_request"))
    with pytest.raises(bc.ClientError) as info:
        _upload(tmp_path, server, retries=3)
    assert info.value.code == "upload_failed"


def test_an_offset_conflict_is_resolved_by_asking_the_server(tmp_path):
    # given the server already holds the first 4096 bytes (another run uploaded them)
    server = ScriptedServer()
    path = tmp_path / "bid.gjseal"
    path.write_bytes(b"a" * 10_000)
    server.expected = 10_000
    server.data += b"a" * 4096
    client = bc.PlatformClient("http://platform.test", transport=server, hardware={}, sleep=lambda s: None)
    # when resuming that upload by its id
    client.upload_file(path, upload_id=str(uuid.UUID(int=7)))
    # then only the rest was sent
    assert bytes(server.data) == path.read_bytes() and server.puts == 2


def test_a_refusal_other_than_an_offset_conflict_is_not_retried(tmp_path):
    server = ScriptedServer(part_max=10**6)
    original = server.send

    def refuse(method, url, body, headers):
        if method == "PUT":
            return 403, json.dumps({"error": {"code": "upload_not_yours", "message": "no"}}).encode()
        return original(method, url, body, headers)

    server.send = refuse
    with pytest.raises(bc.ClientError) as info:
        _upload(tmp_path, server)
    assert info.value.code == "upload_not_yours" and info.value.status == 403


def test_resuming_a_file_of_another_size_is_refused(tmp_path):
    server = ScriptedServer()
    server.expected = 5
    (tmp_path / "f").write_bytes(b"123456")
    client = bc.PlatformClient("http://platform.test", transport=server, hardware={})
    with pytest.raises(bc.ClientError) as info:
        client.upload_file(tmp_path / "f", upload_id=str(uuid.UUID(int=7)))
    assert info.value.code == "upload_size_mismatch"


def test_a_client_needs_an_http_url():
    with pytest.raises(bc.ClientError) as info:
        bc.PlatformClient("ftp://platform.test")
    assert info.value.code == "url_invalid"


# --- end to end against the live platform ---------------------------------------------------------------


@pytest.fixture
def world(clock, tmp_path):
    from tests.bidding import submission_world as w

    lot = w.published_lot()
    who = w.bidder()
    key_path = tmp_path / "bidder.key"
    key_path.write_bytes(
        keyclient.keyfile_dump(
            who.key,
            PASSWORD,
            username=who.user.username,
            certificate_serial=who.certificate.serial,
            iterations=100_000,
        )
    )
    return {"lot": lot, "bidder": who, "key_path": key_path}


def _logged_in(live_server, world) -> bc.PlatformClient:
    client = bc.PlatformClient(live_server.url, hardware={"mac": "00-1A-2B-3C-4D-5E", "machine_code": "M-1"})
    key = bc.load_key(world["key_path"], PASSWORD)
    answer = client.key_login(username=bc.keyfile_username(world["key_path"]), key=key)
    assert answer["ok"] is True
    return client


@pytest.mark.django_db(transaction=True)
def test_submit_end_to_end_against_the_live_platform(live_server, world, document, tmp_path):
    from archive.blobs import blob_open
    from trading.models import ActivityEvidence

    # given a bidder logged in with its key
    client = _logged_in(live_server, world)
    key = bc.load_key(world["key_path"], PASSWORD)
    progress = []
    # when it submits (seal → parts of 7000 bytes → complete → receipt)
    result = bc.submit(
        client=client,
        lot_id=world["lot"].pk,
        key=key,
        form=FORM,
        document_path=document,
        workdir=tmp_path,
        part_size=7000,
        on_progress=lambda received, size: progress.append(received),
    )
    # then the bid is recorded with exactly the ciphertext sealed, in several parts
    bid = Bid.objects.get(pk=result["bid_id"])
    assert len(progress) >= 3 and progress[-1] == result["manifest"]["ciphertext_size"]
    assert bid.ciphertext_id == result["manifest"]["ciphertext_sha256"]
    assert bid.receipt == result["receipt"]
    # and the receipt names it and verifies offline with the CA
    receipt = bc.receipt_check(result["receipt"], ca_pem=client.ca_pem(), manifest=result["manifest"])
    assert receipt["bid_id"] == result["bid_id"] and receipt["lot"] == world["lot"].number
    # and the evidence carries the client's hardware and the document's authoring metadata
    evidence = ActivityEvidence.objects.filter(action="upload").latest("at")
    assert evidence.hardware.get("machine_code") == "M-1"
    assert evidence.file_meta.get("author") == "Wang Jianguo"
    # and at the opening, the key the client unwraps opens what the platform stored
    cek = bc.unwrap_content_key(header=bid.header, key=key)
    with blob_open(bid.ciphertext) as fh:
        opened = envelope.open_stream(
            header_bytes=envelope.b64u_decode(bid.header), cek=envelope.cek_from_b64u(cek), ciphertext=fh
        )
    assert opened.form["price"] == "4500000.00"
    # and the temporary sealed file is gone
    assert not list(tmp_path.glob("*.gjseal"))


@pytest.mark.django_db(transaction=True)
def test_a_receipt_that_names_another_envelope_is_refused(live_server, world, document, tmp_path):
    client = _logged_in(live_server, world)
    key = bc.load_key(world["key_path"], PASSWORD)
    result = bc.submit(
        client=client, lot_id=world["lot"].pk, key=key, form=FORM, document_path=document, workdir=tmp_path
    )
    other = dict(result["manifest"], ciphertext_sha256="0" * 64)
    with pytest.raises(bc.ClientError) as info:
        bc.receipt_check(result["receipt"], ca_pem=client.ca_pem(), manifest=other)
    assert info.value.code == "receipt_mismatch"


@pytest.mark.django_db(transaction=True)
def test_the_command_resumes_an_interrupted_upload_and_verifies_the_receipt(
    live_server, world, document, tmp_path, monkeypatch
):
    monkeypatch.setenv("KEY_PASSWORD", PASSWORD)
    # given an envelope sealed offline from the recipients the platform gave
    client = _logged_in(live_server, world)
    (tmp_path / "r.json").write_text(json.dumps(client.recipients(world["lot"].pk)))
    (tmp_path / "f.json").write_text(json.dumps(FORM, ensure_ascii=False))
    call_command(
        "bid_client", "seal", "--recipients", str(tmp_path / "r.json"), "--form", str(tmp_path / "f.json"),
        "--document", str(document), "--key", str(world["key_path"]), "--out", str(tmp_path / "bid.gjseal"),
        stdout=io.StringIO(),
    )  # fmt: skip
    # and an upload of it that stopped after its first part (the previous run crashed)
    data = (tmp_path / "bid.gjseal").read_bytes()
    upload_id = client.upload_start(world["lot"].pk, len(data))["upload_id"]
    client.upload_part(upload_id, 0, data[:5000])
    (tmp_path / "ca.pem").write_text(client.ca_pem())
    out = io.StringIO()
    # when the command resumes it
    call_command(
        "bid_client", "submit", "--url", live_server.url, "--lot", str(world["lot"].pk), "--key", str(world["key_path"]),
        "--envelope", str(tmp_path / "bid.gjseal.json"), "--upload-id", upload_id, "--ca", str(tmp_path / "ca.pem"),
        "--receipt-out", str(tmp_path / "receipt.json"), stdout=out,
    )  # fmt: skip
    # then the bid is in, with the bytes sealed offline
    bid = Bid.objects.get(entity=world["bidder"].entity)
    assert bid.ciphertext_id == hashlib.sha256(data).hexdigest()
    assert f"bid {bid.pk}" in out.getvalue() and "receipt verified" in out.getvalue()
    # and the saved receipt verifies offline against the envelope
    verified = io.StringIO()
    call_command(
        "bid_client", "verify-receipt", "--receipt", str(tmp_path / "receipt.json"), "--ca", str(tmp_path / "ca.pem"),
        "--envelope", str(tmp_path / "bid.gjseal.json"), stdout=verified,
    )  # fmt: skip
    assert verified.getvalue().startswith("VALID ")


@pytest.mark.django_db(transaction=True)
def test_a_refusal_from_the_platform_surfaces_with_its_code(live_server, world, document, tmp_path, clock):
    from tests.bidding import submission_world as w

    # given the deadline has passed by the server's clock
    clock.set(w.DEADLINE)
    client = _logged_in(live_server, world)
    key = bc.load_key(world["key_path"], PASSWORD)
    # when the bidder submits, then the platform's refusal comes back with its code
    with pytest.raises(bc.ClientError) as info:
        bc.submit(
            client=client,
            lot_id=world["lot"].pk,
            key=key,
            form=FORM,
            document_path=document,
            workdir=tmp_path,
        )
    assert info.value.code == "bid_after_deadline" and info.value.status == 422
    # and the sealed file is kept for a later attempt
    assert Path(info.value.params["manifest_path"]).exists()


def test_a_verify_receipt_command_refuses_a_tampered_receipt(tmp_path, clock, db):
    from bidding.receipts import receipt_build, receipt_sign
    from trading import pki

    # given a receipt the platform signed, then changed
    signed = receipt_sign(
        receipt_build(
            tender=TENDER, lot=1, bidder=BIDDER, bid_id=str(uuid.uuid4()), header_sha256="a" * 64,
            ciphertext_sha256="b" * 64, ciphertext_size=10, received_at=clock(), journal_stream="t",
            journal_seq=1, journal_hash="c" * 64,
        )
    )  # fmt: skip
    signed["receipt"]["ciphertext_size"] = 11
    (tmp_path / "r.json").write_text(json.dumps(signed))
    (tmp_path / "ca.pem").write_bytes(pki.ca_certificate_pem())
    # then the command refuses it with the receipt's code
    with pytest.raises(CommandError, match="receipt_signature_invalid"):
        call_command(
            "bid_client",
            "verify-receipt",
            "--receipt",
            str(tmp_path / "r.json"),
            "--ca",
            str(tmp_path / "ca.pem"),
        )
