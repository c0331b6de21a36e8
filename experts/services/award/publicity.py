"""The TB candidate publicity (中标候选人公示, A7) and the objections to it (条例54): publish, suspend on
an objection, resume (the end moved out by the time suspended) or send the lot back to the committee."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_anchor, journal_append
from archive.models import JournalEntry
from bidding.models import Bid
from core.errors import AccessDenied, Conflict, RuleViolation, ValidationFailed
from experts import rules as xrules
from experts.models import Publicity, PublicityObjection
from experts.services.award.common import (
    SRC_PUBLICITY,
    _announcement_html,
    _check_lot_active,
    _check_tender_live,
    _lock,
    _managers,
    _notify,
    _public_url,
    _publish_language,
    _text,
    candidate_rows,
    final_report,
    publicity_voided,
)
from trading import rules as trules
from trading.access import require_login, tender_access_manage
from trading.models import (
    Announcement,
    AnnouncementKind,
    DocumentDownload,
    Lot,
    MarketEntity,
    Regime,
    Role,
    Tender,
    TenderState,
    User,
)
from trading.services.announcements import announcement_create, announcement_publish, announcement_withdraw
from trading.services.tenders import tender_resume, tender_set_state, tender_suspend_on_objection

REEVALUATION_REASON_MAX = 1000


def _suspended_for(objections, *, since: dt.datetime) -> dt.timedelta:
    """Total time covered by the objections' [raised, answered) intervals (overlaps counted once)."""
    spans = sorted((o.raised_at, o.answered_at) for o in objections if o.answered_at and o.raised_at >= since)
    total = dt.timedelta()
    start = end = None
    for s, e in spans:
        if end is None or s > end:
            if end is not None:
                total += end - start
            start, end = s, e
        else:
            end = max(end, e)
    if end is not None:
        total += end - start
    return total


def publicity_start(*, lot: Lot, actor: User) -> Publicity:
    """Publish the lot's candidates (TB 中标候选人公示) for at least 3 days; the tender enters publicity."""
    tender_access_manage(user=actor, tender=lot.tender)
    now = timezone.now()
    with transaction.atomic():
        tender, lot = _lock(lot)
        if tender.regime != Regime.TB:
            raise RuleViolation(
                _(
                    "Government procurement has no candidate publicity: decide the award and announce the result."
                ),
                code="gp_no_publicity",
                source="87号令第六十九条",
            )
        _check_lot_active(lot)
        _check_tender_live(tender)
        report = final_report(lot)
        existing = Publicity.objects.select_for_update().filter(lot=lot).first()
        if existing is not None:
            if not publicity_voided(existing):
                raise Conflict(
                    _("The candidates of this lot are already published."), code="publicity_exists"
                )
            if report.finalized_at <= existing.ends_at:
                raise Conflict(
                    _(
                        "The publicity was voided for a re-evaluation: publish again once the committee has signed its new report."
                    ),
                    code="report_not_reevaluated",
                )
        candidates = candidate_rows(lot=lot, report=report)
        if not candidates:
            raise Conflict(_("The report recommends no candidate."), code="no_candidates")
        ends_at = xrules.publicity_ends(starts_at=now)
        violations = trules.check_candidate_publicity(
            report_received_at=report.finalized_at, start=now, end=ends_at
        )
        late = next((v for v in violations if v.code == "publicity_too_late"), None)
        trules.raise_first([v for v in violations if v.code != "publicity_too_late"])
        objection_path = reverse("experts:award-objection", args=[lot.pk])
        with _publish_language():
            title = str(
                _("%(tender)s, lot %(number)s: publicity of the candidates")
                % {"tender": tender.title, "number": lot.number}
            )
        body = _announcement_html(
            "experts/award/candidates_announcement.html",
            {
                "tender": tender,
                "lot": lot,
                "candidates": candidates,
                "starts_at": now,
                "ends_at": ends_at,
                "report_at": report.finalized_at,
                "objection_url": _public_url(objection_path),
                "reply_days": xrules.setting("objection_reply_days"),
                "source": SRC_PUBLICITY,
            },
        )
        ann = announcement_create(
            tender=tender,
            lot=lot,
            kind=AnnouncementKind.CANDIDATES,
            title=title[:300],
            body_html=body,
            actor=actor,
            open_until=ends_at,
            check_access=False,
        )
        ann = announcement_publish(announcement=ann, actor=actor, check_access=False)
        fields = {
            "report": report,
            "announcement": ann,
            "candidates": candidates,
            "state": Publicity.State.OPEN,
            "late": late is not None,
            "starts_at": now,
            "ends_at": ends_at,
            "created_at": now,
        }
        if existing is None:
            publicity = Publicity.objects.create(lot=lot, **fields)
        else:
            publicity = existing
            for name, value in fields.items():
                setattr(publicity, name, value)
            publicity.save()
        journal_append(
            stream=tender.stream,
            action="experts.publicity_started",
            actor=actor,
            obj=publicity,
            payload={
                "lot": lot.pk,
                "report": report.pk,
                "report_sha256": report.data_sha256,
                "announcement": ann.pk,
                "starts_at": now,
                "ends_at": ends_at,
                "candidates": [
                    {"rank": c["rank"], "bid": c["bid"], "entity": c["entity"], "price": c["price"]}
                    for c in candidates
                ],
                "late": late is not None,
                "latest_start": late.params.get("latest") if late else None,
                "again": existing is not None,
                "report_revision": report.revision,
            },
        )
        if tender.state == TenderState.EVALUATION:
            tender_set_state(
                tender=tender,
                actor=actor,
                target=TenderState.PUBLICITY,
                reason=str(_("Candidates of lot %(n)s published") % {"n": lot.number}),
            )
    return publicity


