"""Read-side queries shared by views, the API and other apps."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from trading.models import CreditRecord, EntityStatus, MarketEntity


def today() -> dt.date:
    return timezone.localdate(timezone.now())


def credit_active(
    *, entity: MarketEntity | None = None, person=None, on: dt.date | None = None
) -> QuerySet[CreditRecord]:
    on = on or today()
    qs = CreditRecord.objects.filter(revoked_at__isnull=True, starts_on__lte=on).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=on)
    )
    if entity is not None:
        qs = qs.filter(entity=entity)
    if person is not None:
        qs = qs.filter(person=person)
    return qs


def entity_blacklist_entry(entity: MarketEntity, *, on: dt.date | None = None) -> CreditRecord | None:
    """The active record that bars this entity, the one ending last (None: not blacklisted)."""
    records = list(credit_active(entity=entity, on=on).filter(blocks_participation=True))
    if not records:
        return None
    return max(records, key=lambda r: r.ends_on or dt.date.max)


def entity_is_blacklisted(entity: MarketEntity, *, on: dt.date | None = None) -> bool:
    return entity_blacklist_entry(entity, on=on) is not None


class EntityMayNotParticipate(DomainError):
    status = 403


def check_entity_may_participate(entity: MarketEntity | None, *, on: dt.date | None = None) -> None:
    """A bidder must be verified and not blacklisted (DOMAIN C11, D4) to obtain documents or bid."""
    if entity is None:
        raise EntityMayNotParticipate(
            _("Only staff of a registered entity can take part."), code="entity_required"
        )
    if entity.status != EntityStatus.VERIFIED:
        raise EntityMayNotParticipate(
            _("The entity's registration has not been verified yet."), code="entity_not_verified"
        )
    entry = entity_blacklist_entry(entity, on=on)
    if entry is not None:
        raise EntityMayNotParticipate(
            _("The entity is barred from taking part until %(until)s (%(basis)s).")
            % {"until": entry.ends_on or _("further notice"), "basis": entry.legal_basis},
            code="entity_blacklisted",
            until=str(entry.ends_on or ""),
            record=entry.pk,
        )


def entities_public() -> QuerySet[MarketEntity]:
    return MarketEntity.objects.filter(status=EntityStatus.VERIFIED)
