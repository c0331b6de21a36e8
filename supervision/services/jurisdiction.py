"""Writes of the supervision app: departments, their members, and the assignment of a tender's
supervisors at its publication (issue 7 item 1). Every write is validated, transactional, journalled."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.journal import journal_append
from core.errors import AccessDenied, Conflict, ValidationFailed
from supervision import rules
from supervision.models import Department, Membership, TenderSupervision
from trading.models import Category, Regime, Role, Tender, User

ADMINS = (Role.ADMIN,)
STREAM = "supervision"


def _admin(actor) -> None:
    if getattr(actor, "role", None) not in ADMINS:
        raise AccessDenied(_("Only an administrator may manage supervising departments."), code="forbidden")


def department_create(
    *, actor, name: str, kind: str, region_code: str, regimes=(), categories=()
) -> Department:
    _admin(actor)
    name = (name or "").strip()
    fields = {}
    if not name or len(name) > 200:
        fields["name"] = _("Give the department's name (at most 200 characters).")
    if kind not in Department.Kind.values:
        fields["kind"] = _("Not a kind of supervising department.")
    try:
        rules.region_prefix(region_code)
    except ValueError:
        fields["region_code"] = _("A 6-digit administrative-division code.")
    regimes, categories = sorted(set(regimes or ())), sorted(set(categories or ()))
    if not set(regimes) <= set(Regime.values):
        fields["regimes"] = _("Unknown regime.")
    if not set(categories) <= set(Category.values):
        fields["categories"] = _("Unknown category.")
    if fields:
        raise ValidationFailed(_("The department is not valid."), code="department_invalid", fields=fields)
    try:
        with transaction.atomic():
            dept = Department.objects.create(
                name=name, kind=kind, region_code=region_code, regimes=regimes, categories=categories
            )
            journal_append(
                stream=STREAM,
                action="supervision.department_created",
                actor=actor,
                obj=dept,
                payload={
                    "name": name,
                    "kind": kind,
                    "region": region_code,
                    "regimes": regimes,
                    "categories": categories,
                },
            )
    except IntegrityError:
        raise Conflict(_("A department of this name exists."), code="department_exists") from None
    return dept


def member_add(*, actor, department: Department, user: User) -> Membership:
    _admin(actor)
    if user.role != Role.REGULATOR:
        raise ValidationFailed(
            _("Only regulator accounts belong to a supervising department."), code="member_not_regulator"
        )
    with transaction.atomic():
        member, created = Membership.objects.get_or_create(
            department=department, user=user, defaults={"since": timezone.now()}
        )
        if created:
            journal_append(
                stream=STREAM,
                action="supervision.member_added",
                actor=actor,
                obj=member,
                payload={"department": department.pk, "user": user.pk},
            )
    return member


def supervisors_assign(*, tender: Tender, actor=None) -> list[TenderSupervision]:
    """Assign every active department whose jurisdiction covers the tender (idempotent); journalled
    in the tender's stream. Call inside the publishing transaction."""
    now = timezone.now()
    made = []
    for dept in Department.objects.filter(active=True).order_by("pk"):
        if not rules.covers(
            region=dept.region_code,
            regimes=dept.regimes,
            categories=dept.categories,
            tender_region=tender.region_code,
            regime=tender.regime,
            category=tender.category,
        ):
            continue
        basis = f"region {dept.region_code}; regimes {','.join(dept.regimes) or '*'}; categories {','.join(dept.categories) or '*'}"
        row, created = TenderSupervision.objects.get_or_create(
            tender=tender, department=dept, defaults={"assigned_at": now, "basis": basis}
        )
        if created:
            made.append(row)
    if made:
        journal_append(
            stream=tender.stream,
            action="supervision.assigned",
            actor=actor or "system",
            obj=tender,
            payload={"departments": [r.department_id for r in made]},
        )
    return made


def on_tender_published(sender, *, tender, actor, **kwargs) -> None:
    supervisors_assign(tender=tender, actor=actor)