# --- objections (条例54) --------------------------------------------------------------------------------


def objector_entity(*, user: User, lot: Lot) -> MarketEntity:
    """The entity an objection speaks for: a bidder of the lot, or a holder of the tender documents
    (条例54: 投标人或者其他利害关系人). Anyone else is refused."""
    require_login(user)
    if user.role != Role.BIDDER or user.entity_id is None:
        raise AccessDenied(
            _("Objections are raised by the bidders and the holders of the tender documents."),
            code="objection_not_interested_party",
        )
    bidder = Bid.objects.filter(lot=lot, entity_id=user.entity_id, status=Bid.Status.ACTIVE).exists()
    holder = DocumentDownload.objects.filter(tender_id=lot.tender_id, entity_id=user.entity_id).exists()
    if not (bidder or holder):
        raise AccessDenied(
            _("Objections are raised by the bidders and the holders of the tender documents."),
            code="objection_not_interested_party",
        )
    return user.entity


def objection_window_open(publicity: Publicity, now: dt.datetime) -> bool:
    """Inside the publicity period; a suspended publicity's period is paused, not over."""
    if publicity.state == Publicity.State.SUSPENDED:
        return True
    return publicity.state == Publicity.State.OPEN and publicity.starts_at <= now < publicity.ends_at


def objection_raise(*, publicity: Publicity, actor: User, text: str) -> PublicityObjection:
    """An objection to the candidates: suspends the publicity and the tender until it is answered."""
    lot = Lot.objects.select_related("tender").get(pk=publicity.lot_id)
    entity = objector_entity(user=actor, lot=lot)
    text = _text(text, code="objection_text_required")
    now = timezone.now()
    with transaction.atomic():
        tender, lot = _lock(lot)
        publicity = Publicity.objects.select_for_update().get(pk=publicity.pk)
        if not objection_window_open(publicity, now):
            raise RuleViolation(
                _("Objections to the candidates are raised during the publicity period only."),
                code="objection_window_closed",
                source=SRC_PUBLICITY,
                ends_at=publicity.ends_at,
            )
        objection = PublicityObjection.objects.create(
            publicity=publicity,
            raised_by=actor,
            entity=entity,
            text=text,
            raised_at=now,
            reply_due_at=xrules.objection_reply_due(raised_at=now),
        )
        publicity_suspended = publicity.state == Publicity.State.OPEN
        if publicity_suspended:
            publicity.state = Publicity.State.SUSPENDED
            publicity.save(update_fields=["state"])
        tender_suspended = tender.state != TenderState.SUSPENDED
        if tender_suspended:
            # The law suspends on receipt (条例54), with the objector as the actor.
            tender_suspend_on_objection(
                tender=tender,
                actor=actor,
                reason=str(_("Objection to the candidates of lot %(n)s") % {"n": lot.number}),
                payload={"objection": objection.pk},
            )
        journal_append(
            stream=tender.stream,
            action="experts.objection_raised",
            actor=actor,
            obj=objection,
            payload={
                "publicity": publicity.pk,
                "lot": lot.pk,
                "entity": entity.pk,
                "text": text,
                "reply_due_at": objection.reply_due_at,
                "publicity_suspended": publicity_suspended,
                "tender_suspended": tender_suspended,
            },
        )
        _notify(
            entity_ids=_managers(tender),
            kind="experts.objection",
            subject=_("Objection to the candidates: %(t)s") % {"t": tender.title},
            body=_("Answer in writing by %(d)s; the tender is suspended until then.")
            % {"d": timezone.localtime(objection.reply_due_at).strftime("%Y-%m-%d %H:%M")},
            link=reverse("experts:award-lot", args=[lot.pk]),
            now=now,
        )
        if tender_suspended:
            journal_anchor(streams=[tender.stream], actor=actor)
    return objection


