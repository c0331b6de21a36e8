"""Reads of the sanction pages: which sanctions a regulator sees (its departments' own and those on the
tenders they supervise; admins all), one sanction for its reader, and the context a new sanction starts
from (tender, complaint, tip-off) with the entities it suggests."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from core.errors import AccessDenied, NotFound, ValidationFailed
from experts.models import Expert
from supervision.models import Complaint, Membership, Sanction, TipOff
from supervision.selectors import departments_of, may_supervise, supervised_tenders
from trading.access import require_role
from trading.models import MarketEntity, Role, Tender, TenderState

READERS = (Role.REGULATOR, Role.ADMIN)


def sanctions_visible(user) -> QuerySet[Sanction]:
    role = getattr(user, "role", None)
    if role == Role.ADMIN:
        return Sanction.objects.all()
    if role != Role.REGULATOR:
        return Sanction.objects.none()
    if (
        not Membership.objects.filter(user=user).exists()
        and settings.SUPERVISION_UNATTACHED_REGULATORS == "all"
    ):
        return Sanction.objects.all()  # a platform-wide supervisor, as supervised_tenders has it
    return Sanction.objects.filter(
        Q(department__in=departments_of(user)) | Q(tender__in=supervised_tenders(user))
    ).distinct()


def sanction_list(*, user, kind: str | None = None) -> QuerySet[Sanction]:
    qs = sanctions_visible(user).select_related("department", "tender", "entity", "expert__person")
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-decided_at", "-pk")


def sanction_get_for_reader(*, user, pk: int) -> Sanction:
    require_role(user, *READERS)
    sanction = (
        Sanction.objects.select_related(
            "department",
            "tender",
            "complaint",
            "tipoff",
            "entity",
            "expert__person",
            "decided_by",
            "credit_record",
        )
        .filter(pk=pk)
        .first()
    )
    if sanction is None:
        raise NotFound(_("No such sanction."), code="sanction_not_found")
    if not sanctions_visible(user).filter(pk=sanction.pk).exists():
        raise AccessDenied(
            _("This sanction is outside your department's jurisdiction."), code="outside_jurisdiction"
        )
    return sanction


def _pk(raw, name: str) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 11:
        raise ValidationFailed(
            _("The value of “%(name)s” is not valid.") % {"name": name}, code="invalid_filter", filter=name
        )
    return int(raw)


def sanction_context(*, user, tender_id=None, complaint_id=None, tipoff_id=None) -> dict:
    """The tender, complaint and tip-off a sanction arises from (ids from the query string or the
    form), each checked: 404 when unknown, 403 outside the regulator's jurisdiction."""
    require_role(user, *READERS)
    out: dict = {"tender": None, "complaint": None, "tipoff": None}
    pk = _pk(tender_id, "tender")
    if pk is not None:
        out["tender"] = Tender.objects.filter(pk=pk).exclude(state=TenderState.DRAFT).first()
        if out["tender"] is None:
            raise NotFound(_("No such tender."), code="tender_not_found")
    pk = _pk(complaint_id, "complaint")
    if pk is not None:
        out["complaint"] = Complaint.objects.select_related("tender", "entity").filter(pk=pk).first()
        if out["complaint"] is None:
            raise NotFound(_("No such complaint."), code="complaint_not_found")
    pk = _pk(tipoff_id, "tipoff")
    if pk is not None:
        out["tipoff"] = TipOff.objects.select_related("tender").filter(pk=pk).first()
        if out["tipoff"] is None:
            raise NotFound(_("No such tip-off."), code="tipoff_not_found")
    named = (out["tender"], getattr(out["complaint"], "tender", None), getattr(out["tipoff"], "tender", None))
    # The page shows (and the form posts) the tender a complaint or tip-off is about; a disagreement is
    # left for sanction_decide to refuse (context_mismatch).
    out["tender"] = out["tender"] or next((t for t in named if t is not None), None)
    if user.role == Role.REGULATOR:
        for tender in {t for t in named if t is not None}:
            if not may_supervise(user, tender):
                raise AccessDenied(
                    _("This tender is outside your department's jurisdiction."), code="outside_jurisdiction"
                )
    return out


def suggested_entities(context: dict) -> list[MarketEntity]:
    """Entities a sanction on this context is likely about: those the tip-off names, the complainant."""
    seen: dict[int, MarketEntity] = {}
    if context.get("tipoff") is not None:
        for e in context["tipoff"].entities.order_by("pk"):
            seen.setdefault(e.pk, e)
    if context.get("complaint") is not None:
        seen.setdefault(context["complaint"].entity_id, context["complaint"].entity)
    return list(seen.values())


def expert_by_reference(raw: str) -> Expert | None:
    """An expert by its public id (E00000012) or number; None for an empty field."""
    raw = (raw or "").strip().upper()
    if not raw:
        return None
    digits = raw[1:] if raw.startswith("E") else raw
    expert = (
        Expert.objects.select_related("person").filter(pk=int(digits)).first()
        if digits.isdigit() and len(digits) <= 11
        else None
    )
    if expert is None:
        message = _("No expert has this number.")
        raise ValidationFailed(message, code="expert_not_found", fields={"expert": message})
    return expert
