"""The blob store and bid uploads on an object store (S3 in production): no local paths assumed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest
from django.core.files.storage import InMemoryStorage

from archive import blobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def object_store(monkeypatch):
    # given a storage that is not the local file system, as S3 is
    store = InMemoryStorage()
    monkeypatch.setattr(blobs, "default_storage", store)
    return store


def test_blob_put_on_an_object_store_stores_and_reads_back(object_store):
    data = b"ciphertext " * 1000
    blob = blobs.blob_put(data=data)
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert object_store.exists(blob.storage_name)
    assert blobs.blob_verify(blob)
    # storing the same bytes again is idempotent
    assert blobs.blob_put(data=data).pk == blob.pk


def test_a_damaged_object_at_the_address_is_replaced(object_store):
    data = b"the real bytes"
    name = blobs.Blob(sha256=hashlib.sha256(data).hexdigest(), size=len(data)).storage_name
    from django.core.files.base import ContentFile

    object_store.save(name, ContentFile(b"half-writ"))
    blob = blobs.blob_put(data=data)
    assert blobs.blob_verify(blob)


def test_production_settings_put_files_on_s3_when_a_bucket_is_configured(tmp_path):
    env = {
        **os.environ,
        "S3_BUCKET": "ggzy-bids",
        "S3_ENDPOINT_URL": "https://s3.example.internal",
        "VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    code = (
        "import json; from django.conf import settings; from django.core.files.storage import default_storage; "
        "print(type(default_storage._wrapped if default_storage._setup() is None else None).__name__); "
        "print(json.dumps(settings.STORAGES['default']))"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = out.stdout.strip().splitlines()
    default = json.loads(lines[-1])
    # the backend really loads (django-storages + boto3 installed), without touching the network
    assert lines[-2] == "S3Storage"
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    assert default["OPTIONS"]["bucket_name"] == "ggzy-bids"
    assert default["OPTIONS"]["endpoint_url"] == "https://s3.example.internal"
    assert default["OPTIONS"]["file_overwrite"] is True