def _suspension_is_ours(tender: Tender) -> bool:
    """Whether the tender's current suspension was made by an objection to the candidates."""
    last = (
        JournalEntry.objects.filter(stream=tender.stream, action="tender.state_changed")
        .order_by("-seq")
        .first()
    )
    if last is None or last.payload.get("to") != TenderState.SUSPENDED:
        return False
    return JournalEntry.objects.filter(
        stream=tender.stream,
        action="experts.objection_raised",
        seq__gt=last.seq,
        payload__tender_suspended=True,
    ).exists()


def _lots_back_to_committee(tender: Tender) -> bool:
    """An active lot whose publicity ended without an award: voided, re-evaluation pending."""
    return Publicity.objects.filter(
        lot__tender=tender, lot__status=Lot.Status.ACTIVE, state=Publicity.State.ENDED
    ).exists()


def _objections_open(tender: Tender) -> bool:
    return PublicityObjection.objects.filter(publicity__lot__tender=tender, answered_at__isnull=True).exists()


def objection_answer(
    *, objection: PublicityObjection, actor: User, answer: str, upheld: bool, reevaluate: bool = False
) -> PublicityObjection:
    """The written answer. With no objection left open the publicity (end moved out by the time it was
    suspended) and the tender resume. `reevaluate` (upheld objections only) means the answer changes
    the result: the publicity is voided and the tender goes back to evaluation (条例54, 71)."""
    publicity = Publicity.objects.select_related("lot__tender").get(pk=objection.publicity_id)
    tender_access_manage(user=actor, tender=publicity.lot.tender)
    answer = _text(answer, code="answer_required")
    if reevaluate and not upheld:
        raise ValidationFailed(
            _("Only an upheld objection can send the lot back to the committee."),
            code="reevaluate_requires_upheld",
        )
    now = timezone.now()
    with transaction.atomic():
        tender, lot = _lock(publicity.lot)
        publicity = Publicity.objects.select_for_update().get(pk=publicity.pk)
        objection = PublicityObjection.objects.select_for_update().get(pk=objection.pk)
        if objection.answered_at is not None:
            raise Conflict(_("This objection has already been answered."), code="objection_already_answered")
        others_open = publicity.objections.filter(answered_at__isnull=True).exclude(pk=objection.pk).exists()
        if reevaluate and others_open:
            raise Conflict(
                _("Answer the other open objections of this lot before sending it back to the committee."),
                code="objections_still_open",
            )
        objection.answer = answer
        objection.upheld = upheld
        objection.answered_by = actor
        objection.answered_at = now
        objection.save(update_fields=["answer", "upheld", "answered_by", "answered_at"])
        journal_append(
            stream=tender.stream,
            action="experts.objection_answered",
            actor=actor,
            obj=objection,
            payload={
                "publicity": publicity.pk,
                "lot": lot.pk,
                "answer": answer,
                "upheld": upheld,
                "reevaluate": reevaluate,
                "late": now > objection.reply_due_at,
                "reply_due_at": objection.reply_due_at,
            },
        )
        _notify(
            entity_ids=[objection.entity_id],
            kind="experts.objection_answered",
            subject=_("Your objection was answered: %(t)s") % {"t": tender.title},
            body=answer[:500],
            link=reverse("experts:award-objection", args=[lot.pk]),
            now=now,
        )
        if not others_open:
            if reevaluate:
                _publicity_void(publicity=publicity, objection=objection, actor=actor, now=now)
            else:
                _publicity_resume(publicity=publicity, actor=actor)
        if (
            not _objections_open(tender)
            and tender.state == TenderState.SUSPENDED
            and _suspension_is_ours(tender)
        ):
            tender = tender_resume(
                tender=tender, actor=actor, reason=str(_("Every objection to the candidates is answered"))
            )
        if tender.state == TenderState.PUBLICITY and _lots_back_to_committee(tender):
            tender = tender_set_state(
                tender=tender,
                actor=actor,
                target=TenderState.EVALUATION,
                reason=str(_("Upheld objection: lot %(n)s goes back to the committee") % {"n": lot.number}),
            )
        if reevaluate:
            _room_reopen(publicity=publicity, objection=objection, actor=actor)
        journal_anchor(streams=[tender.stream], actor=actor)
    return objection


