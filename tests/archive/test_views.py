"""The archive's pages (issue 6 item 5, the disposal procedure and the receipt proof): who may see what,
search and filters, public files only for the public, downloads and the ZIP export that verifies, the
four-property check on demand, disposal through the pages under the two-person rule, the receipt check."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import pytest
from django.conf import settings as dj_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from archive.models import ArchiveFile, ArchivePackage, ArchiveRoot, Disposal
from archive.proofs import check_receipt_proof
from archive.services import package_seal, roots_publish
from archive.verify import PROPERTIES, verify_export
from tests.archive.conftest import CIPHER, _info
from tests.factories import AgencyUserFactory, BidderUserFactory, UserFactory

pytestmark = pytest.mark.django_db

RECEIPT = b'{"receipt":"r-1"}'  # the kit's bids/0001/receipt.json
AFTER_RETENTION = dt.datetime(2041, 3, 2, 9, 0)  # GP: kept 15 years from 2026-03-01


def code_of(response) -> str:
    found = re.search(r'<code class="error-code">([^<]+)</code>', response.content.decode())
    return found.group(1) if found else ""


def ids(response) -> set[int]:
    return {int(x) for x in re.findall(r'<tr data-package-id="(\d+)"', response.content.decode())}


def client_for(client, user):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def users():
    return {
        "centre": UserFactory(role="centre"),
        "regulator": UserFactory(role="regulator"),
        "admin": UserFactory(role="admin"),
        "expert": UserFactory(role="expert"),
        "agency": AgencyUserFactory(),
        "bidder": BidderUserFactory(),
    }


def test_internal_pages_admit_regulators_centre_and_admins_only(client, package, users):
    pages = [
        reverse("archive:index"),
        reverse("archive:package", args=[package.pk]),
        reverse("archive:journal", args=[package.pk]),
        reverse("archive:manifest", args=[package.pk]),
        reverse("archive:file", args=[package.pk, "kit/notice.json"]),
    ]
    posts = [
        reverse("archive:verify", args=[package.pk]),
        reverse("archive:export", args=[package.pk]),
        reverse("archive:disposal_request", args=[package.pk]),
    ]
    for role in ("centre", "regulator", "admin"):
        c = client_for(client, users[role])
        for page in pages:
            assert c.get(page).status_code == 200, (role, page)
    for role in ("bidder", "expert", "agency"):
        c = client_for(client, users[role])
        for page in pages:
            response = c.get(page)
            assert (response.status_code, code_of(response)) == (403, "role_forbidden"), (role, page)
        for page in posts:
            assert c.post(page, {"reason": "x"}).status_code == 403, (role, page)
    anonymous = client_for(client, None)
    for page in pages + posts:
        response = anonymous.post(page) if page in posts else anonymous.get(page)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), page
    assert not Disposal.objects.exists()


def test_public_pages_are_open_to_anyone_and_the_nav_links_by_role(client, package, users):
    for page in (
        reverse("archive:public"),
        reverse("archive:public_package", args=[package.pk]),
        reverse("archive:roots"),
        reverse("archive:roots_json"),
        reverse("archive:receipt"),
        reverse("archive:public_file", args=[package.pk, "kit/notice.pdf"]),
    ):
        assert client.get(page).status_code == 200, page
    assert 'id="nav-archive"' in client.get(reverse("archive:public")).content.decode()
    nav = re.compile(r'<a href="([^"]+)" id="nav-archive"')
    assert nav.search(client.get("/").content.decode()).group(1) == reverse("archive:public")
    regulator = client_for(client, users["regulator"]).get("/").content.decode()
    assert nav.search(regulator).group(1) == reverse("archive:index")


def test_search_and_filters_narrow_the_list(client, package, users, clock):
    clock.advance(days=1)
    other = package_seal(
        info=_info(
            project="tender:990002",
            title="道路养护工程",
            code="GX-ROAD-9",
            regime="TB",
            category="works",
            state="suspended",
            interim=True,
        ),
        actor="tester",
    )
    c = client_for(client, users["centre"])
    index = reverse("archive:index")
    assert ids(c.get(index)) == {package.pk, other.pk}
    cases = {
        "q=道路": {other.pk},
        "q=T-1": {package.pk},
        "q=tender:990002": {other.pk},
        "regime=GP": {package.pk},
        "category=works": {other.pk},
        "state=awarded": {package.pk},
        "interim=yes": {other.pk},
        "interim=no": {package.pk},
        "year=2026": {package.pk, other.pk},
        "year=2025": set(),
        "status=disposed": set(),
        "regime=TB&state=awarded": set(),
    }
    for query, expected in cases.items():
        assert ids(c.get(f"{index}?{query}")) == expected, query
    row = re.search(
        rf'<tr data-package-id="{package.pk}".*?</tr>', c.get(index).content.decode(), re.S
    ).group(0)
    assert "2041-03-01" in row and f">{package.version}<" in row and f">{package.file_count}<" in row
    refused = c.get(f"{index}?status=gone")
    assert (refused.status_code, code_of(refused)) == (400, "invalid_filter")
    # the public list searches too, and has no status filter to reach disposed packages with
    public = client_for(client, None).get(reverse("archive:public") + "?q=GX-ROAD")
    assert ids(public) == {other.pk}


def test_public_sees_public_files_only(client, package):
    page = client.get(reverse("archive:public_package", args=[package.pk])).content.decode()
    shown = set(re.findall(r'<tr data-path="([^"]+)" data-public="(\d)"', page))
    assert shown == {("kit/notice.json", "1"), ("kit/notice.pdf", "1")}
    assert "ciphertext.bin" not in page and "receipt.json" not in page
    hidden = ArchiveFile.objects.filter(package=package, public=False).count()
    assert f'data-hidden="{hidden}"' in page
    for path in (
        "kit/bids/0001/ciphertext.bin",
        "kit/bids/0001/receipt.json",
        "journal/entries.json",
        "nope",
    ):
        response = client.get(reverse("archive:public_file", args=[package.pk, path]))
        assert (response.status_code, code_of(response)) == (404, "archive_file_not_found"), path
    response = client.get(reverse("archive:public_file", args=[package.pk, "kit/notice.json"]))
    assert b"".join(response.streaming_content) == b'{"title":"\\u516c\\u544a"}'


def test_file_download_streams_the_archived_bytes(client, package, users):
    c = client_for(client, users["regulator"])
    response = c.get(reverse("archive:file", args=[package.pk, "kit/bids/0001/ciphertext.bin"]))
    assert b"".join(response.streaming_content) == CIPHER
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="ciphertext.bin"'
    assert response["X-Content-SHA256"] == hashlib.sha256(CIPHER).hexdigest()
    pdf = c.get(reverse("archive:file", args=[package.pk, "kit/notice.pdf"]))
    assert pdf["Content-Type"] == "application/pdf" and b"".join(pdf.streaming_content).startswith(b"%PDF")
    manifest = c.get(reverse("archive:manifest", args=[package.pk]))
    assert hashlib.sha256(b"".join(manifest.streaming_content)).hexdigest() == package.digest


def test_package_page_shows_manifest_files_proof_and_override(client, package, users, clock):
    clock.advance(days=1)
    overridden = package_seal(
        info=_info(
            override={"reason": "监管部门决定先行归档", "by": "reg", "role": "regulator", "alerts": [7]}
        ),
        actor="tester",
    )
    c = client_for(client, users["centre"])
    page = c.get(reverse("archive:package", args=[package.pk])).content.decode()
    assert 'data-folder="kit"' in page and 'data-folder="journal"' in page and 'data-folder="."' in page
    assert 'data-path="kit/bids/0001/ciphertext.bin" data-public="0" data-sealed="1"' in page
    assert hashlib.sha256(CIPHER).hexdigest() in page
    root = ArchiveRoot.objects.get()
    assert (
        f'data-leaf-index="{package.seq}" data-tree-size="{root.tree_size}" data-root-hash="{root.root_hash}"'
        in page
    )
    assert 'data-retain-until="2041-03-01"' in page and 'id="override"' not in page
    page = c.get(reverse("archive:package", args=[overridden.pk])).content.decode()
    assert 'data-override="1"' in page and "监管部门决定先行归档" in page
    assert 'id="merkle-pending"' in page  # no root covers it yet
    journal = c.get(reverse("archive:journal", args=[package.pk])).content.decode()
    assert re.findall(r'data-seq="(\d+)" data-in-package="(\d)"', journal)[:4] == [
        ("1", "1"),
        ("2", "1"),
        ("3", "1"),
        ("4", "0"),  # the seal itself, after the copy
    ]


def test_verify_now_shows_the_four_properties_and_names_a_flipped_byte(client, package, users):
    c = client_for(client, users["admin"])
    url = reverse("archive:verify", args=[package.pk])
    page = c.post(url).content.decode()
    assert 'id="verification" data-ok="1"' in page
    assert dict.fromkeys(PROPERTIES, "1") == dict(
        re.findall(r'<li data-property="(\w+)" data-ok="(\d)"', page)
    )
    notice = ArchiveFile.objects.get(package=package, path="kit/notice.json").blob
    stored = Path(dj_settings.MEDIA_ROOT) / notice.storage_name
    data = bytearray(stored.read_bytes())
    data[2] ^= 0x01
    stored.write_bytes(bytes(data))
    page = c.post(url).content.decode()
    assert 'id="verification" data-ok="0"' in page
    assert re.search(r'<li data-property="integrity" data-ok="0"', page)
    assert re.search(r'data-finding="\w+" data-property="integrity" data-severity="error"', page)
    assert "kit/notice.json" in re.search(r'<table class="data" id="findings">.*?</table>', page, re.S).group(
        0
    )


def test_export_streams_a_zip_that_verifies_offline(client, package, users, tmp_path):
    c = client_for(client, users["centre"])
    response = c.post(reverse("archive:export", args=[package.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="tender-990001-v{package.version}.zip"'
    assert response["X-Archive-Verification"] == "ok"
    zpath = tmp_path / "export.zip"
    with zpath.open("wb") as fh:
        for chunk in response.streaming_content:
            fh.write(chunk)
    report = verify_export(zpath)
    assert report.ok and report.digest == package.digest, report.lines()


def test_disposal_through_the_pages_needs_a_second_person_of_another_role(client, package, users, clock):
    page_url = reverse("archive:package", args=[package.pk])
    request_url = reverse("archive:disposal_request", args=[package.pk])
    admin = client_for(client, users["admin"])
    early = admin.post(request_url, {"reason": "保管期满"})
    assert (early.status_code, code_of(early)) == (409, "archive_retention_running")
    assert 'data-retention-running="1"' in admin.get(page_url).content.decode()

    clock.set(AFTER_RETENTION)  # sessions expire with the clock: log in again
    admin = client_for(client, users["admin"])
    assert 'id="disposal-request-form"' in admin.get(page_url).content.decode()
    blank = admin.post(request_url, {"reason": "  "})
    assert (blank.status_code, code_of(blank)) == (400, "reason_required")
    assert admin.post(request_url, {"reason": "保管期满，经鉴定无继续保存价值"}).status_code == 302
    disposal = Disposal.objects.get()
    decide_url = reverse("archive:disposal_decide", args=[package.pk, disposal.pk])

    # the requester's own role may not decide: the page says so and the view refuses
    second_admin = client_for(client, UserFactory(role="admin"))
    page = second_admin.get(page_url).content.decode()
    assert f'data-pending="{disposal.pk}"' in page and 'id="two-person-note"' in page
    refused = second_admin.post(decide_url, {"decision": "approve"})
    assert (refused.status_code, code_of(refused)) == (403, "archive_two_person_rule")
    centre = client_for(client, users["centre"]).post(decide_url, {"decision": "approve"})
    assert (centre.status_code, code_of(centre)) == (403, "forbidden")
    regulator = client_for(client, users["regulator"])
    assert 'id="disposal-decide-form"' in regulator.get(page_url).content.decode()
    bad = regulator.post(decide_url, {"decision": "maybe"})
    assert (bad.status_code, code_of(bad)) == (400, "invalid_decision")

    assert regulator.post(decide_url, {"decision": "approve", "note": "同意销毁"}).status_code == 302
    package.refresh_from_db()
    assert package.status == ArchivePackage.Status.DISPOSED and not package.files.exists()
    page = regulator.get(page_url).content.decode()
    assert f'data-disposal-id="{disposal.pk}" data-status="executed"' in page and 'id="disposed-note"' in page
    gone = regulator.get(reverse("archive:file", args=[package.pk, "kit/notice.json"]))
    assert (gone.status_code, code_of(gone)) == (404, "archive_file_not_found")
    export = regulator.post(reverse("archive:export", args=[package.pk]))
    assert (export.status_code, code_of(export)) == (409, "archive_disposed")
    public = client_for(client, None).get(reverse("archive:public_package", args=[package.pk]))
    assert (public.status_code, code_of(public)) == (404, "archive_package_not_found")


def test_receipt_check_finds_the_receipt_and_its_proof_checks_offline(client, package):
    url = reverse("archive:receipt")
    page = client.post(url, {"receipt": SimpleUploadedFile("receipt.json", RECEIPT)}).content.decode()
    assert 'data-found="1" data-ok="1"' in page and 'id="receipt-path">kit/bids/0001/receipt.json<' in page
    links = re.findall(r'data-link="(\w+)" data-checked="(\d)" data-ok="(\d)"', page)
    assert links and all(checked == ok == "1" for _k, checked, ok in links)
    pretty = SimpleUploadedFile("receipt.json", json.dumps(json.loads(RECEIPT), indent=2).encode())
    assert 'data-found="1" data-ok="1"' in client.post(url, {"receipt": pretty}).content.decode()
    forged = SimpleUploadedFile("receipt.json", RECEIPT.replace(b"r-1", b"r-2"))
    assert 'data-found="0"' in client.post(url, {"receipt": forged}).content.decode()

    sha = hashlib.sha256(RECEIPT).hexdigest()
    pasted = client.post(url, {"sha256": f"  {sha.upper()} "}).content.decode()
    assert 'data-found="1" data-ok="1"' in pasted
    assert 'data-link="receipt" data-checked="0"' in pasted

    response = client.get(reverse("archive:receipt_proof") + f"?sha256={sha}")
    assert response["Content-Disposition"].startswith("attachment;")
    proof = json.loads(response.content)
    assert check_receipt_proof(proof, RECEIPT) == []
    assert check_receipt_proof(proof, RECEIPT.replace(b"r-1", b"r-2")) == ["receipt_not_this_file"]

    unknown = client.post(url, {"sha256": "ab" * 32}).content.decode()
    assert 'data-found="0"' in unknown
    missing = client.get(reverse("archive:receipt_proof") + "?sha256=" + "ab" * 32)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "archive_receipt_not_found")


def test_receipt_check_refuses_bad_input_with_a_stable_code(client, package, monkeypatch):
    from archive.views import public

    url = reverse("archive:receipt")
    for data, expected in (
        ({"sha256": "xyz"}, (400, "archive_sha256_invalid")),
        ({"sha256": "ab" * 31}, (400, "archive_sha256_invalid")),
        ({}, (400, "archive_receipt_missing")),
    ):
        response = client.post(url, data)
        assert (response.status_code, code_of(response)) == expected, data
    monkeypatch.setattr(public, "RECEIPT_MAX_BYTES", 8)
    large = client.post(url, {"receipt": SimpleUploadedFile("big.json", RECEIPT)})
    assert (large.status_code, code_of(large)) == (413, "archive_receipt_too_large")
    bad = client.get(reverse("archive:receipt_proof") + "?sha256=nothex")
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "archive_sha256_invalid")
    # the form posts with its CSRF token; a cross-site post without one is refused
    assert Client(enforce_csrf_checks=True).post(url, {"sha256": "ab" * 32}).status_code == 403


def test_roots_are_published_as_json_with_their_signatures(client, package, clock):
    clock.advance(hours=1)
    package_seal(info=_info(project="tender:990003"), actor="tester")
    roots_publish()
    body = json.loads(client.get(reverse("archive:roots_json")).content)
    assert [(r["tree_size"], r["root_hash"]) for r in body["roots"]] == list(
        ArchiveRoot.objects.order_by("-tree_size").values_list("tree_size", "root_hash")
    )
    assert body["roots"][0]["signature"] and body["ca_fingerprint"] and body["next_before"] is None
    page = client.get(reverse("archive:roots")).content.decode()
    assert re.findall(r'<tr id="root-(\d+)"', page) == ["2", "1"]
    refused = client.get(reverse("archive:roots_json") + "?before=x")
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "invalid_filter")
