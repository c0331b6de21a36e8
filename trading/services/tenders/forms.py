"""The tender form: parsing and validating a draft, lots and evaluation methods included."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed
from trading import rules
from trading.codes import InvalidCode, classification_code_validate
from trading.models import (
    Category,
    DecryptionPolicy,
    EvaluationMethod,
    MarketEntity,
    ProcurementMethod,
    Regime,
)
from trading.services.announcements import html_sanitize

PRICE_FORMULAS = {"gp_base_over_price", "deviation"}
CRITERION_GROUPS = {"technical", "commercial", "price"}


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
            **_review_lists(ev, field, errors),
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
    return {"criteria": criteria, "price_formula": formula, **_review_lists(evaluation, field, errors)}


def _review_lists(evaluation: dict, field: str, errors: dict) -> dict:
    """The lot's own pass/fail criteria for the qualification and preliminary reviews and its policy
    discount, when the tender sets them (the evaluation room has defaults otherwise)."""
    out: dict = {}
    for key in ("qualification", "preliminary"):
        items = evaluation.get(key)
        if items is None:
            continue
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and str(i.get("code") or "").strip() and str(i.get("name") or "").strip()
            for i in items
        ):
            errors.setdefault(f"{field}.{key}", str(_("Each review criterion has a code and a name.")))
            continue
        out[key] = [
            {"code": str(i["code"]).strip()[:40], "name": str(i["name"]).strip()[:200]} for i in items
        ]
    discounts = evaluation.get("discounts")
    if discounts is not None:
        try:
            pct = Decimal(str((discounts or {}).get("small_enterprise_pct", "0")))
        except (InvalidOperation, AttributeError):
            pct = Decimal(-1)
        if not pct.is_finite() or not 0 <= pct <= 20:
            errors.setdefault(f"{field}.discounts", str(_("The small-enterprise discount is 0 to 20 %.")))
        else:
            out["discounts"] = {"small_enterprise_pct": str(pct)}
    return out


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
