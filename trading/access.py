"""Object-level access (Zulip's `access_*` naming): fetch-and-check, raising AccessDenied.

Policy: a bidder sees only its own entity's private data; agency/tenderee staff manage
their own tenders; centre staff operate the platform; regulators read everything and
change only what is theirs to decide (credit, blacklist, later alerts and complaints).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.errors import AccessDenied
from trading.models import MarketEntity, Role, Tender, TenderState, User

READ_ALL_ROLES = {Role.CENTRE, Role.REGULATOR, Role.ADMIN}


def require_login(user: User) -> None:
    """Anonymous visitors are told to log in (401), not that the object is someone else's (403)."""
    if not getattr(user, "is_authenticated", False):
        raise AccessDenied(_("Please log in first."), code="not_authenticated", status=401)


def require_role(user: User, *roles: str) -> None:
    require_login(user)
    if user.role not in roles:
        raise AccessDenied(_("Your role may not do this."), code="role_forbidden")


def can_read_private(user: User, entity: MarketEntity) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return user.role in READ_ALL_ROLES or (user.entity_id is not None and user.entity_id == entity.pk)


def entity_access_private(*, user: User, entity: MarketEntity) -> MarketEntity:
    """Bank accounts, ID numbers, staff, credit details: own entity, centre, regulator, admin."""
    require_login(user)
    if not can_read_private(user, entity):
        raise AccessDenied(_("This is another entity's private data."), code="entity_private")
    return entity


def entity_access_edit(*, user: User, entity: MarketEntity) -> MarketEntity:
    """Proposing changes to a registration: the entity's own staff only."""
    require_login(user)
    if user.entity_id != entity.pk:
        raise AccessDenied(
            _("Only the entity's own staff may change its registration."), code="entity_not_yours"
        )
    return entity


def manages_tender(user: User, tender: Tender) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role in {Role.CENTRE, Role.ADMIN}:
        return True
    return user.role == Role.AGENCY and user.entity_id in {tender.agency_id, tender.tenderee_id}


def tender_access_manage(*, user: User, tender: Tender) -> Tender:
    require_login(user)
    if not manages_tender(user, tender):
        raise AccessDenied(
            _("Only the tender's agency, its tenderee or centre staff may do this."), code="tender_not_yours"
        )
    return tender


def tender_access_read(*, user: User, tender: Tender) -> Tender:
    """Drafts are visible only to those who manage them and to regulators."""
    if tender.state != TenderState.DRAFT:
        return tender
    if manages_tender(user, tender) or getattr(user, "role", None) == Role.REGULATOR:
        return tender
    raise AccessDenied(_("This tender is not public yet."), code="tender_not_public", status=404)
