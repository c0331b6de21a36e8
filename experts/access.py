"""Who may see what of a draw (DOMAIN C4): the roster stays sealed from everyone but the system and
regulators until the result is decided (TB, 法37) or announced (GP, 87号令47); an expert sees only
their own seat."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.errors import AccessDenied, NotFound
from experts import rules
from experts.models import Draw
from trading.models import Lot, Role, User


def names_unsealed(draw: Draw) -> bool:
    lot = draw.lot
    return rules.names_unsealed(
        regime=lot.tender.regime, tender_state=lot.tender.state, lot_awarded=lot.status == Lot.Status.AWARDED
    )


def roster_names_visible(*, user: User, draw: Draw) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role in (Role.REGULATOR, Role.ADMIN):
        return True
    return user.role in (Role.CENTRE, Role.AGENCY) and names_unsealed(draw)


def access_draw(*, user: User, draw_id: int) -> Draw:
    """Centre staff, regulators and admins see a draw's page (names per `roster_names_visible`)."""
    if not getattr(user, "is_authenticated", False) or user.role not in (
        Role.CENTRE,
        Role.REGULATOR,
        Role.ADMIN,
    ):
        raise AccessDenied(_("Your role may not see expert draws."), code="role_forbidden")
    try:
        return Draw.objects.select_related("lot__tender", "requested_by", "drawn_by").get(pk=draw_id)
    except Draw.DoesNotExist as exc:
        raise NotFound(_("No such draw."), code="draw_not_found") from exc
