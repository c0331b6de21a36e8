"""The tender's k-of-n custodian opening key (DESIGN §4, DOMAIN B5 fallback): generated at publication,
split among custodians and forgotten; shares handed in after the deadline; bids unwrapped with it.

The mathematics and the wrap are in `bidding.custodian_client` (Django-free, the custodian's side
runs the same code); this module chooses custodians, stores and journals. docs/custodian-key.md.
"""

from __future__ import annotations

import hashlib
import secrets

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from bidding import custodian_client as cc
from bidding import envelope
from bidding.models import Bid, CustodianKey, CustodianShare
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from trading import pki
from trading.models import Certificate, CertificateStatus, DecryptionPolicy, Role, Tender, TenderState, User

DEFAULT_CUSTODIAN_ROLES = (Role.CENTRE, Role.REGULATOR, Role.AGENCY)
ENVELOPE_TO = "custodian"  # the recipient name of the custodian wrap inside a bid's header
# Once the deadline has passed, shares may still not be handed in while the tender is suspended (its
# deadline may move when it resumes) or after it was terminated (its bids are never opened).
REVEAL_REFUSED_STATES = frozenset({TenderState.DRAFT, TenderState.SUSPENDED, TenderState.TERMINATED})


def custodian_roles() -> tuple[str, ...]:
    roles = tuple(getattr(settings, "CUSTODIAN_ROLES", DEFAULT_CUSTODIAN_ROLES))
    if not roles or Role.BIDDER in roles or any(r not in Role.values for r in roles):
        # A bidder holding a share could open its competitors' bids: never a custodian.
        raise ImproperlyConfigured("CUSTODIAN_ROLES must name staff roles (centre, regulator, agency, ...).")
    return roles


# --- choosing the custodians ------------------------------------------------------------------------


def _role_filter(role: str, tender: Tender) -> Q:
    if role == Role.AGENCY:
        # The staff of the tender's own agency; a tenderee that procures by itself acts through its staff.
        return Q(role=Role.AGENCY, entity_id=tender.agency_id or tender.tenderee_id)
    return Q(role=role)


def custodian_candidates(*, tender: Tender, limit: int, now=None) -> list[tuple[User, Certificate]]:
    """Up to `limit` eligible (user, certificate) pairs per role, interleaved in CUSTODIAN_ROLES order.

    Eligible: an active account with a certificate of the platform CA that is active now and still valid
    at the deadline (the share is wrapped to that certificate's key). Within a role the draw is
    deterministic, so an auditor can redo it: same region as the tender first, then same province,
    then oldest account. Interleaving spreads the shares across institutions: with the default roles
    no institution gets a second share before each has one.
    """
    now = now or timezone.now()
    region, province = tender.region_code, tender.region_code[:2]
    per_role: list[list[tuple[User, Certificate]]] = []
    taken: set[int] = set()
    for role in custodian_roles():
        certs = Certificate.objects.select_related("user").filter(
            user__in=User.objects.filter(_role_filter(role, tender), is_active=True),
            status=CertificateStatus.ACTIVE,
            not_before__lte=now,
            not_after__gte=max(now, tender.deadline),
        )
        by_user: dict[int, list[Certificate]] = {}
        for cert in certs.order_by("-issued_at", "-pk"):  # newest certificate of each user first
            by_user.setdefault(cert.user_id, []).append(cert)
        users = sorted(
            (c[0].user for uid, c in by_user.items() if uid not in taken),
            key=lambda u: (u.region_code != region, not u.region_code.startswith(province), u.pk),
        )
        picked: list[tuple[User, Certificate]] = []
        for user in users:
            if len(picked) == limit:
                break
            for cert in by_user[user.pk]:
                try:  # the row says active; the certificate itself must also chain to our CA
                    pki.certificate_verify_chain(cert.certificate_pem, at=now)
                except DomainError:
                    continue
                picked.append((user, cert))
                taken.add(user.pk)
                break
        per_role.append(picked)
    interleaved = []
    for rank in range(max((len(r) for r in per_role), default=0)):
        interleaved.extend(r[rank] for r in per_role if rank < len(r))
    return interleaved


