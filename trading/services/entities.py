"""The market-entity registry: one application form (一表申请), verification by the centre,
changes proposed by the entity and approved by the centre, each approved state kept as a version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from core.canonical import digest
from core.errors import Conflict, ValidationFailed
from trading.access import entity_access_edit, require_role
from trading.codes import InvalidCode, uscc_validate
from trading.models import (
    BankAccount,
    EntityKind,
    EntityStatus,
    EntityVersion,
    MarketEntity,
    Person,
    Position,
    PositionRole,
    Qualification,
    Role,
    Shareholder,
    User,
)


def entity_stream(entity: MarketEntity) -> str:
    return f"entity:{entity.pk}"


# --- people -------------------------------------------------------------------------------


def person_id_digest(id_type: str, id_number: str) -> str:
    return hashlib.sha256(f"person:{id_type}:{id_number.strip().upper()}".encode()).hexdigest()


def person_upsert(
    *, name: str, id_number: str, id_type: str = "resident_id", phone: str = "", email: str = ""
) -> Person:
    """One row per identity document, so one person acting for two entities is one node."""
    d = person_id_digest(id_type, id_number)
    person, created = Person.objects.get_or_create(
        id_digest=d,
        defaults={
            "name": name,
            "id_type": id_type,
            "id_number": id_number.strip().upper(),
            "phone": phone,
            "email": email,
        },
    )
    if not created and ((phone and person.phone != phone) or (email and person.email != email)):
        person.phone = phone or person.phone
        person.email = email or person.email
        person.save(update_fields=["phone", "email"])
    return person


# --- the application form ---------------------------------------------------------------------


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


def _apply(entity: MarketEntity, clean: dict) -> None:
    """Write the cleaned form onto the entity and replace its child rows."""
    rep = clean["legal_rep"]
    entity.legal_rep = person_upsert(**rep)
    for f in (
        "name",
        "name_en",
        "kind",
        "is_bidder",
        "is_tenderee",
        "is_agency",
        "registered_capital",
        "founded_on",
        "region_code",
        "address",
        "contact_name",
        "contact_phone",
        "contact_email",
        "business_scope",
    ):
        setattr(entity, f, clean[f])
    entity.save()
    entity.qualifications.all().delete()
    entity.shareholders.all().delete()
    entity.positions.all().delete()
    entity.bank_accounts.all().delete()
    Qualification.objects.bulk_create([Qualification(entity=entity, **q) for q in clean["qualifications"]])
    for s in clean["shareholders"]:
        holder = MarketEntity.objects.get(uscc=s["entity_uscc"]) if s.get("entity_uscc") else None
        person = person_upsert(**s["person"]) if s.get("person") else None
        Shareholder.objects.create(
            entity=entity,
            person=person,
            holder_entity=holder,
            share_pct=s["share_pct"],
            is_controlling=s["is_controlling"],
        )
    for p in clean["positions"]:
        Position.objects.create(
            entity=entity,
            person=person_upsert(**p["person"]),
            role=p["role"],
            title=p["title"],
            professional_reg_no=p["professional_reg_no"],
            professional_kind=p["professional_kind"],
            start_date=p["start_date"],
            end_date=p["end_date"],
        )
    BankAccount.objects.bulk_create([BankAccount(entity=entity, **b) for b in clean["bank_accounts"]])


def entity_register(*, data: dict, actor: User | None = None) -> MarketEntity:
    """Register a market entity once (pending until centre staff verify it)."""
    clean = entity_form_clean(data)
    exists = Conflict(
        _("An entity with this unified social credit code is already registered."),
        code="entity_exists",
        uscc=clean["uscc"],
    )
    if MarketEntity.objects.filter(uscc=clean["uscc"]).exists():
        raise exists
    now = timezone.now()
    snapshot = digest_ready(clean)
    with transaction.atomic():
        entity = MarketEntity(
            uscc=clean["uscc"],
            status=EntityStatus.PENDING,
            version=1,
            legal_rep=person_upsert(**clean["legal_rep"]),
            registered_capital=0,
        )
        try:
            # Two submissions of the same form racing past the check above: the unique
            # constraint decides, and the loser gets the same answer as a late duplicate.
            with transaction.atomic():
                _apply(entity, clean)
        except IntegrityError:
            if MarketEntity.objects.filter(uscc=clean["uscc"]).exists():
                raise exists from None
            raise
        EntityVersion.objects.create(
            entity=entity,
            version=None,
            state=EntityVersion.State.PROPOSED,
            data=snapshot,
            digest=digest(snapshot),
            reason="registration",
            submitted_by=actor,
            submitted_at=now,
        )
        journal_append(
            stream=entity_stream(entity),
            action="entity.registered",
            actor=actor,
            obj=entity,
            payload={"uscc": entity.uscc, "name": entity.name, "digest": digest(snapshot)},
        )
    return entity


def entity_verify(*, entity: MarketEntity, actor: User, approve: bool, reason: str = "") -> MarketEntity:
    """Centre staff check a registration against the documents and approve or reject it."""
    require_role(actor, Role.CENTRE, Role.ADMIN)
    with transaction.atomic():
        entity = MarketEntity.objects.select_for_update().get(pk=entity.pk)
        if entity.status != EntityStatus.PENDING:
            raise Conflict(_("This registration is not awaiting verification."), code="entity_not_pending")
        if not approve and not reason.strip():
            raise ValidationFailed(_("Give the reason for rejecting."), code="reason_required")
        now = timezone.now()
        first = entity.versions.filter(state=EntityVersion.State.PROPOSED, reason="registration").first()
        if approve:
            entity.status, entity.verified_at, entity.verified_by = EntityStatus.VERIFIED, now, actor
            if first:
                first.state, first.version = EntityVersion.State.APPROVED, 1
        else:
            entity.status, entity.rejection_reason = EntityStatus.REJECTED, reason
            if first:
                first.state = EntityVersion.State.REJECTED
        entity.save(update_fields=["status", "verified_at", "verified_by", "rejection_reason"])
        if first:
            first.decided_by, first.decided_at, first.decision_note = actor, now, reason
            first.save()
        journal_append(
            stream=entity_stream(entity),
            action="entity.verified" if approve else "entity.rejected",
            actor=actor,
            obj=entity,
            payload={"reason": reason},
        )
    return entity


def entity_change_propose(*, entity: MarketEntity, data: dict, actor: User, reason: str) -> EntityVersion:
    """The entity's own staff propose a new state of the whole form; nothing changes until approved."""
    entity_access_edit(user=actor, entity=entity)
    if not reason.strip():
        raise ValidationFailed(_("Say what changed and why."), code="reason_required")
    clean = entity_form_clean({**data, "uscc": data.get("uscc") or entity.uscc}, existing=entity)
    snapshot = digest_ready(clean)
    with transaction.atomic():
        change = EntityVersion.objects.create(
            entity=entity,
            state=EntityVersion.State.PROPOSED,
            data=snapshot,
            digest=digest(snapshot),
            reason=reason,
            submitted_by=actor,
            submitted_at=timezone.now(),
        )
        journal_append(
            stream=entity_stream(entity),
            action="entity.change_proposed",
            actor=actor,
            obj=change,
            payload={"digest": change.digest, "reason": reason},
        )
    return change


