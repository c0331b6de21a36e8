"""Credit records and the blacklist (DOMAIN C11, D4): decided by regulators, journalled."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from core.errors import Conflict, ValidationFailed
from trading.access import require_role
from trading.models import CreditRecord, MarketEntity, Person, Role, User


def credit_record_create(
    *,
    actor: User,
    kind: str,
    legal_basis: str,
    starts_on: dt.date,
    entity: MarketEntity | None = None,
    person: Person | None = None,
    ends_on: dt.date | None = None,
    blocks_participation: bool = False,
    restricted_action: str = "",
    fine_amount: Decimal | None = None,
    description: str = "",
    source: str = "",
) -> CreditRecord:
    """A regulator records a commendation or a sanction; a disqualification bars participation for its period."""
    require_role(actor, Role.REGULATOR, Role.ADMIN)
    if kind not in CreditRecord.Kind.values:
        raise ValidationFailed(_("Unknown kind of credit record."), code="credit_kind_unknown")
    if entity is None and person is None:
        raise ValidationFailed(
            _("A credit record needs an entity or a person."), code="credit_subject_required"
        )
    if not legal_basis.strip():
        raise ValidationFailed(_("State the legal basis (处罚依据)."), code="legal_basis_required")
    if ends_on is not None and ends_on < starts_on:
        raise ValidationFailed(_("The period ends before it starts."), code="credit_period_invalid")
    if kind == CreditRecord.Kind.DISQUALIFICATION:
        blocks_participation = True
    if kind == CreditRecord.Kind.FINE and (fine_amount is None or fine_amount <= 0):
        raise ValidationFailed(_("A fine needs its amount."), code="fine_amount_required")
    with transaction.atomic():
        record = CreditRecord.objects.create(
            entity=entity,
            person=person,
            kind=kind,
            legal_basis=legal_basis.strip(),
            starts_on=starts_on,
            ends_on=ends_on,
            blocks_participation=blocks_participation,
            restricted_action=restricted_action,
            fine_amount=fine_amount,
            description=description,
            source=source,
            decided_by=actor,
            decided_at=timezone.now(),
        )
        stream = f"entity:{entity.pk}" if entity else f"person:{person.pk}"
        journal_append(
            stream=stream,
            action="credit.recorded",
            actor=actor,
            obj=record,
            payload={
                "kind": kind,
                "legal_basis": record.legal_basis,
                "starts_on": starts_on,
                "ends_on": ends_on,
                "blocks": blocks_participation,
                "source": source,
            },
        )
    return record


def credit_record_revoke(*, record: CreditRecord, actor: User, reason: str) -> CreditRecord:
    """Records are never deleted: a revocation (e.g. after review) is itself recorded."""
    require_role(actor, Role.REGULATOR, Role.ADMIN)
    if not reason.strip():
        raise ValidationFailed(_("Give the reason."), code="reason_required")
    with transaction.atomic():
        record = CreditRecord.objects.select_for_update().get(pk=record.pk)
        if record.revoked_at:
            raise Conflict(_("Already revoked."), code="credit_already_revoked")
        record.revoked_at = timezone.now()
        record.save(update_fields=["revoked_at"])
        stream = f"entity:{record.entity_id}" if record.entity_id else f"person:{record.person_id}"
        journal_append(
            stream=stream, action="credit.revoked", actor=actor, obj=record, payload={"reason": reason}
        )
    return record
