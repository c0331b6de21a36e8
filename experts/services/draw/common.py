"""Shared pieces of the draw service: the sealed seed, group digests, employer tags, member
selection, ranking and calling an expert."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.canonical import digest
from core.errors import AccessDenied, Conflict
from experts import draw as core_draw
from experts import rules
from experts.models import Assignment, Draw
from trading.models import Notification, Role, TenderState, User

ASSIGNMENT_LIVE = (Assignment.Status.NOTIFIED, Assignment.Status.CONFIRMED)
_DRAWABLE_STATES = (TenderState.PUBLISHED, TenderState.OPENING, TenderState.EVALUATION)


def require_drawable(draw: Draw) -> None:
    """A suspended (or closed) tender draws nobody: no draw is performed or extended until it resumes."""
    state = draw.lot.tender.state
    if state == TenderState.SUSPENDED:
        raise Conflict(_("The tender is suspended; no draw until it resumes."), code="tender_suspended")
    if state not in _DRAWABLE_STATES:
        raise Conflict(_("Experts are drawn for a live tender only."), code="draw_tender_state", state=state)


# --- the sealed seed ------------------------------------------------------------------------------


def _sealer() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"GJ-DRAW-1 seed seal").derive(
        settings.SECRET_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _seal(seed: bytes) -> str:
    return _sealer().encrypt(seed).decode()


def draw_seed(draw: Draw) -> bytes:
    """The seed: the revealed one, else unsealed (system side only — never shown before the reveal)."""
    if draw.seed:
        return bytes.fromhex(draw.seed)
    try:
        return _sealer().decrypt(draw.seed_sealed.encode())
    except InvalidToken as exc:  # SECRET_KEY changed since the draw was committed
        raise Conflict(_("The draw's sealed seed cannot be opened."), code="draw_seed_unreadable") from exc


# --- helpers -------------------------------------------------------------------------------------


def group_request_digest(request_digest: str, group: int) -> str:
    """The request digest bound into group `group`'s key (docs/expert-draw.md §Groups)."""
    return digest({"request": request_digest, "group": group})


def employer_tag(key: str) -> str:
    """The employer key as published in the record: hashed, so the record names no employer."""
    return hashlib.sha256(b"GJ-DRAW-1 employer\x00" + key.encode()).hexdigest()[:16]


def select_members(
    order: list[str], tags: list[str], *, count: int, limit: int, taken: dict[str, int]
) -> list[str]:
    """Members: walk the drawn order, keep an expert unless their employer already has `limit` seats
    (`taken` counts seats across groups and is updated). Pure, so `verify` re-derives it."""
    members = []
    for expert_id, tag in zip(order, tags, strict=True):
        if len(members) == count:
            break
        if limit and taken.get(tag, 0) >= limit:
            continue
        members.append(expert_id)
        taken[tag] = taken.get(tag, 0) + 1
    return members


def public_id(pk: int) -> str:
    """Expert.public_id without building a model instance (the pool can hold 100 000)."""
    return f"E{pk:08d}"


def _rank(
    seed: bytes,
    nonce: str,
    pool: list[str],
    tag_of,
    *,
    gdigest: str,
    count: int,
    reserves: int,
    limit: int,
    taken: dict[str, int],
) -> tuple[list[str], list[str], str]:
    """Rank a prefix long enough for `count` members under the employer limit plus `reserves`;
    returns the order, the members and the pool digest. `tag_of(ids)` gives the employer tags of
    the ranked ids (fetched only for them)."""
    length = min(len(pool), count + reserves)
    while True:
        drawn = core_draw.draw(
            seed=seed, nonce=nonce, pool=pool, request_digest=gdigest, count=count, reserves=length - count
        )
        order = drawn.order
        trial = dict(taken)
        members = select_members(order, tag_of(order), count=count, limit=limit, taken=trial)
        waiting = len(order) - len(members)
        if (len(members) == count and waiting >= reserves) or length == len(pool):
            taken.clear()
            taken.update(trial)
            return order, members, drawn.pool_digest
        length = min(len(pool), length * 2)


def _notify(users_links: list[tuple[int, str, str, str]]) -> None:
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(user_id=u, kind=k, subject=s, link=link, created_at=now)
            for u, k, s, link in users_links
        ]
    )


def _call(assignment: Assignment, *, at: dt.datetime, replaces: Assignment | None) -> None:
    assignment.status = Assignment.Status.NOTIFIED
    assignment.called_at = at
    assignment.reply_due_at = at + dt.timedelta(minutes=int(rules.setting("reply_minutes")))
    assignment.replaces = replaces
    assignment.save(update_fields=["status", "called_at", "reply_due_at", "replaces"])
    starts = assignment.draw.request["evaluation_starts_at"]
    # The notice names the time only: which project it is stays sealed until the room opens.
    subject = _("You have been drawn for an evaluation starting %(at)s; please reply by %(due)s.") % {
        "at": timezone.localtime(dt.datetime.fromisoformat(starts)).strftime("%Y-%m-%d %H:%M"),
        "due": timezone.localtime(assignment.reply_due_at).strftime("%Y-%m-%d %H:%M"),
    }
    user_id = assignment.expert.user_id
    transaction.on_commit(lambda: _notify([(user_id, "experts.drawn", subject, "/experts/my/draws/")]))


def _check_supervisor(actor: User, draw: Draw) -> None:
    if actor.role not in (Role.REGULATOR, Role.CENTRE, Role.ADMIN):
        raise AccessDenied(_("Only a supervisor may start the draw."), code="role_forbidden")
    if actor.pk == draw.requested_by_id:
        raise AccessDenied(
            _("The supervisor's nonce must come from someone other than who requested the draw."),
            code="draw_supervisor_is_requester",
        )