# --- generation at publication ------------------------------------------------------------------------


def key_id_for(public_point: bytes) -> str:
    return hashlib.sha256(public_point).hexdigest()[:32]


def custodian_key_create(*, tender: Tender, actor) -> CustodianKey:
    """Generate the tender's opening key, deal k-of-n shares wrapped to the custodians, keep the public half.

    Call inside tender_publish's transaction with the tender row locked (the `tender_published`
    receiver does): a refusal here refuses the publication. The private scalar and the polynomial live
    only in this call's local variables; nothing private is written to the database, a file or a log.
    """
    k, n = tender.custodian_k, tender.custodian_n
    if tender.decryption_policy != DecryptionPolicy.BIDDER_CUSTODIAN or not k or not n or not 2 <= k <= n:
        raise ValidationFailed(
            _("This tender does not use a k-of-n custodian key."), code="custodian_policy_off"
        )
    now = timezone.now()
    with transaction.atomic():
        if CustodianKey.objects.filter(tender=tender).exists():
            raise Conflict(_("This tender already has a custodian key."), code="custodian_key_exists")
        chosen = custodian_candidates(tender=tender, limit=n, now=now)[:n]
        if len(chosen) < n:
            raise Conflict(
                _(
                    "Not enough custodians with an active certificate: %(needed)s needed, %(available)s available."
                )
                % {"needed": n, "available": len(chosen)},
                code="custodians_unavailable",
                needed=n,
                available=len(chosen),
            )
        secret = 1 + secrets.randbelow(cc.N - 1)
        public_point = cc.scalar_base_point(secret)
        shares = cc.shamir_split(secret, k=k, n=n)
        del secret  # Python cannot wipe an int; dropping the last reference is what it offers
        key = CustodianKey.objects.create(
            tender=tender,
            key_id=key_id_for(public_point),
            public_key=cc.b64u(public_point),
            k=k,
            n=n,
            created_at=now,
        )
        published = []
        for (index, y), (user, cert) in zip(shares, chosen, strict=True):
            commitment = cc.b64u(cc.share_commitment(y))
            wrap = cc.share_wrap(
                y=y,
                index=index,
                key_id=key.key_id,
                tender=tender.code,
                kid=cert.serial,
                recipient=pki.certificate_load(cert.certificate_pem).public_key(),
            )
            CustodianShare.objects.create(
                key=key,
                holder=user,
                certificate=cert,
                index=index,
                wrapped={"wrap": wrap, "commitment": commitment},
            )
            published.append(
                {
                    "index": index,
                    "holder": user.username,
                    "role": user.role,
                    "cert": cert.serial,
                    "commitment": commitment,
                }
            )
        del shares
        journal_append(
            stream=tender.stream,
            action="custodian.key_create",
            actor=actor,
            obj=key,
            payload={"key_id": key.key_id, "public_key": key.public_key, "k": k, "n": n, "shares": published},
        )
    return key


# --- reads ------------------------------------------------------------------------------------------------


def _commitments(key: CustodianKey) -> dict[int, bytes]:
    return {s.index: cc.b64u_decode(s.wrapped["commitment"]) for s in key.shares.all()}


def custodian_recipient(*, tender: Tender) -> dict | None:
    """The custodian recipient a bidder seals to ({"to","kid","public_key"}), or None under the bidder policy."""
    if tender.decryption_policy != DecryptionPolicy.BIDDER_CUSTODIAN:
        return None
    key = CustodianKey.objects.filter(tender=tender).first()
    if key is None:
        return None
    return {"to": ENVELOPE_TO, "kid": key.key_id, "public_key": key.public_key}


def custodian_shares_for(*, user: User):
    return (
        CustodianShare.objects.filter(holder=user)
        .select_related("key__tender", "certificate")
        .order_by("-key__created_at", "index")
    )


