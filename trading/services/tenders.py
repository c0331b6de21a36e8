"""Tenders: drafting, publication under the legal rules, amendments with forced extension,
state transitions (suspend, resume, fail, terminate) and registered document downloads.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_anchor, journal_append
from core.errors import Conflict, RuleViolation, ValidationFailed
from trading import rules
from trading.access import require_role, tender_access_manage
from trading.codes import InvalidCode, classification_code_validate, transaction_code_make
from trading.models import (
    Announcement,
    AnnouncementKind,
    Category,
    CodeSequence,
    DecryptionPolicy,
    DocumentDownload,
    EvaluationMethod,
    Lot,
    MarketEntity,
    Notification,
    ProcurementMethod,
    Regime,
    Role,
    Tender,
    TenderState,
    User,
)
from trading.selectors import check_entity_may_participate
from trading.services.announcements import announcement_create, announcement_publish, html_sanitize
from trading.signals import tender_published

PRICE_FORMULAS = {"gp_base_over_price", "deviation"}
CRITERION_GROUPS = {"technical", "commercial", "price"}


# --- validation of the form ---------------------------------------------------------------------


def _dt(value: Any, field: str, errors: dict) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        try:
            parsed = parse_datetime(str(value or ""))
        except ValueError:  # well-formed but not a real date, e.g. 30 February
            parsed = None
    if parsed is None:
        errors.setdefault(field, str(_("Not a date and time (ISO 8601).")))
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)  # the platform's zone: Asia/Shanghai
    return parsed


def _money(value: Any, field: str, errors: dict, *, required=True) -> Decimal | None:
    if value in (None, ""):
        if required:
            errors.setdefault(field, str(_("This field is required.")))
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.setdefault(field, str(_("Not an amount.")))
        return None
    if not d.is_finite():  # NaN would make every comparison below raise
        errors.setdefault(field, str(_("Not an amount.")))
        return None
    if d < 0 or d != d.quantize(Decimal("0.01")) or d >= Decimal("1e14"):
        errors.setdefault(field, str(_("An amount in yuan with at most two decimals.")))
        return None
    return d


def evaluation_clean(*, regime: str, method: str, evaluation: Any, field: str, errors: dict) -> dict:
    """Structure of the evaluation method; the law's part (price weight) is in rules."""
    if method == EvaluationMethod.LOWEST_PRICE:
        ev = evaluation if isinstance(evaluation, dict) else {}
        return {
            "criteria": [c for c in ev.get("criteria", []) if isinstance(c, dict)],
            "price_formula": {"kind": "lowest"},
        }
    if (
        not isinstance(evaluation, dict)
        or not isinstance(evaluation.get("criteria"), list)
        or not evaluation["criteria"]
    ):
        errors.setdefault(field, str(_("Scoring needs a list of criteria.")))
        return {}
    total = Decimal(0)
    codes = set()
    price = 0
    criteria = []
    for i, c in enumerate(evaluation["criteria"]):
        if not isinstance(c, dict) or not c.get("code") or not c.get("name"):
            errors.setdefault(f"{field}.criteria[{i}]", str(_("A criterion has a code and a name.")))
            continue
        if c.get("group") not in CRITERION_GROUPS:
            errors.setdefault(
                f"{field}.criteria[{i}].group", str(_("Group is technical, commercial or price."))
            )
        try:
            mx = Decimal(str(c.get("max")))
        except (InvalidOperation, ValueError):
            mx = Decimal(-1)
        if not mx.is_finite():
            mx = Decimal(-1)
        if mx <= 0:
            errors.setdefault(f"{field}.criteria[{i}].max", str(_("The maximum score must be positive.")))
        if c["code"] in codes:
            errors.setdefault(f"{field}.criteria[{i}].code", str(_("Duplicate criterion code.")))
        codes.add(c["code"])
        price += c.get("group") == "price"
        total += max(mx, Decimal(0))
        criteria.append(
            {
                "code": str(c["code"])[:40],
                "name": str(c["name"])[:200],
                "group": c.get("group"),
                "max": str(mx),
            }
        )
    if price != 1:
        errors.setdefault(f"{field}.criteria", str(_("Exactly one price criterion is needed.")))
    if total != 100:
        errors.setdefault(
            f"{field}.criteria", str(_("Maximum scores must add up to 100 (now %(t)s).") % {"t": total})
        )
    formula = evaluation.get("price_formula") or {"kind": "gp_base_over_price"}
    if not isinstance(formula, dict) or formula.get("kind") not in PRICE_FORMULAS:
        errors.setdefault(f"{field}.price_formula", str(_("Unknown price formula.")))
        formula = {}
    elif regime == Regime.GP and formula["kind"] != "gp_base_over_price":
        errors.setdefault(
            f"{field}.price_formula",
            str(_("Government procurement scores price as base price / bid price × 100 (87号令55).")),
        )
    return {"criteria": criteria, "price_formula": formula}


