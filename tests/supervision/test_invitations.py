"""Social supervisors invited to watch (issue 7 item 1): invited by name or drawn at random from the pool
by a regulator supervising the tender; the invitation — and only a live one, for its stage — lets the
supervisor into the opening hall or the evaluation room read-only, without the bids' contents or the
experts' names."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from archive.models import JournalEntry
from bidding.opening import rules as hall_rules
from bidding.opening import selectors as hall
from core.errors import AccessDenied, Conflict, ValidationFailed
from experts import selectors_evaluation as room
from supervision.models import Invitation, SocialSupervisor
from supervision.services import department_create, member_add
from supervision.services.invitations import (
    invitation_create,
    invitation_draw,
    invitation_revoke,
    social_supervisor_add,
)
from tests.bidding.opening_world import hall_world
from tests.experts.room_world import room_world
from tests.factories import BidderUserFactory, UserFactory
from trading.models import Notification, Role, TenderState

pytestmark = pytest.mark.django_db


def supervisor(admin, name: str) -> SocialSupervisor:
    user = UserFactory(role=Role.SUPERVISOR, first_name=name)
    return social_supervisor_add(actor=admin, name=name, kind="deputy", affiliation="市人大", user=user)


@pytest.fixture
def admin():
    return UserFactory(role=Role.ADMIN)


def test_an_invited_supervisor_watches_the_opening_read_only_until_the_invitation_is_withdrawn(admin, clock):
    world = hall_world(clock=clock)
    deputy = supervisor(admin, "李代表")
    with pytest.raises(AccessDenied) as exc:
        hall.hall_access(user=deputy.user, lot=world.lot)  # not invited: no place in the hall
    assert exc.value.code == "hall_forbidden"

    invitation = invitation_create(
        actor=world.regulator, tender=world.tender, supervisor=deputy, stage="opening"
    )
    assert hall.hall_access(user=deputy.user, lot=world.lot) == hall_rules.OBSERVER
    state = hall.hall_state(user=deputy.user, lot=world.lot, role=hall_rules.OBSERVER)
    assert state["me"].get("bid") is None  # an observer has no bid of its own to see
    assert Notification.objects.filter(user=deputy.user, kind="invitation").exists()
    entry = JournalEntry.objects.get(stream=world.tender.stream, action="supervision.supervisor_invited")
    assert entry.payload["supervisor"] == deputy.pk and entry.payload["stage"] == "opening"

    # an invitation to the evaluation does not open the hall, and a withdrawn one closes it again
    other = supervisor(admin, "王委员")
    invitation_create(actor=world.regulator, tender=world.tender, supervisor=other, stage="evaluation")
    with pytest.raises(AccessDenied):
        hall.hall_access(user=other.user, lot=world.lot)
    invitation_revoke(actor=world.regulator, invitation=invitation)
    with pytest.raises(AccessDenied):
        hall.hall_access(user=deputy.user, lot=world.lot)


def test_an_invited_supervisor_sees_the_evaluation_process_but_not_bids_scores_or_names(admin, clock):
    world = room_world(clock=clock)
    deputy = supervisor(admin, "李代表")
    with pytest.raises(AccessDenied) as exc:
        room.room_access(user=deputy.user, lot=world.lot)
    assert exc.value.code == "room_forbidden"
    invitation_create(actor=world.regulator, tender=world.tender, supervisor=deputy, stage="evaluation")
    viewer = room.room_access(user=deputy.user, lot=world.lot)
    assert viewer.role == room.WATCHER
    state = room.room_state(viewer=viewer)
    assert state["bids"] == [] and state["criteria"] is None and state["mine"] is None
    assert state["me"]["may_act"] is False
    assert state["seats"] and all(seat["name"] is None for seat in state["seats"])
    assert state["report"] is None or state["report"]["data"] is None
    # the regulator sees the experts' names; the watcher's view is strictly less
    regulator_state = room.room_state(viewer=room.room_access(user=world.regulator, lot=world.lot))
    assert any(seat["name"] for seat in regulator_state["seats"])


def test_a_random_draw_takes_among_those_not_yet_invited_and_refuses_an_exhausted_pool(admin, clock):
    world = hall_world(clock=clock, bids=0)
    pool = [supervisor(admin, f"代表{i}") for i in range(3)]
    SocialSupervisor.objects.filter(pk=pool[2].pk).update(active=False)  # an inactive one is never drawn
    first = invitation_draw(actor=world.regulator, tender=world.tender, stage="opening", count=1)
    assert len(first) == 1 and first[0].supervisor in pool[:2]
    entry = JournalEntry.objects.filter(
        stream=world.tender.stream, action="supervision.supervisor_invited"
    ).get()
    assert entry.payload["drawn"] == {"candidates": 2, "count": 1}
    second = invitation_draw(actor=world.regulator, tender=world.tender, stage="opening", count=1)
    assert {first[0].supervisor, second[0].supervisor} == set(pool[:2])
    with pytest.raises(Conflict) as exc:
        invitation_draw(actor=world.regulator, tender=world.tender, stage="opening", count=1)
    assert exc.value.code == "pool_exhausted"
    assert Invitation.objects.filter(tender=world.tender).count() == 2
    with pytest.raises(Conflict) as exc:
        invitation_create(actor=world.regulator, tender=world.tender, supervisor=pool[0], stage="opening")
    assert exc.value.code == "already_invited"


def test_only_a_supervising_regulator_invites_and_bad_input_writes_nothing(admin, clock, settings):
    settings.SUPERVISION_UNATTACHED_REGULATORS = "none"
    world = hall_world(clock=clock, bids=0, region_code="450102")
    elsewhere = department_create(actor=admin, name="柳州市住建局", kind="industry", region_code="450200")
    outsider = UserFactory(role=Role.REGULATOR)
    member_add(actor=admin, department=elsewhere, user=outsider)
    deputy = supervisor(admin, "李代表")
    for actor in (outsider, BidderUserFactory(), UserFactory(role=Role.CENTRE), world.regulator):
        with pytest.raises(AccessDenied) as exc:
            invitation_create(actor=actor, tender=world.tender, supervisor=deputy, stage="opening")
        assert exc.value.code == "forbidden"
    with pytest.raises(ValidationFailed) as exc:
        invitation_create(actor=admin, tender=world.tender, supervisor=deputy, stage="award")
    assert exc.value.code == "stage_invalid"
    with pytest.raises(ValidationFailed) as exc:
        invitation_draw(actor=admin, tender=world.tender, stage="opening", count=9)
    assert exc.value.code == "count_invalid"
    world.tender.state = TenderState.AWARDED
    world.tender.save(update_fields=["state"])
    with pytest.raises(Conflict) as exc:
        invitation_create(actor=admin, tender=world.tender, supervisor=deputy, stage="opening")
    assert exc.value.code == "stage_not_watchable"
    with pytest.raises(ValidationFailed) as exc:
        social_supervisor_add(actor=admin, name="张三", kind="deputy", user=UserFactory(role=Role.EXPERT))
    assert exc.value.code == "account_role_invalid"
    assert not Invitation.objects.exists()
    assert SocialSupervisor.objects.count() == 1


def test_the_pages_invite_draw_and_lead_the_supervisor_into_the_hall(admin, clock):
    world = hall_world(clock=clock, bids=0)
    deputy = supervisor(admin, "李代表")
    regulator = Client()
    regulator.force_login(world.regulator)
    page = regulator.get(reverse("supervision:tender_invitations", args=[world.tender.pk]))
    assert page.status_code == 200 and f'value="{deputy.pk}"'.encode() in page.content
    response = regulator.post(
        reverse("supervision:invite", args=[world.tender.pk]), {"supervisor": "random", "stage": "opening"}
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get(tender=world.tender)
    assert invitation.supervisor == deputy
    refused = regulator.post(
        reverse("supervision:invite", args=[world.tender.pk]), {"supervisor": "x", "stage": "opening"}
    )
    assert refused.status_code == 400 and b"supervisor_invalid" in refused.content

    watcher = Client()
    watcher.force_login(deputy.user)
    mine = watcher.get(reverse("supervision:invitation_list"))
    assert mine.status_code == 200
    assert reverse("bidding:opening", args=[world.lot.pk]).encode() in mine.content
    assert watcher.get(reverse("bidding:opening", args=[world.lot.pk])).status_code == 200
    assert watcher.get(reverse("supervision:tender_invitations", args=[world.tender.pk])).status_code == 403
    response = regulator.post(reverse("supervision:invitation_revoke", args=[invitation.pk]))
    assert response.status_code == 302
    assert watcher.get(reverse("bidding:opening", args=[world.lot.pk])).status_code == 403