def access_custodian_share(*, user: User, share_id: int, lock: bool = False) -> CustodianShare:
    """The share `share_id` if `user` holds it; anyone else is told it does not exist."""
    qs = CustodianShare.objects.select_related("key__tender", "certificate", "holder")
    if lock:
        qs = qs.select_for_update(of=("self",))
    share = (
        qs.filter(pk=share_id, holder=user).first() if user is not None and user.is_authenticated else None
    )
    if share is None:
        raise NotFound(_("No such custodian share."), code="custodian_share_not_found")
    return share


def _reveal_refusal(tender: Tender, now) -> DomainError | None:
    if now < tender.deadline:
        return Conflict(
            _("Shares are handed in only after the bid deadline (server time)."), code="custodian_too_early"
        )
    if tender.state in REVEAL_REFUSED_STATES:
        return Conflict(
            _("The tender is not being opened."), code="custodian_tender_state", state=tender.state
        )
    return None


def _valid_revealed(key: CustodianKey) -> dict[int, int]:
    """Revealed shares that still match their commitments (re-checked: the rows could be edited)."""
    valid = {}
    for share in key.shares.all():
        if not share.revealed:
            continue
        try:
            y = cc.scalar_from_b64u(share.revealed)
        except DomainError:
            continue
        if cc.share_matches(y, cc.b64u_decode(share.wrapped["commitment"])):
            valid[share.index] = y
    return valid


def custodian_status(*, tender: Tender) -> dict | None:
    key = CustodianKey.objects.filter(tender=tender).first()
    if key is None:
        return None
    revealed = key.shares.exclude(revealed="").count()
    return {
        "key_id": key.key_id,
        "k": key.k,
        "n": key.n,
        "revealed": revealed,
        "reconstructed": key.reconstructed_at is not None,
        "reconstructed_at": key.reconstructed_at.isoformat() if key.reconstructed_at else None,
    }


def custodian_share_document(*, share: CustodianShare) -> dict:
    """What a custodian needs to open its share on its own side (custodian_client.share_open)."""
    key, tender = share.key, share.key.tender
    now = timezone.now()
    return {
        "v": cc.DOCUMENT_VERSION,
        "id": share.pk,
        "tender": tender.code,
        "tender_title": tender.title,
        "key_id": key.key_id,
        "public_key": key.public_key,
        "k": key.k,
        "n": key.n,
        "index": share.index,
        "holder": share.holder.username,
        "certificate": share.certificate.serial,
        "wrap": share.wrapped["wrap"],
        "commitment": share.wrapped["commitment"],
        "commitments": [
            {"index": s.index, "commitment": s.wrapped["commitment"]} for s in key.shares.order_by("index")
        ],
        "deadline": tender.deadline.isoformat(),
        "server_time": now.isoformat(),
        "may_reveal": _reveal_refusal(tender, now) is None and not share.revealed,
        "revealed": bool(share.revealed),
        "revealed_at": share.revealed_at.isoformat() if share.revealed_at else None,
        "reconstructed": key.reconstructed_at is not None,
    }


# --- after the deadline ----------------------------------------------------------------------------------


def _reconstruct(key: CustodianKey) -> ec.EllipticCurvePrivateKey:
    valid = _valid_revealed(key)
    if len(valid) < key.k:
        raise Conflict(
            _("%(k)s valid shares are needed; %(m)s have been handed in.") % {"k": key.k, "m": len(valid)},
            code="custodian_shares_insufficient",
        )
    chosen = sorted(valid.items())[: key.k]
    secret = cc.shamir_combine(chosen)
    if not secrets.compare_digest(cc.scalar_base_point(secret), cc.b64u_decode(key.public_key)):
        raise Conflict(
            _("The shares do not reassemble the tender's opening key."), code="custodian_key_mismatch"
        )
    return ec.derive_private_key(secret, cc.CURVE)


