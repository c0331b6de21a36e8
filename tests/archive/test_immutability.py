"""Nothing archived is updated or deleted through the application, and on PostgreSQL not through the
database either (issue 6 item 3); retention per regime and the two-person disposal procedure."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from archive import rules
from archive.immutability import ArchiveImmutable
from archive.journal import journal_append
from archive.models import ArchiveFile, ArchivePackage, ArchiveRoot, Disposal, JournalEntry
from archive.services import disposal_decide, disposal_request
from archive.verify import verify_package
from core.errors import AccessDenied, Conflict, ValidationFailed
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="database triggers are PostgreSQL's")


def test_application_refuses_every_change_to_archived_rows(package):
    entry = JournalEntry.objects.filter(stream=package.project).first()
    root = ArchiveRoot.objects.get()
    afile = ArchiveFile.objects.filter(package=package).first()
    attempts = [
        lambda: (setattr(package, "title", "x"), package.save()),
        package.delete,
        lambda: ArchivePackage.objects.filter(pk=package.pk).update(title="x"),
        lambda: ArchivePackage.objects.filter(pk=package.pk).delete(),
        lambda: (setattr(afile, "public", True), afile.save()),
        lambda: ArchiveFile.objects.filter(package=package).delete(),
        lambda: (setattr(entry, "action", "forged"), entry.save()),
        lambda: JournalEntry.objects.filter(pk=entry.pk).update(action="forged"),
        entry.delete,
        lambda: ArchiveRoot.objects.filter(pk=root.pk).update(root_hash="0" * 64),
    ]
    for attempt in attempts:
        with pytest.raises(ArchiveImmutable) as exc:
            attempt()
        assert exc.value.code == "archive_immutable"
    assert verify_package(ArchivePackage.objects.get(pk=package.pk)).ok


@pg_only
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE archive_journalentry SET action = 'forged' WHERE stream = %s",
        "DELETE FROM archive_journalentry WHERE stream = %s",
        "UPDATE archive_archivepackage SET title = 'x' WHERE project = %s",
        "UPDATE archive_archivepackage SET status = 'disposed', disposed_at = now() WHERE project = %s",
        "DELETE FROM archive_archivefile WHERE package_id IN (SELECT id FROM archive_archivepackage WHERE project = %s)",
        "UPDATE archive_archivefile SET public = true WHERE package_id IN (SELECT id FROM archive_archivepackage WHERE project = %s)",
        "UPDATE archive_archiveroot SET root_hash = 'x' WHERE %s IS NOT NULL",
    ],
)
def test_postgresql_triggers_refuse_raw_sql(package, sql):
    with (
        pytest.raises(IntegrityError, match="archive_immutable"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(sql, [package.project])
    assert verify_package(ArchivePackage.objects.get(pk=package.pk)).ok


def test_retention_per_regime_has_a_fifteen_year_floor():
    assert rules.retention_years("GP") == 15
    assert rules.retention_years("TB", {"TB": 20}) == 20
    assert rules.retention_years("TB", {"TB": "permanent"}) is None
    for bad in (14, 0, "20", True, 15.5):
        with pytest.raises(ValidationFailed) as exc:
            rules.retention_years("GP", {"GP": bad})
        assert exc.value.code == "archive_retention_invalid"
    assert rules.retain_until(dt.date(2024, 2, 29), 15) == dt.date(2039, 2, 28)
    assert rules.retain_until(dt.date(2026, 3, 1), None) is None
    assert not rules.may_dispose(dt.date(2041, 3, 1), dt.date(2041, 3, 1))
    assert rules.may_dispose(dt.date(2041, 3, 1), dt.date(2041, 3, 2))
    assert not rules.may_dispose(None, dt.date(2999, 1, 1))


def test_disposal_needs_expiry_and_two_people_of_two_roles(package, clock):
    centre, centre2 = UserFactory(role="centre"), UserFactory(role="centre")
    regulator, expert = UserFactory(role="regulator"), UserFactory(role="expert")
    with pytest.raises(Conflict) as exc:
        disposal_request(package=package, actor=centre, reason="期满")
    assert exc.value.code == "archive_retention_running"
    clock.set(dt.datetime(2041, 3, 2, 9, 0, tzinfo=dt.UTC))
    with pytest.raises(AccessDenied):
        disposal_request(package=package, actor=expert, reason="期满")
    with pytest.raises(ValidationFailed):
        disposal_request(package=package, actor=centre, reason="  ")
    d = disposal_request(package=package, actor=centre, reason="保管期限已满")
    with pytest.raises(Conflict) as exc:
        disposal_request(package=package, actor=centre, reason="again")
    assert exc.value.code == "archive_disposal_pending"
    with pytest.raises(AccessDenied) as exc:
        disposal_decide(disposal=d, actor=centre2, approve=True)
    assert exc.value.code == "forbidden"
    assert ArchiveFile.objects.filter(package=package).exists()
    done = disposal_decide(disposal=d, actor=regulator, approve=True, note="同意")
    assert done.status == Disposal.Status.EXECUTED
    pkg = ArchivePackage.objects.get(pk=package.pk)
    assert pkg.status == "disposed" and not ArchiveFile.objects.filter(package=pkg).exists()
    actions = list(JournalEntry.objects.filter(stream=pkg.project).values_list("action", flat=True))
    assert actions[-2:] == ["archive.disposal_requested", "archive.disposal_decided"]
    assert [f.code for f in verify_package(pkg).findings] == ["package_disposed"]
    with pytest.raises(Conflict):
        disposal_decide(disposal=done, actor=regulator, approve=True)


def test_a_rejected_disposal_changes_nothing(package, clock):
    clock.set(dt.datetime(2041, 3, 2, 9, 0, tzinfo=dt.UTC))
    d = disposal_request(package=package, actor=UserFactory(role="centre"), reason="期满")
    disposal_decide(disposal=d, actor=UserFactory(role="regulator"), approve=False, note="仍有诉讼")
    assert verify_package(ArchivePackage.objects.get(pk=package.pk)).ok
    journal_append(stream=package.project, action="test.after", actor="t")  # the stream goes on