def _publicity_resume(*, publicity: Publicity, actor: User) -> None:
    base = xrules.publicity_ends(starts_at=publicity.starts_at)
    suspended = _suspended_for(publicity.objections.all(), since=publicity.starts_at)
    publicity.state = Publicity.State.OPEN
    publicity.ends_at = base + suspended
    publicity.save(update_fields=["state", "ends_at"])
    if publicity.announcement_id:
        Announcement.objects.filter(pk=publicity.announcement_id).update(open_until=publicity.ends_at)
    journal_append(
        stream=f"tender:{publicity.lot.tender_id}",
        action="experts.publicity_resumed",
        actor=actor,
        obj=publicity,
        payload={"ends_at": publicity.ends_at, "suspended_seconds": int(suspended.total_seconds())},
    )


def _room_reopen(*, publicity: Publicity, objection: PublicityObjection, actor: User) -> None:
    """The committee re-evaluates (条例54, 71): the room archives its signed report as a revision and
    reopens at detailed scoring; its new report, once signed by all, is published again."""
    from experts.services.evaluation import room_reevaluate  # the room part's service

    with _publish_language():  # kept with the superseded report: the platform's language
        reason = str(
            _("Objection to the candidates of lot %(n)s upheld: %(answer)s")
            % {"n": publicity.lot.number, "answer": objection.answer}
        )
    if len(reason) > REEVALUATION_REASON_MAX:  # the room keeps a reason of at most 1000 characters
        reason = reason[: REEVALUATION_REASON_MAX - 1] + "…"
    room_reevaluate(room=publicity.report.room, actor=actor, reason=reason)


def _publicity_void(*, publicity: Publicity, objection: PublicityObjection, actor: User, now) -> None:
    publicity.state = Publicity.State.ENDED
    publicity.ends_at = now
    publicity.save(update_fields=["state", "ends_at"])
    if publicity.announcement_id:
        announcement_withdraw(
            announcement=publicity.announcement,
            actor=actor,
            reason=str(_("An upheld objection changes the result; the committee re-evaluates.")),
        )
    journal_append(
        stream=f"tender:{publicity.lot.tender_id}",
        action="experts.publicity_voided",
        actor=actor,
        obj=publicity,
        payload={"objection": objection.pk, "lot": publicity.lot_id},
    )
