"""Sealing, verifying and exporting an archival package (issue 6 items 2, 4, 5), on a project the
archive knows only by its key: a test provider contributes a document, a PDF and an unopened bid; the
project's journal stream is copied. Every kind of tampering the issue lists is detected and named."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as dj_settings

from archive import package as fmt
from archive import providers
from archive.models import ArchiveFile, ArchiveRoot, JournalEntry
from archive.pdf import render_document
from archive.services import package_seal, roots_publish
from archive.services.seal import proof_for
from archive.verify import verify_export, verify_package
from tests.archive.conftest import PROJECT, _info
from tests.archive.tamper import tampering

pytestmark = pytest.mark.django_db


def _codes(report):
    return {(f.property, f.code, f.path) for f in report.findings if f.severity == "error"}


def test_sealed_package_lists_every_file_and_verifies(package):
    manifest = json.loads(
        package.manifest.size and (Path(dj_settings.MEDIA_ROOT) / package.manifest.storage_name).read_bytes()
    )
    paths = [f["path"] for f in manifest["files"]]
    assert paths == sorted(paths)
    assert {
        "kit/notice.json",
        "kit/notice.pdf",
        "kit/bids/0001/ciphertext.bin",
        fmt.JOURNAL_PATH,
        fmt.CATALOGUE_PATH,
    } <= set(paths)
    assert manifest["journal"]["entries"] == 3 and manifest["retain_until"] == "2041-03-01"  # GP: 15 years
    assert package.file_count == ArchiveFile.objects.filter(package=package).count() == len(paths)
    report = verify_package(package)
    assert report.ok, report.lines()
    assert report.properties() == {
        "authenticity": True,
        "integrity": True,
        "usability": True,
        "security": True,
    }
    assert report.checked["pdf_signatures"] == 1 and report.checked["journal_entries"] == 3
    # the seal itself is journalled after the copy, with the digest
    last = JournalEntry.objects.filter(stream=PROJECT).order_by("-seq").first()
    assert (last.action, last.payload["digest"]) == ("archive.sealed", package.digest)


def test_export_verifies_offline_and_names_each_tampering(exported):
    zpath, folder = exported
    assert verify_export(zpath).ok
    assert verify_export(folder).ok
    manifest = json.loads((folder / "manifest.json").read_bytes())
    for entry in manifest["files"]:
        target = folder / "files" / entry["path"]
        original = target.read_bytes()
        flipped = bytearray(original)
        flipped[len(flipped) // 2] ^= 0x01
        target.write_bytes(bytes(flipped))
        assert ("integrity", "file_modified", entry["path"]) in _codes(verify_export(folder)), entry["path"]
        target.write_bytes(original)
    assert verify_export(folder).ok


def test_missing_extra_and_control_files_are_named(exported):
    _zpath, folder = exported
    (folder / "files" / "kit" / "notice.json").unlink()
    (folder / "files" / "kit" / "intruder.txt").write_bytes(b"x")
    (folder / "stray.bin").write_bytes(b"y")
    codes = _codes(verify_export(folder))
    assert ("integrity", "file_missing", "kit/notice.json") in codes
    assert ("integrity", "file_extra", "kit/intruder.txt") in codes
    assert ("integrity", "file_extra", "stray.bin") in codes


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("manifest.json", {("integrity", "manifest_digest_mismatch"), ("authenticity", "signature_invalid")}),
        ("signature.json", {("authenticity", "signature_invalid")}),
        (
            "proof.json",
            {("integrity", "merkle_inclusion_failed"), ("authenticity", "root_signature_invalid")},
        ),
    ],
)
def test_flipping_a_control_file_is_named(exported, name, expected):
    _zpath, folder = exported
    data = json.loads((folder / name).read_bytes())
    if name == "manifest.json":
        data["title"] = "改过的标题"
    elif name == "signature.json":
        sig = bytearray(data["signature"].encode())
        sig[10] = ord("A") if sig[10] != ord("A") else ord("B")
        data["signature"] = sig.decode()
    else:
        data["root"]["root_hash"] = "0" * 64
    (folder / name).write_bytes(
        json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    )
    got = {(p, c) for p, c, _path in _codes(verify_export(folder))}
    assert expected <= got, got


def test_database_tampering_is_named(package):
    with tampering():
        JournalEntry.objects.filter(stream=PROJECT, seq=2).update(payload={"i": 99})
        ArchiveFile.objects.filter(package=package, path="kit/notice.json").update(public=False)
    codes = {(c, p) for _prop, c, p in _codes(verify_package(package))}
    assert ("journal_row_modified", "journal") in codes
    assert ("record_mismatch", "kit/notice.json") in codes
    # and the stored bytes of a file
    blob = ArchiveFile.objects.get(package=package, path="kit/notice.pdf").blob
    stored = Path(dj_settings.MEDIA_ROOT) / blob.storage_name
    data = bytearray(stored.read_bytes())
    data[100] ^= 0xFF
    stored.write_bytes(bytes(data))
    assert ("integrity", "file_modified", "kit/notice.pdf") in _codes(verify_package(package))


def test_security_rules(kit, clock):
    def leaky(project):
        if project != PROJECT:
            return []
        return [
            providers.Item(
                "bids/0002/ciphertext.bin",
                "application/octet-stream",
                data=b"%PDF-1.7 plain",
                sealed=True,
                public=True,
            ),
            providers.Item(
                "bids/0002/opened.pdf", "application/pdf", data=render_document("标书", [("x", "y")])
            ),
            providers.Item("keys.pem", "text/plain", data=b"-----BEGIN EC PRIVATE KEY-----\nAAAA\n"),
        ]

    providers.register("leaky", leaky)
    try:
        pkg = package_seal(info=_info(), actor="tester")
    finally:
        providers._providers.pop("leaky", None)
    codes = {(c, p) for prop, c, p in _codes(verify_package(pkg)) if prop == "security"}
    assert codes == {
        ("sealed_not_ciphertext", "leaky/bids/0002/ciphertext.bin"),
        ("sealed_public", "leaky/bids/0002/ciphertext.bin"),
        ("sealed_beside_plaintext", "leaky/bids/0002/opened.pdf"),
        ("private_key_present", "leaky/keys.pem"),
    }


def test_receipt_and_package_inclusion_proofs(package):
    manifest = json.loads((Path(dj_settings.MEDIA_ROOT) / package.manifest.storage_name).read_bytes())
    proof = fmt.file_proof(manifest["files"], "kit/bids/0001/receipt.json")
    assert fmt.check_file_proof(proof, manifest["files_root"])
    forged = {**proof, "entry": {**proof["entry"], "sha256": "0" * 64}}
    assert not fmt.check_file_proof(forged, manifest["files_root"])
    pp = proof_for(package)
    assert fmt.check_package_proof(
        package.digest, pp["leaf_index"], pp["tree_size"], pp["path"], pp["root"]["root_hash"]
    )
    assert not fmt.check_package_proof(
        "f" * 64, pp["leaf_index"], pp["tree_size"], pp["path"], pp["root"]["root_hash"]
    )


def test_roots_grow_and_old_proofs_still_hold(package, kit):
    first = ArchiveRoot.objects.get()
    second_pkg = package_seal(info=_info(state="failed"), actor="tester")
    assert second_pkg.version == 2 and second_pkg.seq == package.seq + 1
    second = roots_publish()
    assert second.tree_size == first.tree_size + 1 and roots_publish() == second  # nothing new: same root
    for pkg in (package, second_pkg):
        pp = proof_for(pkg, second)
        assert fmt.check_package_proof(pkg.digest, pkg.seq, second.tree_size, pp["path"], second.root_hash)


def test_verify_archive_runs_with_no_database(exported, tmp_path):
    """The exported ZIP, alone in a clean directory, verified by a process that has no database."""
    zpath, _folder = exported
    clean = tmp_path / "clean"
    clean.mkdir()
    shutil.copy(zpath, clean / "pkg.zip")
    env = {
        **os.environ,
        "VAR_DIR": str(clean / "var"),
        "DATABASE_URL": f"sqlite:///{clean}/no-such-dir/db.sqlite3",
        "PYTHONPATH": str(dj_settings.BASE_DIR),
    }
    manage = str(Path(dj_settings.BASE_DIR) / "manage.py")
    ok = subprocess.run(
        [sys.executable, manage, "verify_archive", "pkg.zip", "--json"],
        cwd=clean,
        env=env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout.splitlines()[0])["ok"] is True
    with zipfile.ZipFile(clean / "pkg.zip", "a") as zf:
        zf.writestr("files/kit/extra.json", "{}")
    bad = subprocess.run(
        [sys.executable, manage, "verify_archive", "pkg.zip", "--json"],
        cwd=clean,
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    findings = json.loads(bad.stdout.splitlines()[0])["findings"]
    assert {"property": "integrity", "code": "file_extra", "path": "kit/extra.json"} in [
        {k: f[k] for k in ("property", "code", "path")} for f in findings
    ]
    assert not (clean / "no-such-dir").exists()


def test_a_bidder_proves_its_receipt_is_archived(package):
    from archive.proofs import check_receipt_proof, receipt_digest, receipt_proof
    from archive.signing import signer
    from core.canonical import canonical_json

    receipt = b'{"receipt":"r-1"}'
    proof = receipt_proof(hashlib.sha256(receipt).hexdigest())
    assert proof is not None
    wire = json.loads(canonical_json(proof))  # what the bidder downloads
    assert check_receipt_proof(wire, receipt, trusted_ca=signer().chain[-1]) == []
    pretty = b'{\n  "receipt": "r-1"\n}\n'  # as saved from the API: the same receipt
    assert receipt_digest(pretty) == hashlib.sha256(receipt).hexdigest()
    assert check_receipt_proof(wire, pretty) == []
    assert "receipt_not_this_file" in check_receipt_proof(wire, b'{"receipt":"r-2"}')
    wire["package"]["root"]["root_hash"] = "0" * 64
    assert {"package_not_in_root", "root_signature_invalid"} <= set(check_receipt_proof(wire, receipt))
    assert receipt_proof("0" * 64) is None


def test_receipt_proofs_cover_receipts_only_and_never_publish_a_root(kit, clock):
    from archive.proofs import check_receipt_proof, receipt_proof
    from core.canonical import canonical_json

    package_seal(info=_info(), actor="tester")  # no root published yet
    notice = hashlib.sha256(b'{"title":"\\u516c\\u544a"}').hexdigest()
    assert receipt_proof(notice) is None  # a public file's digest does not open the manifest
    receipt = b'{"receipt":"r-1"}'
    proof = json.loads(canonical_json(receipt_proof(hashlib.sha256(receipt).hexdigest())))
    assert proof["package"] is None and not ArchiveRoot.objects.exists()
    assert check_receipt_proof(proof, receipt) == ["package_not_published"]
