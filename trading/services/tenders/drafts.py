"""Creating and editing a tender while it is a draft, with its transaction code."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from core.errors import Conflict, ValidationFailed
from trading.access import require_role, tender_access_manage
from trading.codes import transaction_code_make
from trading.models import CodeSequence, Lot, Role, Tender, TenderState, User
from trading.services.tenders.forms import tender_form_clean


def _next_code(day: dt.date) -> str:
    """Take the day's next sequence number. Call inside the transaction that creates the tender."""
    try:
        seq = CodeSequence.objects.select_for_update().get(day=day)
    except CodeSequence.DoesNotExist:
        # The first tender of a day: two may race to create the row. The loser's insert fails
        # inside its own savepoint, and it then waits on the winner's row lock.
        try:
            with transaction.atomic():
                CodeSequence.objects.create(day=day)
        except IntegrityError:
            pass
        seq = CodeSequence.objects.select_for_update().get(day=day)
    seq.last += 1
    seq.save(update_fields=["last"])
    return transaction_code_make(operator_uscc=settings.PLATFORM_OPERATOR_USCC, day=day, sequence=seq.last)


def _may_create_for(actor: User, clean: dict) -> None:
    require_role(actor, Role.AGENCY, Role.CENTRE, Role.ADMIN)
    if actor.role == Role.AGENCY and actor.entity_id not in {
        getattr(clean["tenderee"], "pk", None),
        getattr(clean["agency"], "pk", None),
    }:
        raise ValidationFailed(
            _("Agency staff create tenders for their own agency or tenderee."),
            code="tender_not_yours",
            status=403,
        )


def tender_create(*, actor: User, data: dict) -> Tender:
    clean = tender_form_clean(data)
    _may_create_for(actor, clean)
    lots = clean.pop("lots")
    with transaction.atomic():
        tender = Tender.objects.create(
            code=_next_code(timezone.localdate(timezone.now())), created_by=actor, **clean
        )
        Lot.objects.bulk_create([Lot(tender=tender, **lot) for lot in lots])
        journal_append(
            stream=tender.stream,
            action="tender.created",
            actor=actor,
            obj=tender,
            payload={"code": tender.code, "title": tender.title, "lots": len(lots)},
        )
    return tender


def tender_update_draft(*, tender: Tender, actor: User, data: dict) -> Tender:
    tender_access_manage(user=actor, tender=tender)
    clean = tender_form_clean(data)
    _may_create_for(actor, clean)
    lots = clean.pop("lots")
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        if tender.state != TenderState.DRAFT:
            raise Conflict(
                _("Only a draft can be edited; publish an amendment instead."), code="tender_not_draft"
            )
        for k, v in clean.items():
            setattr(tender, k, v)
        tender.save()
        tender.lots.all().delete()
        Lot.objects.bulk_create([Lot(tender=tender, **lot) for lot in lots])
        journal_append(
            stream=tender.stream,
            action="tender.updated",
            actor=actor,
            obj=tender,
            payload={"lots": len(lots)},
        )
    return tender
