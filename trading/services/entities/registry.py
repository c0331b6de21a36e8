"""Registration, verification by the centre, and changes proposed by the entity and approved
by the centre, each approved state kept as a version.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from core.canonical import digest
from core.errors import Conflict, ValidationFailed
from trading.access import entity_access_edit, require_role
from trading.models import (
    BankAccount,
    EntityStatus,
    EntityVersion,
    MarketEntity,
    Person,
    Position,
    Qualification,
    Role,
    Shareholder,
    User,
)
from trading.services.entities.forms import digest_ready, entity_form_clean
from trading.services.entities.people import person_upsert


def entity_stream(entity: MarketEntity) -> str:
    return f"entity:{entity.pk}"


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