def _entity(value: Any) -> MarketEntity | None:
    """The entity with this primary key, or None for anything that is not one (never a 500)."""
    try:
        pk = int(str(value))
    except (TypeError, ValueError):
        return None
    return MarketEntity.objects.filter(pk=pk).first()


def _whole(value: Any, default: int, lo: int, hi: int) -> int | None:
    """A whole number in [lo, hi] (the default when absent), else None."""
    if value in (None, ""):
        return default
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if lo <= n <= hi else None


def tender_form_clean(data: dict) -> dict:
    if not isinstance(data, dict):
        raise ValidationFailed(_("The tender must be a JSON object."), code="tender_invalid")
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    title = str(data.get("title") or "").strip()
    if not title or len(title) > 300:
        errors["title"] = str(_("A title of 1–300 characters is required."))
    out["title"] = title[:300]
    for key, choices in (
        ("regime", Regime),
        ("category", Category),
        ("method", ProcurementMethod),
        ("decryption_policy", DecryptionPolicy),
    ):
        value = data.get(key) or {"method": "open", "decryption_policy": "bidder"}.get(key)
        if value not in choices.values:
            errors[key] = str(_("Unknown value."))
        out[key] = value
    tenderee = _entity(data.get("tenderee_id")) if data.get("tenderee_id") else None
    if tenderee is None or not tenderee.is_tenderee:
        errors["tenderee_id"] = str(_("Choose a registered tenderee / purchaser."))
    out["tenderee"] = tenderee
    agency = _entity(data.get("agency_id")) if data.get("agency_id") else None
    if data.get("agency_id") and (agency is None or not agency.is_agency):
        errors["agency_id"] = str(_("Choose a registered agency."))
    out["agency"] = agency
    region = str(data.get("region_code") or (tenderee.region_code if tenderee else ""))
    if not (region.isdigit() and len(region) == 6):
        errors["region_code"] = str(_("A region is a 6-digit administrative division code."))
    out["region_code"] = region
    out["description"] = html_sanitize(data["description"]) if data.get("description") else ""
    out["funding_source"] = str(data.get("funding_source") or "")[:120]
    for flag, default in (("state_funded", True), ("prequalification", False), ("large_or_complex", False)):
        out[flag] = bool(data.get(flag, default))
    for key in ("docs_from", "docs_until", "deadline"):
        out[key] = _dt(data.get(key), key, errors)
    # The database refuses a reversed document period (a check constraint); say so here,
    # with a code, instead of failing on insert.
    if out["docs_from"] and out["docs_until"] and out["docs_until"] < out["docs_from"]:
        errors.setdefault("docs_until", str(_("The document period ends before it begins.")))
    out["decryption_minutes"] = _whole(data.get("decryption_minutes"), 30, 5, 24 * 60)
    if out["decryption_minutes"] is None:
        errors["decryption_minutes"] = str(_("Between 5 and 1440 minutes."))
    out["confirmation_minutes"] = _whole(data.get("confirmation_minutes"), 30, 5, 24 * 60)
    if out["confirmation_minutes"] is None:
        errors["confirmation_minutes"] = str(_("Between 5 and 1440 minutes."))
    out["bid_validity_days"] = _whole(data.get("bid_validity_days"), 90, 1, 32767)
    if out["bid_validity_days"] is None:
        errors["bid_validity_days"] = str(_("A whole number of days, at least 1."))
    k, n = data.get("custodian_k"), data.get("custodian_n")
    if out["decryption_policy"] == DecryptionPolicy.BIDDER_CUSTODIAN:
        try:
            k, n = int(k), int(n)
            if not 2 <= k <= n <= 7:
                raise ValueError
        except (TypeError, ValueError):
            errors["custodian_k"] = str(_("k-of-n custodians with 2 ≤ k ≤ n ≤ 7."))
            k = n = None
    else:
        k = n = None
    out["custodian_k"], out["custodian_n"] = k, n

    lots = data.get("lots")
    if not isinstance(lots, list) or not lots:
        errors["lots"] = str(_("A tender has at least one lot."))
        lots = []
    out["lots"] = []
    for i, lot in enumerate(lots):
        f = f"lots[{i}]"
        if not isinstance(lot, dict):
            errors[f] = str(_("Not an object."))
            continue
        item: dict[str, Any] = {"number": i + 1, "title": str(lot.get("title") or "").strip()[:300]}
        if not item["title"]:
            errors[f + ".title"] = str(_("This field is required."))
        try:
            item["classification_code"] = classification_code_validate(
                str(lot.get("classification_code") or ""), category=out.get("category")
            )
        except InvalidCode as exc:
            errors[f + ".classification_code"] = f"{exc.code}: {exc.message}"
        item["budget"] = _money(lot.get("budget"), f + ".budget", errors)
        if item["budget"] is not None and item["budget"] <= 0:
            errors[f + ".budget"] = str(_("The budget must be positive."))
        item["ceiling_price"] = _money(lot.get("ceiling_price"), f + ".ceiling_price", errors, required=False)
        if (
            item["ceiling_price"]
            and item["budget"]
            and out.get("regime") == Regime.GP
            and item["ceiling_price"] > item["budget"]
        ):
            errors[f + ".ceiling_price"] = str(
                _("In government procurement the ceiling price may not exceed the budget.")
            )
        item["bid_security"] = _money(lot.get("bid_security") or "0", f + ".bid_security", errors) or Decimal(
            0
        )
        item["duration_days"] = _whole(lot.get("duration_days"), None, 1, 100_000)
        if item["duration_days"] is None and lot.get("duration_days") not in (None, ""):
            errors[f + ".duration_days"] = str(_("A whole number of days, at least 1."))
        method = lot.get("evaluation_method") or EvaluationMethod.SCORING
        if method not in EvaluationMethod.values:
            errors[f + ".evaluation_method"] = str(_("Unknown value."))
        item["evaluation_method"] = method
        item["evaluation"] = evaluation_clean(
            regime=out.get("regime"),
            method=method,
            evaluation=lot.get("evaluation"),
            field=f + ".evaluation",
            errors=errors,
        )
        committee = lot.get("committee") or {"size": 5, "experts": 4, "tenderee_reps": 1}
        try:
            item["committee"] = {
                "size": int(committee["size"]),
                "experts": int(committee["experts"]),
                "tenderee_reps": int(committee.get("tenderee_reps", 0)),
                "specialties": committee.get("specialties", []),
            }
            if (
                min(
                    item["committee"]["size"],
                    item["committee"]["experts"],
                    item["committee"]["tenderee_reps"],
                )
                < 0
            ):
                raise ValueError
            if not isinstance(item["committee"]["specialties"], list):
                raise TypeError
        except (KeyError, TypeError, ValueError, AttributeError):
            errors[f + ".committee"] = str(_("Committee size and number of experts are required."))
            item["committee"] = {}
        items = lot.get("read_out_items") or ["price", "duration", "quality", "project_manager"]
        item["read_out_items"] = [str(x)[:60] for x in items][:20] if isinstance(items, list) else []
        min_bidders = _whole(lot.get("min_bidders"), rules.MIN_BIDDERS, 0, 1000)
        if min_bidders is None:
            errors[f + ".min_bidders"] = str(_("A whole number of bidders."))
        # The law's minimum cannot be lowered by the form, only raised.
        item["min_bidders"] = max(min_bidders or 0, rules.MIN_BIDDERS)
        out["lots"].append(item)
    if errors:
        first = next(iter(errors))
        raise ValidationFailed(
            _("The tender form has errors: %(field)s: %(msg)s") % {"field": first, "msg": errors[first]},
            code="tender_invalid",
            fields=errors,
        )
    return out


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


