"""The pool of social supervisors and their invitations to watch an opening or an evaluation, read-only
(issue 7 item 1; DOMAIN A4: deputies and committee members drawn from a pool).

An administrator keeps the pool (a supervisor signs in with an account of the role `supervisor`). A
regulator supervising a tender invites someone by name, or draws at random among those not yet invited
(system randomness, journalled with the candidates counted). The invitation lets the supervisor into the
lot's opening hall or evaluation room as an observer: the process, never the bids' contents or the
experts' names. Every write is validated, transactional, journalled in the tender's stream.
"""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.journal import journal_append
from core.errors import AccessDenied, Conflict, ValidationFailed
from supervision.models import Invitation, SocialSupervisor
from supervision.selectors import may_supervise
from trading.models import Notification, Role, Tender, TenderState, User

WATCHABLE = {
    Invitation.Stage.OPENING: {TenderState.PUBLISHED, TenderState.OPENING},
    Invitation.Stage.EVALUATION: {TenderState.PUBLISHED, TenderState.OPENING, TenderState.EVALUATION},
}


def _admin(actor) -> None:
    if getattr(actor, "role", None) != Role.ADMIN:
        raise AccessDenied(_("Only an administrator keeps the pool of social supervisors."), code="forbidden")


def social_supervisor_add(
    *, actor, name: str, kind: str, affiliation: str = "", user: User | None = None
) -> SocialSupervisor:
    _admin(actor)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed(
            _("Give the supervisor's name."), code="name_invalid", fields={"name": "invalid"}
        )
    if kind not in SocialSupervisor.Kind.values:
        raise ValidationFailed(_("Not a kind of social supervisor."), code="kind_invalid")
    if user is not None and user.role != Role.SUPERVISOR:
        raise ValidationFailed(
            _("A social supervisor signs in with a social supervisor's account."), code="account_role_invalid"
        )
    with transaction.atomic():
        if user is not None and SocialSupervisor.objects.filter(user=user).exists():
            raise Conflict(_("This account already belongs to a social supervisor."), code="account_taken")
        supervisor = SocialSupervisor.objects.create(
            name=name, kind=kind, affiliation=(affiliation or "").strip()[:200], user=user
        )
        journal_append(
            stream="supervision",
            action="supervision.social_supervisor_added",
            actor=actor,
            obj=supervisor,
            payload={"name": name, "kind": kind},
        )
    return supervisor


def _inviter(actor, tender: Tender) -> None:
    if getattr(actor, "role", None) == Role.ADMIN:
        return
    if getattr(actor, "role", None) != Role.REGULATOR or not may_supervise(actor, tender):
        raise AccessDenied(
            _("Only a department supervising this tender invites social supervisors."), code="forbidden"
        )


def _stage(tender: Tender, stage: str) -> str:
    if stage not in Invitation.Stage.values:
        raise ValidationFailed(_("Invite to the opening or to the evaluation."), code="stage_invalid")
    if tender.state not in WATCHABLE[stage]:
        raise Conflict(
            _("This stage of the tender is over or not yet due."),
            code="stage_not_watchable",
            state=tender.state,
        )
    return stage


def _create(
    *, actor, tender: Tender, supervisor: SocialSupervisor, stage: str, drawn: dict | None
) -> Invitation:
    now = timezone.now()
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                tender=tender, supervisor=supervisor, stage=stage, invited_by=actor, invited_at=now
            )
    except IntegrityError:
        raise Conflict(
            _("This supervisor is already invited to this stage."), code="already_invited"
        ) from None
    journal_append(
        stream=tender.stream,
        action="supervision.supervisor_invited",
        actor=actor,
        obj=invitation,
        payload={"supervisor": supervisor.pk, "name": supervisor.name, "stage": stage, "drawn": drawn},
    )
    if supervisor.user_id:
        Notification.objects.create(
            user_id=supervisor.user_id,
            kind="invitation",
            subject=(_("You are invited to watch: %(t)s") % {"t": tender.title})[:200],
            link="/supervision/invitations/",
            created_at=now,
        )
    return invitation


def invitation_create(*, actor, tender: Tender, supervisor: SocialSupervisor, stage: str) -> Invitation:
    _inviter(actor, tender)
    stage = _stage(tender, stage)
    if not supervisor.active or supervisor.user_id is None:
        raise ValidationFailed(
            _("Only an active supervisor with an account can be invited."), code="supervisor_unavailable"
        )
    with transaction.atomic():
        return _create(actor=actor, tender=tender, supervisor=supervisor, stage=stage, drawn=None)


def invitation_draw(*, actor, tender: Tender, stage: str, count: int = 1) -> list[Invitation]:
    """Draw `count` supervisors at random among the active ones not yet invited to this stage."""
    _inviter(actor, tender)
    stage = _stage(tender, stage)
    if not isinstance(count, int) or not 1 <= count <= 5:
        raise ValidationFailed(_("Draw one to five supervisors."), code="count_invalid")
    with transaction.atomic():
        taken = Invitation.objects.filter(tender=tender, stage=stage, revoked_at__isnull=True).values(
            "supervisor_id"
        )
        candidates = list(
            SocialSupervisor.objects.filter(active=True, user__isnull=False, user__is_active=True)
            .exclude(pk__in=taken)
            .order_by("pk")
        )
        if len(candidates) < count:
            raise Conflict(
                _("Not enough social supervisors are available to draw from."),
                code="pool_exhausted",
                available=len(candidates),
            )
        chosen = secrets.SystemRandom().sample(candidates, count)
        drawn = {"candidates": len(candidates), "count": count}
        return [
            _create(actor=actor, tender=tender, supervisor=s, stage=stage, drawn=drawn)
            for s in sorted(chosen, key=lambda s: s.pk)
        ]


def invitation_revoke(*, actor, invitation: Invitation) -> Invitation:
    _inviter(actor, invitation.tender)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.revoked_at is not None:
            raise Conflict(_("This invitation has been withdrawn."), code="invitation_revoked")
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        journal_append(
            stream=invitation.tender.stream,
            action="supervision.invitation_revoked",
            actor=actor,
            obj=invitation,
            payload={"supervisor": invitation.supervisor_id, "stage": invitation.stage},
        )
    return invitation
