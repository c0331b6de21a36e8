"""Disposal (销毁) of a package whose retention has run out (issue 6 item 3): one person asks, a second
person of another role decides; approving carries it out. Each step is journalled in the project's
stream and the archive stream. The package row stays (status disposed, with its digest, so published
roots still verify); its file records go, and with them the archive's hold on the bytes."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from archive import rules
from archive.immutability import unlocked
from archive.journal import journal_append
from archive.models import ArchiveFile, ArchivePackage, Disposal
from archive.services.seal import ARCHIVE_STREAM
from core.errors import AccessDenied, Conflict, ValidationFailed

# Who may ask and who may decide (DESIGN roles): the centre keeps the archive, the regulator approves.
REQUEST_ROLES = frozenset({"centre", "admin"})
DECIDE_ROLES = frozenset({"regulator", "admin"})


def _who(user) -> tuple[str, str, str]:
    return str(user.pk), user.get_username(), getattr(user, "role", "")


def disposal_request(*, package: ArchivePackage, actor, reason: str) -> Disposal:
    if getattr(actor, "role", "") not in REQUEST_ROLES:
        raise AccessDenied(_("Only the trading centre may propose a disposal."), code="forbidden")
    if not (reason or "").strip():
        raise ValidationFailed(_("Give the reason."), code="reason_required")
    today = timezone.localdate()
    if not rules.may_dispose(package.retain_until, today):
        raise Conflict(
            _("The retention period has not run out."),
            code="archive_retention_running",
            retain_until=package.retain_until or rules.PERMANENT,
        )
    with transaction.atomic():
        package = ArchivePackage.objects.select_for_update().get(pk=package.pk)
        if package.status != ArchivePackage.Status.SEALED:
            raise Conflict(_("This package has already been disposed of."), code="archive_disposed")
        if package.disposals.filter(status=Disposal.Status.REQUESTED).exists():
            raise Conflict(
                _("A disposal is already waiting for a decision."), code="archive_disposal_pending"
            )
        uid, label, role = _who(actor)
        disposal = Disposal.objects.create(
            package=package,
            reason=reason.strip(),
            requested_by_id=uid,
            requested_by=label,
            requested_role=role,
            requested_at=timezone.now(),
        )
        payload = {"package": package.pk, "disposal": disposal.pk, "reason": disposal.reason}
        journal_append(
            stream=package.project,
            action="archive.disposal_requested",
            actor=actor,
            obj=disposal,
            payload=payload,
        )
        journal_append(
            stream=ARCHIVE_STREAM,
            action="archive.disposal_requested",
            actor=actor,
            obj=disposal,
            payload=payload,
        )
    return disposal


def disposal_decide(*, disposal: Disposal, actor, approve: bool, note: str = "") -> Disposal:
    if getattr(actor, "role", "") not in DECIDE_ROLES:
        raise AccessDenied(_("Only a regulator may decide a disposal."), code="forbidden")
    uid, label, role = _who(actor)
    with transaction.atomic():
        disposal = Disposal.objects.select_for_update().select_related("package").get(pk=disposal.pk)
        if disposal.status != Disposal.Status.REQUESTED:
            raise Conflict(_("This disposal has already been decided."), code="archive_disposal_decided")
        if uid == disposal.requested_by_id or role == disposal.requested_role:
            raise AccessDenied(
                _("A disposal needs a second person of another role."), code="archive_two_person_rule"
            )
        package = ArchivePackage.objects.select_for_update().get(pk=disposal.package_id)
        if approve and not rules.may_dispose(package.retain_until, timezone.localdate()):
            raise Conflict(_("The retention period has not run out."), code="archive_retention_running")
        now = timezone.now()
        disposal.status = Disposal.Status.EXECUTED if approve else Disposal.Status.REJECTED
        disposal.decided_by_id, disposal.decided_by, disposal.decided_role = uid, label, role
        disposal.decided_at = now
        disposal.decision_note = (note or "").strip()
        disposal.save()
        files = 0
        if approve:
            with unlocked(ArchivePackage, ArchiveFile):
                ArchivePackage.objects.filter(pk=package.pk).update(
                    status=ArchivePackage.Status.DISPOSED, disposed_at=now
                )
                files, _detail = ArchiveFile.objects.filter(package=package).delete()
        payload = {
            "package": package.pk,
            "disposal": disposal.pk,
            "approved": approve,
            "files": files,
            "note": disposal.decision_note,
        }
        journal_append(
            stream=package.project,
            action="archive.disposal_decided",
            actor=actor,
            obj=disposal,
            payload=payload,
        )
        journal_append(
            stream=ARCHIVE_STREAM,
            action="archive.disposal_decided",
            actor=actor,
            obj=disposal,
            payload=payload,
        )
    return disposal