# --- services ---------------------------------------------------------------------------------------


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


def _set_state(
    tender: Tender, target: str, *, actor: User, reason: str = "", payload: dict | None = None
) -> None:
    """Apply a transition allowed by rules.TENDER_TRANSITIONS. Call while holding the tender lock."""
    violation = rules.check_transition(
        tender.state, target, suspended_from=tender.state_before_suspension or None
    )
    if violation:
        raise Conflict(violation.message, code=violation.code, current=tender.state, target=target)
    previous = tender.state
    if target == TenderState.SUSPENDED:
        tender.state_before_suspension = previous
    elif previous == TenderState.SUSPENDED:
        tender.state_before_suspension = ""
    tender.state = target
    tender.state_changed_at = timezone.now()
    tender.save(update_fields=["state", "state_before_suspension", "state_changed_at"])
    journal_append(
        stream=tender.stream,
        action="tender.state_changed",
        actor=actor,
        obj=tender,
        payload={"from": previous, "to": target, "reason": reason, **(payload or {})},
    )


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


def tender_suspend(*, tender: Tender, actor: User, reason: str) -> Tender:
    """Suspension (objection pending, complaint, regulator's order): nothing moves on until resumed."""
    require_role(actor, Role.CENTRE, Role.REGULATOR, Role.ADMIN, Role.AGENCY)
    if actor.role == Role.AGENCY:
        tender_access_manage(user=actor, tender=tender)
    if not reason.strip():
        raise ValidationFailed(_("Give the reason."), code="reason_required")
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        _set_state(tender, TenderState.SUSPENDED, actor=actor, reason=reason)
        journal_anchor(streams=[tender.stream], actor=actor)
    return tender


