"""Publication under the legal rules and amendments with forced extension of the deadline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_anchor, journal_append
from core.errors import Conflict, RuleViolation, ValidationFailed
from trading import rules
from trading.access import tender_access_manage
from trading.models import (
    Announcement,
    AnnouncementKind,
    DocumentDownload,
    EvaluationMethod,
    Notification,
    Tender,
    TenderState,
    User,
)
from trading.services.announcements import announcement_create, announcement_publish
from trading.services.tenders.states import _set_state
from trading.signals import tender_published


def legal_violations(*, tender: Tender, published_at: dt.datetime) -> list[rules.Violation]:
    """Every [V] rule a tender must satisfy to be published (DOMAIN A1–A6, C1, C8)."""
    found = list(
        rules.check_tender_timeline(
            regime=tender.regime,
            category=tender.category,
            method=tender.method,
            published_at=published_at,
            docs_from=tender.docs_from,
            docs_until=tender.docs_until,
            deadline=tender.deadline,
            prequalification=tender.prequalification,
        )
    )
    for lot in tender.lots.all():
        found += rules.check_bid_security(regime=tender.regime, amount=lot.bid_security, base=lot.budget)
        c = lot.committee or {}
        if c:
            found += rules.check_committee(
                regime=tender.regime,
                size=c.get("size", 0),
                experts=c.get("experts", 0),
                tenderee_reps=c.get("tenderee_reps", 0),
                large_or_complex=tender.large_or_complex,
            )
        if lot.evaluation_method == EvaluationMethod.SCORING:
            price = [
                Decimal(x["max"]) for x in lot.evaluation.get("criteria", []) if x.get("group") == "price"
            ]
            if price:
                found += rules.check_price_weight(
                    regime=tender.regime, category=tender.category, price_weight=price[0] / Decimal(100)
                )
    return found


def tender_publish(
    *,
    tender: Tender,
    actor: User,
    body_html: str | None = None,
    documents: list[tuple[str, bytes, str]] | None = None,
) -> Announcement:
    """Check every legal rule at this moment, then publish the tender and its announcement."""
    tender_access_manage(user=actor, tender=tender)
    now = timezone.now()
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        if tender.state != TenderState.DRAFT:
            raise Conflict(_("The tender has already been published."), code="tender_not_draft")
        if tender.docs_from < now and timezone.localdate(tender.docs_from) == timezone.localdate(now):
            # Drafted "from today 09:00", published at 10:00: the documents are out from publication.
            tender.docs_from = now
        violations = legal_violations(tender=tender, published_at=now)
        if violations:
            first = violations[0]
            raise RuleViolation(
                first.message,
                code=first.code,
                source=first.source,
                violations=[
                    {"code": v.code, "source": v.source, "message": str(v.message)} for v in violations
                ],
                **first.params,
            )
        ann = announcement_create(
            tender=tender,
            kind=AnnouncementKind.TENDER,
            title=tender.title,
            actor=actor,
            check_access=False,
            body_html=body_html or tender.description or f"<p>{escape(tender.title)}</p>",
            attachments=documents,
            tender_documents=True,
        )
        tender.published_at = now
        tender.original_deadline = tender.deadline
        tender.save(update_fields=["published_at", "original_deadline", "docs_from"])
        _set_state(tender, TenderState.PUBLISHED, actor=actor, payload={"deadline": tender.deadline})
        # announcement_publish works on a locked fresh copy: return that one, not the draft.
        ann = announcement_publish(announcement=ann, actor=actor, check_access=False)
        tender_published.send(sender=Tender, tender=tender, actor=actor)
        journal_anchor(streams=[tender.stream], actor=actor)
    return ann


def tender_amend(
    *,
    tender: Tender,
    actor: User,
    title: str,
    body_html: str,
    affects_preparation: bool,
    new_deadline: dt.datetime | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
    changes_object: bool = False,
    changes_qualification: bool = False,
) -> Announcement:
    """Publish an amendment/clarification; the deadline moves later when the law requires (DOMAIN A3)."""
    tender_access_manage(user=actor, tender=tender)
    now = timezone.now()
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        if tender.state != TenderState.PUBLISHED:
            raise Conflict(
                _("Amendments are issued while the tender is open for bids."), code="tender_not_open"
            )
        if now >= tender.deadline:
            raise Conflict(_("The bid deadline has passed."), code="deadline_passed")
        violations = rules.check_amendment(
            regime=tender.regime, changes_object=changes_object, changes_qualification=changes_qualification
        )
        if violations:
            v = violations[0]
            raise RuleViolation(v.message, code=v.code, source=v.source, **v.params)
        requested = new_deadline or tender.deadline
        # Bringing the deadline forward would shorten the time bidders were promised (and could
        # break the 20-day rule) whether or not the amendment itself affects preparation.
        if requested < tender.deadline:
            raise ValidationFailed(
                _("An amendment cannot bring the deadline forward."), code="deadline_earlier"
            )
        forced = rules.amendment_deadline(
            regime=tender.regime,
            issued_at=now,
            deadline=requested,
            affects_preparation=affects_preparation,
            prequalification=tender.prequalification,
        )
        deadline = max(requested, forced)
        ann = announcement_create(
            tender=tender,
            kind=AnnouncementKind.AMENDMENT,
            title=title,
            body_html=body_html,
            actor=actor,
            attachments=attachments,
            check_access=False,
            tender_documents=bool(attachments),
        )
        ann.affects_preparation = affects_preparation
        ann.new_deadline = deadline
        ann.save(update_fields=["affects_preparation", "new_deadline"])
        if deadline != tender.deadline:
            old = tender.deadline
            tender.deadline = deadline
            if tender.docs_until > deadline:
                tender.docs_until = deadline
            tender.save(update_fields=["deadline", "docs_until"])
            journal_append(
                stream=tender.stream,
                action="tender.deadline_changed",
                actor=actor,
                obj=tender,
                payload={
                    "from": old,
                    "to": deadline,
                    "forced": deadline == forced and forced > requested,
                    "announcement": ann.pk,
                },
            )
        ann = announcement_publish(announcement=ann, actor=actor, check_access=False)
        holders = list(DocumentDownload.objects.filter(tender=tender).values_list("entity_id", flat=True))
        Notification.objects.bulk_create(
            [
                Notification(
                    entity_id=e,
                    kind="tender.amended",
                    subject=str(_("Amendment to %(t)s") % {"t": tender.title}),
                    body=str(
                        _("New bid deadline: %(d)s")
                        % {"d": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")}
                    ),
                    link=f"/announcements/{ann.pk}/",
                    created_at=now,
                )
                for e in holders
            ]
        )
        journal_append(
            stream=tender.stream,
            action="tender.holders_notified",
            actor=actor,
            obj=ann,
            payload={"entities": holders},
        )
    return ann
