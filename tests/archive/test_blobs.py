"""Content-addressed document store: a file is kept once, named by its SHA-256."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files.storage import default_storage

from archive.blobs import blob_open, blob_put, blob_verify
from archive.models import Blob

pytestmark = pytest.mark.django_db


def test_bytes_are_stored_under_their_sha256():
    # given
    data = b"tender document v1"

    # when
    blob = blob_put(data=data, content_type="application/pdf")

    # then
    sha = hashlib.sha256(data).hexdigest()
    assert blob.sha256 == sha
    assert blob.size == len(data)
    assert blob.content_type == "application/pdf"
    assert blob.storage_name == f"blobs/{sha[:2]}/{sha[2:4]}/{sha}"
    with blob_open(blob) as fh:
        assert fh.read() == data


def test_same_bytes_give_the_same_blob_once():
    # given
    first = blob_put(data=b"same")

    # when
    second = blob_put(data=io.BytesIO(b"same"), content_type="text/plain")

    # then
    assert second.pk == first.pk
    assert Blob.objects.count() == 1


def test_different_bytes_give_different_blobs():
    assert blob_put(data=b"a").pk != blob_put(data=b"b").pk


def test_file_objects_are_read_from_the_start_in_chunks(settings):
    # given a file object positioned at its end, larger than one chunk
    data = bytes(range(256)) * 5000
    fh = io.BytesIO(data)
    fh.seek(0, io.SEEK_END)

    # when
    blob = blob_put(data=fh)

    # then
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert blob.size == len(data)
    assert blob_verify(blob)


def test_verify_detects_altered_bytes_on_disk():
    # given
    blob = blob_put(data=b"original bytes")
    path = default_storage.path(blob.storage_name)

    # when a byte changes on disk
    with open(path, "r+b") as fh:
        fh.write(b"O")

    # then
    assert blob_verify(blob) is False


def test_a_stale_file_without_its_row_is_replaced_by_the_real_bytes():
    # given a file left at the blob's path with other bytes (e.g. a crash mid-write)
    data = b"the real document"
    sha = hashlib.sha256(data).hexdigest()
    name = f"blobs/{sha[:2]}/{sha[2:4]}/{sha}"
    default_storage.save(name, io.BytesIO(b"half"))

    # when
    blob = blob_put(data=data)

    # then the stored bytes are the real ones, still at the content address
    assert blob.storage_name == name
    assert blob_verify(blob)


def test_long_content_type_is_cut_to_the_column():
    blob = blob_put(data=b"x", content_type="a/" + "b" * 300)
    assert len(blob.content_type) == 120


def test_concurrent_writers_of_the_same_bytes_never_expose_a_partial_file(settings, tmp_path):
    # given many threads writing the same 4 MiB at one address while readers watch it
    import hashlib
    import io
    import threading

    from django.core.files.storage import default_storage

    from archive.blobs import _write_at_address
    from archive.models import Blob

    data = bytes(range(256)) * (4 * 4096)
    blob = Blob(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    errors, partial = [], []

    def write():
        try:
            _write_at_address(blob, io.BytesIO(data))
        except Exception as exc:
            errors.append(exc)

    def read():
        for _ in range(50):
            if default_storage.exists(blob.storage_name):
                with default_storage.open(blob.storage_name, "rb") as fh:
                    if hashlib.sha256(fh.read()).hexdigest() != blob.sha256:
                        partial.append(True)

    threads = [threading.Thread(target=write) for _ in range(6)] + [
        threading.Thread(target=read) for _ in range(2)
    ]
    # when they all run at once
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # then no writer failed, no reader saw a partial file, and the address holds the bytes
    assert errors == [] and partial == []
    with default_storage.open(blob.storage_name, "rb") as fh:
        assert fh.read() == data