def tender_resume(*, tender: Tender, actor: User, reason: str) -> Tender:
    require_role(actor, Role.CENTRE, Role.REGULATOR, Role.ADMIN, Role.AGENCY)
    if actor.role == Role.AGENCY:
        tender_access_manage(user=actor, tender=tender)
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        if tender.state != TenderState.SUSPENDED:
            raise Conflict(_("The tender is not suspended."), code="tender_not_suspended")
        _set_state(tender, tender.state_before_suspension, actor=actor, reason=reason)
    return tender


def tender_close(
    *, tender: Tender, actor: User, target: str, reason: str, body_html: str | None = None
) -> Tender:
    """Fail (流标) or terminate a tender, with the termination/failure announcement."""
    tender_access_manage(user=actor, tender=tender)
    if target not in {TenderState.FAILED, TenderState.TERMINATED}:
        raise ValidationFailed(_("Close as failed or terminated."), code="invalid_target")
    if not reason.strip():
        raise ValidationFailed(_("Give the reason."), code="reason_required")
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        _set_state(tender, target, actor=actor, reason=reason)
        if tender.published_at:
            ann = announcement_create(
                tender=tender,
                kind=AnnouncementKind.TERMINATION,
                check_access=False,
                title=str(_("%(t)s: failure / termination notice") % {"t": tender.title}),
                body_html=body_html or f"<p>{escape(reason)}</p>",
                actor=actor,
            )
            announcement_publish(announcement=ann, actor=actor, check_access=False)
        journal_anchor(streams=[tender.stream], actor=actor)
    return tender


def tender_set_state(*, tender: Tender, actor: User, target: str, reason: str = "") -> Tender:
    """Generic transition for the later stages (opening, evaluation, publicity, awarded, archived)."""
    tender_access_manage(user=actor, tender=tender)
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        _set_state(tender, target, actor=actor, reason=reason)
    return tender


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


def tender_open_at_deadline(*, tender: Tender) -> Tender:
    """The system opens a published tender when its deadline passes (法34: the opening is at the
    deadline). Idempotent and safe when several processes notice the deadline at once: under the
    tender's row lock, a tender that is no longer `published` is left as it is."""
    now = timezone.now()
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        if tender.state != TenderState.PUBLISHED or now < tender.deadline:
            return tender
        violation = rules.check_transition(tender.state, TenderState.OPENING)
        if violation:
            raise Conflict(violation.message, code=violation.code, current=tender.state)
        tender.state = TenderState.OPENING
        tender.state_changed_at = now
        tender.save(update_fields=["state", "state_changed_at"])
        journal_append(
            stream=tender.stream,
            action="tender.state_changed",
            actor="system",
            obj=tender,
            payload={"from": TenderState.PUBLISHED, "to": TenderState.OPENING, "reason": "deadline"},
        )
    return tender
