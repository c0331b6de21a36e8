"""Reads of the tip-off pages: who may read which tip-offs (a regulator: those about the tenders its
departments supervise, and those naming no tender; an admin: all), and the matching of what a reporter
types (a tender's transaction code, entities by name or credit code) against the registers."""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from core.errors import AccessDenied, NotFound, ValidationFailed
from supervision.models import TipOff
from supervision.rules import TRIAGE_STEPS
from supervision.selectors import may_supervise, supervised_tenders
from trading.access import require_role
from trading.models import EntityStatus, MarketEntity, Role, Tender, TenderState

READERS = (Role.REGULATOR, Role.ADMIN)
ENTITY_SPLIT = re.compile(r"[\n;；、,，]+")
ENTITIES_MAX = 20
USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")
# Entities a reporter can name: those that are or were public (never pending or rejected applications).
NAMEABLE = (EntityStatus.VERIFIED, EntityStatus.CANCELLED)


def tipoffs_visible(user) -> QuerySet[TipOff]:
    """The tip-offs a reader sees. It matches who may triage (supervision.services.tipoffs._triager):
    the tender's supervising departments, and every regulator for a tip-off naming no tender.

    Centre staff see none: a tip-off may be about the centre's own conduct, and it carries the
    reporter's identity and contact."""
    role = getattr(user, "role", None)
    if role == Role.ADMIN:
        return TipOff.objects.all()
    if role != Role.REGULATOR:
        return TipOff.objects.none()
    return TipOff.objects.filter(Q(tender__isnull=True) | Q(tender__in=supervised_tenders(user)))


def tipoff_list(*, user, status: str | None = None) -> QuerySet[TipOff]:
    qs = tipoffs_visible(user).select_related("tender", "alert").prefetch_related("entities")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-received_at", "-pk")


def tipoff_get_for_reader(*, user, pk: int) -> TipOff:
    """The tip-off if this regulator (or admin) may read it: 404 if there is none, 403 outside the
    reader's jurisdiction (role_forbidden for other roles)."""
    require_role(user, *READERS)
    tip = (
        TipOff.objects.select_related("tender", "alert", "reporter", "triaged_by")
        .prefetch_related("entities")
        .filter(pk=pk)
        .first()
    )
    if tip is None:
        raise NotFound(_("No such tip-off."), code="tipoff_not_found")
    if user.role == Role.REGULATOR and tip.tender is not None and not may_supervise(user, tip.tender):
        raise AccessDenied(
            _("This tender is outside your department's jurisdiction."), code="outside_jurisdiction"
        )
    return tip


def tipoff_evidence_list(tip: TipOff) -> list:
    """The evidence files in the order the archive numbers them (01.bin, 02.bin, …)."""
    return list(tip.evidence.order_by("sha256"))


def tender_by_code(code: str) -> Tender | None:
    """A published (non-draft) tender by its transaction code; None when the field was left empty."""
    code = (code or "").strip().upper()
    if not code:
        return None
    tender = (
        Tender.objects.filter(code=code).exclude(state=TenderState.DRAFT).first() if len(code) <= 40 else None
    )
    if tender is None:
        raise ValidationFailed(
            _("No published tender has this transaction code."),
            code="tender_not_found",
            fields={"tender": _("No published tender has this transaction code.")},
        )
    return tender


def entities_split(raw: str) -> list[str]:
    return [part.strip() for part in ENTITY_SPLIT.split(raw or "") if part.strip()]


def entities_match(raw: str, *, field: str = "entities") -> list[MarketEntity]:
    """Entities named one per line (or separated by ；、,) by name or 18-character credit code, each matched
    against the registry; any name that matches no entity, or several, is refused with the names."""
    names = entities_split(raw)
    if len(names) > ENTITIES_MAX:
        raise ValidationFailed(
            _("Name at most %(n)s entities.") % {"n": ENTITIES_MAX},
            code="entities_too_many",
            fields={field: _("Name at most %(n)s entities.") % {"n": ENTITIES_MAX}},
        )
    found: dict[int, MarketEntity] = {}
    unmatched, ambiguous = [], []
    base = MarketEntity.objects.filter(status__in=NAMEABLE)
    for name in names:
        if USCC_RE.match(name.upper()):
            rows = list(base.filter(uscc=name.upper())[:2])
        else:
            rows = list(base.filter(name=name[:200])[:2])
        if not rows:
            unmatched.append(name)
        elif len(rows) > 1:
            ambiguous.append(name)
        else:
            found[rows[0].pk] = rows[0]
    if unmatched:
        message = _("Not found in the registry: %(names)s.") % {"names": "、".join(unmatched)}
        raise ValidationFailed(message, code="entity_not_found", fields={field: message}, names=unmatched)
    if ambiguous:
        message = _("Several entities have this name; give the credit code: %(names)s.") % {
            "names": "、".join(ambiguous)
        }
        raise ValidationFailed(message, code="entity_ambiguous", fields={field: message}, names=ambiguous)
    return list(found.values())


def triage_actions(tip: TipOff) -> list[str]:
    actions = list(TRIAGE_STEPS.get(tip.status, ()))
    if tip.tender_id is None and "alert" in actions:
        actions.remove("alert")  # an alert belongs to a lot of a tender
    return actions