def custodian_share_reveal(*, user: User, share_id: int, value: str) -> CustodianShare:
    """Hand in an unwrapped share (b64u 32-byte y) after the deadline; checked against its commitment.

    The k-th valid share reassembles the key once, to prove it matches the public half (and records
    when); the key itself is not stored, it is recomputed from the revealed shares when used.
    """
    now = timezone.now()
    with transaction.atomic():
        # Key row first, then the share: two custodians revealing at once queue on the key (one order).
        key_pk = access_custodian_share(user=user, share_id=share_id).key_id
        CustodianKey.objects.select_for_update().get(pk=key_pk)
        share = access_custodian_share(user=user, share_id=share_id, lock=True)
        key, tender = share.key, share.key.tender
        refusal = _reveal_refusal(tender, now)
        if refusal is not None:
            raise refusal
        try:
            y = cc.scalar_from_b64u(value if isinstance(value, str) else "")
        except DomainError:
            y = 0  # not a scalar at all: refused below like any share that is not the one dealt
        if not cc.share_matches(y, cc.b64u_decode(share.wrapped["commitment"])):
            raise ValidationFailed(
                _("This is not the share dealt to you: it does not match its commitment."),
                code="custodian_share_invalid",
            )
        if share.revealed:
            if share.revealed == cc.scalar_to_b64u(y):
                return share  # the same share twice (a retried request): nothing changes
            raise Conflict(
                _("This share has already been handed in."), code="custodian_share_already_revealed"
            )
        if not cc.commitments_consistent(
            public_key=cc.b64u_decode(key.public_key), commitments=_commitments(key), k=key.k
        ):
            raise Conflict(
                _("The stored commitments do not fit the opening key."),
                code="custodian_commitments_inconsistent",
            )
        share.revealed = cc.scalar_to_b64u(y)
        share.revealed_at = now
        share.save(update_fields=["revealed", "revealed_at"])
        journal_append(
            stream=tender.stream,
            action="custodian.share_reveal",
            actor=user,
            obj=share,
            payload={"key_id": key.key_id, "index": share.index, "holder": user.username},
        )
        if key.reconstructed_at is None and len(_valid_revealed(key)) >= key.k:
            _reconstruct(key)
            key.reconstructed_at = now
            key.save(update_fields=["reconstructed_at"])
            journal_append(
                stream=tender.stream,
                action="custodian.key_reconstruct",
                actor=user,
                obj=key,
                payload={"key_id": key.key_id, "indices": sorted(_valid_revealed(key))[: key.k]},
            )
    return share


def custodian_unwrap_cek(*, bid: Bid, actor=None) -> bytes:
    """The content key of `bid` from its custodian wrap, with the key k custodians reassembled (DOMAIN B5).

    For the opening hall when the bidder cannot decrypt: the caller verifies the CEK against the
    ciphertext and records the decryption. Refused before the deadline, without k valid shares, for a
    bid that is not active, and under the bidder-only policy. Journaled: who used the custodian key on
    which bid.
    """
    bid = Bid.objects.select_related("lot__tender").get(pk=bid.pk)
    tender = bid.lot.tender
    if tender.decryption_policy != DecryptionPolicy.BIDDER_CUSTODIAN:
        raise Conflict(_("This tender does not use a custodian key."), code="custodian_policy_off")
    refusal = _reveal_refusal(tender, timezone.now())
    if refusal is not None:
        raise refusal
    if bid.status != Bid.Status.ACTIVE:
        # A withdrawn or replaced bid is never opened, by anyone.
        raise Conflict(_("Only a submitted bid is opened."), code="custodian_bid_not_active")
    key = CustodianKey.objects.filter(tender=tender).first()
    if key is None:
        raise NotFound(_("This tender has no custodian key."), code="custodian_key_missing")
    header = envelope.parse_header(envelope.b64u_decode(bid.header))
    wraps = [w for w in header.get("wraps", []) if w.get("to") == ENVELOPE_TO]
    if len(wraps) != 1 or wraps[0].get("kid") != key.key_id:
        raise ValidationFailed(
            _("This bid carries no wrap to the tender's custodian key."), code="custodian_wrap_missing"
        )
    with transaction.atomic():
        private_key = _reconstruct(key)
        cek = envelope.unwrap(header=header, to=ENVELOPE_TO, private_key=private_key)
        del private_key
        journal_append(
            stream=tender.stream,
            action="custodian.unwrap",
            actor=actor,
            obj=bid,
            payload={"key_id": key.key_id, "bid": str(bid.pk), "header_sha256": bid.header_sha256},
        )
    return cek
