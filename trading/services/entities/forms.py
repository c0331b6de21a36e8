"""The one application form (一表申请): validation of the whole form at once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed
from trading.codes import InvalidCode, uscc_validate
from trading.models import EntityKind, MarketEntity, PositionRole


class _Errors:
    def __init__(self):
        self.fields: dict[str, str] = {}

    def add(self, field: str, message) -> None:
        self.fields.setdefault(field, str(message))

    def raise_if_any(self) -> None:
        if self.fields:
            first = next(iter(self.fields))
            raise ValidationFailed(
                _("The registration form has errors: %(field)s: %(msg)s")
                % {"field": first, "msg": self.fields[first]},
                code="registration_invalid",
                fields=self.fields,
            )


def _text(data: dict, key: str, errors: _Errors, *, required=True, max_len=200, prefix="") -> str:
    value = data.get(key)
    value = "" if value is None else str(value).strip()
    if required and not value:
        errors.add(prefix + key, _("This field is required."))
    if len(value) > max_len:
        errors.add(prefix + key, _("Too long (at most %(n)s characters).") % {"n": max_len})
    return value[:max_len]


def _date(value: Any, field: str, errors: _Errors, *, required=False) -> dt.date | None:
    if value in (None, ""):
        if required:
            errors.add(field, _("This field is required."))
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors.add(field, _("Not a date (YYYY-MM-DD)."))
        return None


def _decimal(value: Any, field: str, errors: _Errors, *, minimum=None, maximum=None) -> Decimal | None:
    try:
        d = Decimal(str(value)).quantize(Decimal("0.001"))
    except (InvalidOperation, TypeError, ValueError):
        errors.add(field, _("Not a number."))
        return None
    if not d.is_finite():  # "NaN" quantizes quietly, then any comparison would raise
        errors.add(field, _("Not a number."))
        return None
    if (minimum is not None and d < minimum) or (maximum is not None and d > maximum):
        errors.add(field, _("Out of range."))
    return d


def _person(data: Any, field: str, errors: _Errors) -> dict | None:
    if not isinstance(data, dict):
        errors.add(field, _("A person needs a name and an ID number."))
        return None
    name = _text(data, "name", errors, max_len=100, prefix=field + ".")
    idn = _text(data, "id_number", errors, max_len=40, prefix=field + ".")
    return {
        "name": name,
        "id_number": idn,
        "id_type": str(data.get("id_type") or "resident_id")[:20],
        "phone": str(data.get("phone") or "")[:20],
        "email": str(data.get("email") or "")[:254],
    }


def entity_form_clean(data: dict, *, existing: MarketEntity | None = None) -> dict:
    """Validate the whole form at once; raise one error listing every bad field."""
    if not isinstance(data, dict):
        raise ValidationFailed(_("The registration must be a JSON object."), code="registration_invalid")
    e = _Errors()
    out: dict[str, Any] = {}
    try:
        out["uscc"] = uscc_validate(str(data.get("uscc", "")))
    except InvalidCode as exc:
        e.add("uscc", f"{exc.code}: {exc.message}")
        out["uscc"] = ""
    if existing is not None and out["uscc"] and out["uscc"] != existing.uscc:
        e.add("uscc", _("The unified social credit code of a registered entity cannot change."))
    out["name"] = _text(data, "name", e)
    out["name_en"] = _text(data, "name_en", e, required=False)
    out["kind"] = str(data.get("kind") or EntityKind.COMPANY)
    if out["kind"] not in EntityKind.values:
        e.add("kind", _("Unknown entity type."))
    for flag in ("is_bidder", "is_tenderee", "is_agency"):
        out[flag] = bool(data.get(flag, flag == "is_bidder"))
    out["legal_rep"] = _person(data.get("legal_rep"), "legal_rep", e)
    out["registered_capital"] = _decimal(
        data.get("registered_capital"), "registered_capital", e, minimum=Decimal(0), maximum=Decimal("1e15")
    )
    out["founded_on"] = _date(data.get("founded_on"), "founded_on", e)
    out["region_code"] = _text(data, "region_code", e, max_len=6)
    if out["region_code"] and not (out["region_code"].isdigit() and len(out["region_code"]) == 6):
        e.add("region_code", _("A region is a 6-digit administrative division code."))
    out["address"] = _text(data, "address", e, max_len=300)
    out["contact_name"] = _text(data, "contact_name", e, max_len=100)
    out["contact_phone"] = _text(data, "contact_phone", e, max_len=20)
    out["contact_email"] = _text(data, "contact_email", e, required=False, max_len=254)
    out["business_scope"] = _text(data, "business_scope", e, required=False, max_len=4000)

    out["qualifications"] = []
    for i, q in enumerate(data.get("qualifications") or []):
        p = f"qualifications[{i}]."
        if not isinstance(q, dict):
            e.add(p[:-1], _("Not an object."))
            continue
        item = {k: _text(q, k, e, prefix=p, max_len=200) for k in ("kind", "name", "number", "issuer")}
        item["level"] = _text(q, "level", e, required=False, prefix=p, max_len=40)
        item["valid_from"] = _date(q.get("valid_from"), p + "valid_from", e, required=True)
        item["valid_until"] = _date(q.get("valid_until"), p + "valid_until", e)
        if item["valid_from"] and item["valid_until"] and item["valid_until"] < item["valid_from"]:
            e.add(p + "valid_until", _("Ends before it starts."))
        out["qualifications"].append(item)

    out["shareholders"] = []
    total = Decimal(0)
    for i, s in enumerate(data.get("shareholders") or []):
        p = f"shareholders[{i}]"
        if not isinstance(s, dict):
            e.add(p, _("Not an object."))
            continue
        share = _decimal(
            s.get("share_pct"), p + ".share_pct", e, minimum=Decimal("0.001"), maximum=Decimal(100)
        )
        total += share or 0
        item = {"share_pct": share, "is_controlling": bool(s.get("is_controlling"))}
        if s.get("entity_uscc"):
            holder = MarketEntity.objects.filter(uscc=str(s["entity_uscc"]).upper()).first()
            if holder is None:
                e.add(p + ".entity_uscc", _("No registered entity has this code."))
            item["entity_uscc"] = str(s["entity_uscc"]).upper()
        else:
            item["person"] = _person(s.get("person"), p + ".person", e)
        out["shareholders"].append(item)
    if total > 100:
        e.add("shareholders", _("Shares add up to more than 100%."))

    out["positions"] = []
    for i, pos in enumerate(data.get("positions") or []):
        p = f"positions[{i}]"
        if not isinstance(pos, dict):
            e.add(p, _("Not an object."))
            continue
        role = str(pos.get("role") or "")
        if role not in PositionRole.values:
            e.add(p + ".role", _("Unknown role."))
        item = {
            "role": role,
            "person": _person(pos.get("person"), p + ".person", e),
            "title": str(pos.get("title") or "")[:100],
            "professional_reg_no": str(pos.get("professional_reg_no") or "")[:60],
            "professional_kind": str(pos.get("professional_kind") or "")[:80],
            "start_date": _date(pos.get("start_date"), p + ".start_date", e),
            "end_date": _date(pos.get("end_date"), p + ".end_date", e),
        }
        if role == PositionRole.PROJECT_MANAGER and not item["professional_reg_no"]:
            e.add(p + ".professional_reg_no", _("A project manager needs a registered-professional number."))
        out["positions"].append(item)

    out["bank_accounts"] = []
    basic = 0
    for i, b in enumerate(data.get("bank_accounts") or []):
        p = f"bank_accounts[{i}]."
        if not isinstance(b, dict):
            e.add(p[:-1], _("Not an object."))
            continue
        item = {
            "bank_name": _text(b, "bank_name", e, prefix=p, max_len=120),
            "account_name": _text(b, "account_name", e, prefix=p),
            "account_number": _text(b, "account_number", e, prefix=p, max_len=40).replace(" ", ""),
            "is_basic": bool(b.get("is_basic")),
        }
        basic += item["is_basic"]
        if item["account_number"] and not item["account_number"].isdigit():
            e.add(p + "account_number", _("An account number has digits only."))
        out["bank_accounts"].append(item)
    if basic > 1:
        e.add("bank_accounts", _("Only one account can be the basic account (基本账户)."))
    e.raise_if_any()
    return out


def digest_ready(value: Any) -> Any:
    """Dates and decimals as strings so the snapshot is plain JSON."""
    if isinstance(value, dict):
        return {k: digest_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [digest_ready(v) for v in value]
    if isinstance(value, dt.date | Decimal):
        return str(value)
    return value
