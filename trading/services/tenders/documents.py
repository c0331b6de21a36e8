"""Registered downloads of the tender documents."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from core.errors import Conflict
from trading.access import require_role
from trading.models import DocumentDownload, Role, Tender, TenderState, User
from trading.selectors import check_entity_may_participate


def tender_document_download(*, tender: Tender, user: User, request=None) -> DocumentDownload:
    """A bidder obtains the tender documents: registered, evidenced, and refused when barred."""
    from trading.models import ActivityEvidence
    from trading.services.evidence import evidence_record

    require_role(user, Role.BIDDER)
    now = timezone.now()
    if tender.state != TenderState.PUBLISHED:
        raise Conflict(_("The tender is not open for bids."), code="tender_not_open")
    if not tender.docs_from <= now <= tender.docs_until:
        raise Conflict(_("The documents are not available at this time."), code="documents_closed")
    check_entity_may_participate(user.entity)
    with transaction.atomic():
        dl, created = DocumentDownload.objects.select_for_update().get_or_create(
            tender=tender, entity=user.entity, defaults={"user": user, "first_at": now}
        )
        if not created:
            dl.count += 1
            dl.save(update_fields=["count"])
        evidence_record(
            action=ActivityEvidence.Action.DOWNLOAD,
            request=request,
            user=user,
            entity=user.entity,
            tender=tender,
        )
        if created:
            journal_append(
                stream=tender.stream,
                action="tender.documents_obtained",
                actor=user,
                obj=dl,
                payload={"entity": user.entity_id},
            )
    return dl
