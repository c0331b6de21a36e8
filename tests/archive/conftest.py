"""Fixtures of the archive tests: a project the archive knows only by its key, with a test provider
that contributes a document, a PDF and an unopened bid, sealed and covered by a published root."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest

from archive import providers
from archive.blobs import blob_put
from archive.journal import journal_append
from archive.pdf import render_document
from archive.services import ProjectInfo, package_export, package_seal, roots_publish

PROJECT = "tender:990001"
CIPHER = bytes(range(256)) * 64  # stands in for an envelope: no document magic at its start


def _kit(project):
    if project != PROJECT:
        return []
    return [
        providers.Item("notice.json", "application/json", data=b'{"title":"\\u516c\\u544a"}', public=True),
        providers.Item(
            "notice.pdf", "application/pdf", data=render_document("公告", [("正文", "第一段。")]), public=True
        ),
        providers.Item(
            "bids/0001/ciphertext.bin",
            "application/octet-stream",
            blob=blob_put(data=CIPHER).sha256,
            sealed=True,
        ),
        providers.Item("bids/0001/receipt.json", "application/json", data=b'{"receipt":"r-1"}'),
    ]


@pytest.fixture
def kit():
    providers.register("kit", _kit)
    yield
    providers._providers.pop("kit", None)


def _info(**kw):
    base = {
        "project": PROJECT,
        "title": "测试项目",
        "code": "T-1",
        "regime": "GP",
        "category": "goods",
        "state": "awarded",
        "ended_on": dt.date(2026, 3, 1),
    }
    return ProjectInfo(**{**base, **kw})


@pytest.fixture
def package(kit, clock):
    for i in range(3):
        journal_append(stream=PROJECT, action="test.step", actor="tester", payload={"i": i})
    pkg = package_seal(info=_info(), actor="tester")
    roots_publish()
    return pkg


@pytest.fixture
def exported(package, tmp_path):
    zpath = tmp_path / "pkg.zip"
    with zpath.open("wb") as fh:
        package_export(package, fh)
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(zpath) as zf:
        zf.extractall(folder)
    return zpath, folder
