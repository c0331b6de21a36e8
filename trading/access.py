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


# --- jurisdiction and invited watchers, provided by a higher layer (supervision) ---------------------------
#
# Supervision sits above trading, bidding, experts and monitoring, yet their pages must honour it: which
# tenders a regulator sees and acts on, and who has been invited to watch an opening or an evaluation.
# The supervision app registers its answers here in its AppConfig.ready(); without it, regulators read
# every tender (the platform before issue 7) and nobody is invited.

_SCOPES: list = []
_WATCHERS: list = []


def jurisdiction_register(scope) -> None:
    """`scope(user) -> QuerySet[Tender]`: the tenders the user supervises (one provider)."""
    _SCOPES[:] = [scope]


def watchers_register(check) -> None:
    """`check(user, tender, stage) -> bool`: the user is invited to watch this stage of the tender."""
    _WATCHERS[:] = [check]


def tenders_in_jurisdiction(user: User):
    """The tenders a regulator sees and acts on; centre staff and admins operate every tender."""
    if not getattr(user, "is_authenticated", False):
        return Tender.objects.none()
    if user.role in {Role.CENTRE, Role.ADMIN}:
        return Tender.objects.all()
    if user.role != Role.REGULATOR:
        return Tender.objects.none()
    return _SCOPES[0](user) if _SCOPES else Tender.objects.all()


def in_jurisdiction(user: User, tender: Tender) -> bool:
    return tenders_in_jurisdiction(user).filter(pk=tender.pk).exists()


def tender_access_supervise(*, user: User, tender: Tender) -> Tender:
    """A regulator acting on a tender must supervise it (its department's, or shared); admins may."""
    require_login(user)
    if user.role not in {Role.REGULATOR, Role.ADMIN}:
        raise AccessDenied(_("Your role may not do this."), code="role_forbidden")
    if not in_jurisdiction(user, tender):
        raise AccessDenied(
            _("This tender is outside your department's jurisdiction."), code="outside_jurisdiction"
        )
    return tender


def invited_watcher(user: User, tender: Tender, stage: str) -> bool:
    """A social supervisor invited to watch this stage ("opening" or "evaluation"), read-only."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.SUPERVISOR:
        return False
    return bool(_WATCHERS) and _WATCHERS[0](user, tender, stage)
