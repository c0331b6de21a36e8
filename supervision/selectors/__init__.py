"""Reads of the supervision app: a regulator's departments and the tenders in its jurisdiction. Reads for
each page family live beside this module (complaints, tipoffs, oversight, dashboard)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from supervision.models import Department, Invitation, Membership, TenderSupervision
from trading.models import Role, Tender


def departments_of(user) -> QuerySet[Department]:
    return Department.objects.filter(memberships__user=user, active=True).distinct()


def supervised_tenders(user) -> QuerySet[Tender]:
    """The tenders a regulator sees and acts on: those assigned to any of its departments (a tender
    shared by several departments is seen by all of them). Admins see all; others none."""
    if getattr(user, "role", None) == Role.ADMIN:
        return Tender.objects.all()
    if getattr(user, "role", None) != Role.REGULATOR:
        return Tender.objects.none()
    if (
        not Membership.objects.filter(user=user).exists()
        and settings.SUPERVISION_UNATTACHED_REGULATORS == "all"
    ):
        return Tender.objects.all()  # a platform-wide supervisor (configurable, docs/supervision.md)
    return Tender.objects.filter(supervisions__department__in=departments_of(user)).distinct()


def may_supervise(user, tender: Tender) -> bool:
    return supervised_tenders(user).filter(pk=tender.pk).exists()


def tender_departments(tender: Tender) -> QuerySet[Department]:
    return Department.objects.filter(supervisions__tender=tender).order_by("pk")


def shared(tender: Tender) -> bool:
    return TenderSupervision.objects.filter(tender=tender).count() > 1


def invited(user, tender: Tender, stage: str) -> bool:
    """A social supervisor's live invitation to watch this stage of the tender (read-only)."""
    return Invitation.objects.filter(
        tender=tender, stage=stage, supervisor__user=user, supervisor__active=True, revoked_at__isnull=True
    ).exists()


def invitations_of(user) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(supervisor__user=user, revoked_at__isnull=True)
        .select_related("tender")
        .order_by("-invited_at")
    )
