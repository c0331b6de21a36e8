"""Reads shared by the bidding views and services: access-checked fetches (`*_get_for_*`, raising when
the user may not see the object) and the data a bidder's client needs to seal for a lot.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bidding import envelope
from bidding.models import Bid, BidSecurity, CustodianKey, UploadSession
from core.errors import AccessDenied, DomainError, NotFound
from trading.access import READ_ALL_ROLES, require_login
from trading.models import (
    Certificate,
    CertificateStatus,
    DecryptionPolicy,
    Lot,
    MarketEntity,
    Role,
    TenderState,
)

# The chunk size the platform announces to sealing clients (docs/sealed-bid.md §2: 1 MiB recommended).
SEAL_CHUNK = envelope.DEFAULT_CHUNK


class CustodianKeyMissing(DomainError):
    code = "custodian_key_missing"
    status = 409
    default_message = _("The tender's custodian opening key has not been generated yet.")


def bidder_entity(user) -> MarketEntity:
    """The market entity a bidder acts for; anyone else is refused."""
    require_login(user)
    if user.role != Role.BIDDER or user.entity_id is None:
        raise AccessDenied(_("Only bidder staff of a registered entity can bid."), code="bidder_required")
    return user.entity


def lot_get_for_submission(*, lot_id: int) -> Lot:
    """A lot of a tender that is public (not a draft); whether it still takes bids is the services' call."""
    lot = Lot.objects.select_related("tender").filter(pk=lot_id).first()
    if lot is None or lot.tender.state == TenderState.DRAFT:
        raise NotFound(_("No such lot."), code="lot_not_found")
    return lot


def upload_get_for_user(*, upload_id, user) -> UploadSession:
    """An upload of the user's own entity; another entity's upload looks like a missing one."""
    entity = bidder_entity(user)
    upload = (
        UploadSession.objects.select_related("lot__tender", "entity")
        .filter(pk=upload_id, entity=entity)
        .first()
    )
    if upload is None:
        raise NotFound(_("No such upload."), code="upload_not_found")
    return upload


def bid_get_for_user(*, bid_id, user) -> Bid:
    """A bid of the user's own entity (centre staff, regulators and admins see every bid's envelope
    metadata; nobody sees contents before the opening, because the server cannot)."""
    require_login(user)
    bid = Bid.objects.select_related("lot__tender", "entity", "certificate").filter(pk=bid_id).first()
    if bid is None or not (
        user.role in READ_ALL_ROLES or (user.entity_id and user.entity_id == bid.entity_id)
    ):
        raise NotFound(_("No such bid."), code="bid_not_found")
    return bid


def bid_active_for(*, lot: Lot, entity: MarketEntity) -> Bid | None:
    return Bid.objects.filter(lot=lot, entity=entity, status=Bid.Status.ACTIVE).first()


def bids_of_entity(*, lot: Lot, entity: MarketEntity) -> QuerySet[Bid]:
    """Every bid the entity sent for the lot, oldest first (replaced and withdrawn ones included)."""
    return Bid.objects.filter(lot=lot, entity=entity).select_related("certificate").order_by("submitted_at")


def bids_active(*, lot: Lot) -> QuerySet[Bid]:
    return Bid.objects.filter(lot=lot, status=Bid.Status.ACTIVE).select_related("entity", "certificate")


def security_for(*, lot: Lot, entity: MarketEntity) -> BidSecurity | None:
    return BidSecurity.objects.filter(lot=lot, entity=entity).select_related("account").first()


def certificate_active_for(*, user, now=None) -> Certificate | None:
    """The user's newest certificate that is active and within its validity now."""
    now = now or timezone.now()
    return (
        Certificate.objects.filter(
            user=user, status=CertificateStatus.ACTIVE, not_before__lte=now, not_after__gte=now
        )
        .order_by("-issued_at", "-pk")
        .first()
    )


def custodian_policy(tender) -> bool:
    """True when the tender's content keys are also wrapped to its k-of-n custodian key."""
    return tender.decryption_policy == DecryptionPolicy.BIDDER_CUSTODIAN


def custodian_key_for(tender) -> CustodianKey | None:
    return CustodianKey.objects.filter(tender=tender).first()


def recipients_for(*, lot: Lot, user) -> dict:
    """What the bidder's client needs to seal for `lot`: the binding, the keys to wrap the content key
    to (the bidder's own certified key, and the tender's custodian key when the policy asks for it),
    the chunk size, the deadline and the server's clock (countdowns run on server time, DOMAIN B2)."""
    entity = bidder_entity(user)
    now = timezone.now()
    certificate = certificate_active_for(user=user, now=now)
    if certificate is None:
        raise AccessDenied(
            _("You need an active certificate (digital ID) to seal a bid."), code="certificate_required"
        )
    tender = lot.tender
    recipients = [
        {
            "to": "bidder",
            "kid": certificate.serial,
            "public_key": envelope.public_key_b64u(load_pem_public_key(certificate.public_key_pem.encode())),
        }
    ]
    if custodian_policy(tender):
        key = custodian_key_for(tender)
        if key is None:
            raise CustodianKeyMissing()
        recipients.append({"to": "custodian", "kid": key.key_id, "public_key": key.public_key})
    return {
        "tender": tender.code,
        "lot": lot.number,
        "bidder": entity.uscc,
        "cert": certificate.serial,
        "recipients": recipients,
        "chunk": SEAL_CHUNK,
        "deadline": tender.deadline.isoformat(),
        "server_time": now.isoformat(),
        "read_out_items": list(lot.read_out_items or []),
    }