def entity_change_decide(
    *, change: EntityVersion, actor: User, approve: bool, note: str = ""
) -> EntityVersion:
    require_role(actor, Role.CENTRE, Role.ADMIN)
    with transaction.atomic():
        change = EntityVersion.objects.select_for_update().get(pk=change.pk)
        if change.state != EntityVersion.State.PROPOSED or change.reason == "registration":
            raise Conflict(_("This change is not awaiting a decision."), code="change_not_pending")
        if not approve and not note.strip():
            raise ValidationFailed(_("Give the reason for rejecting."), code="reason_required")
        entity = MarketEntity.objects.select_for_update().get(pk=change.entity_id)
        now = timezone.now()
        if approve:
            clean = entity_form_clean(change.data, existing=entity)  # re-validate: the world may have moved
            _apply(entity, clean)
            entity.version += 1
            entity.save(update_fields=["version"])
            change.state, change.version = EntityVersion.State.APPROVED, entity.version
        else:
            change.state = EntityVersion.State.REJECTED
        change.decided_by, change.decided_at, change.decision_note = actor, now, note
        change.save()
        journal_append(
            stream=entity_stream(entity),
            action="entity.change_approved" if approve else "entity.change_rejected",
            actor=actor,
            obj=change,
            payload={"version": change.version, "digest": change.digest, "note": note},
        )
    return change


def entity_snapshot(entity: MarketEntity) -> dict:
    """The entity as the form sees it now (used for change forms and archive packages)."""

    def person(p: Person) -> dict:
        return {
            "name": p.name,
            "id_number": p.id_number,
            "id_type": p.id_type,
            "phone": p.phone,
            "email": p.email,
        }

    return digest_ready(
        {
            "uscc": entity.uscc,
            "name": entity.name,
            "name_en": entity.name_en,
            "kind": entity.kind,
            "is_bidder": entity.is_bidder,
            "is_tenderee": entity.is_tenderee,
            "is_agency": entity.is_agency,
            "legal_rep": person(entity.legal_rep),
            "registered_capital": entity.registered_capital,
            "founded_on": entity.founded_on,
            "region_code": entity.region_code,
            "address": entity.address,
            "contact_name": entity.contact_name,
            "contact_phone": entity.contact_phone,
            "contact_email": entity.contact_email,
            "business_scope": entity.business_scope,
            "qualifications": [
                {
                    "kind": q.kind,
                    "name": q.name,
                    "level": q.level,
                    "number": q.number,
                    "issuer": q.issuer,
                    "valid_from": q.valid_from,
                    "valid_until": q.valid_until,
                }
                for q in entity.qualifications.all()
            ],
            "shareholders": [
                {
                    "share_pct": s.share_pct,
                    "is_controlling": s.is_controlling,
                    **(
                        {"entity_uscc": s.holder_entity.uscc}
                        if s.holder_entity_id
                        else {"person": person(s.person)}
                    ),
                }
                for s in entity.shareholders.select_related("person", "holder_entity")
            ],
            "positions": [
                {
                    "role": p.role,
                    "person": person(p.person),
                    "title": p.title,
                    "professional_reg_no": p.professional_reg_no,
                    "professional_kind": p.professional_kind,
                    "start_date": p.start_date,
                    "end_date": p.end_date,
                }
                for p in entity.positions.select_related("person")
            ],
            "bank_accounts": [
                {
                    "bank_name": b.bank_name,
                    "account_name": b.account_name,
                    "account_number": b.account_number,
                    "is_basic": b.is_basic,
                }
                for b in entity.bank_accounts.all()
            ],
        }
    )
