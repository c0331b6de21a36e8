"""Tampering behind the application's back, for the tests that prove it is detected: opens the
archive's immutability window and, on PostgreSQL, switches the session's triggers off (what an
attacker with the database superuser's rights could do)."""

from __future__ import annotations

import contextlib

from django.db import connection

from archive.immutability import unlocked
from archive.models import ArchiveFile, ArchivePackage, ArchiveRoot, JournalEntry


@contextlib.contextmanager
def tampering():
    pg = connection.vendor == "postgresql"
    if pg:
        with connection.cursor() as cur:
            cur.execute("SET session_replication_role = replica")
    try:
        with unlocked(JournalEntry, ArchivePackage, ArchiveFile, ArchiveRoot):
            yield
    finally:
        if pg:
            with connection.cursor() as cur:
                cur.execute("SET session_replication_role = origin")
