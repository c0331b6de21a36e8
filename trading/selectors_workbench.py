"""Read-side queries of the signed-in pages (workbench, registry, tender management), each with
its joins inside, so that the views only parse, authorize, call and render.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from trading.access import tenders_in_jurisdiction
from trading.models import (
    Announcement,
    AnnouncementAttachment,
    CreditRecord,
    DocumentDownload,
    EntityStatus,
    EntityVersion,
    MarketEntity,
    Notification,
    Role,
    Tender,
    TenderState,
    User,
)
from trading.selectors import credit_active, entities_public

# --- notifications ---------------------------------------------------------------------------------


def notification_list_for_user(*, user: User) -> QuerySet[Notification]:
    """What the user's workbench shows: its own messages and those addressed to its whole entity."""
    qs = Notification.objects.filter(user=user)
    if user.entity_id:
        qs = Notification.objects.filter(Q(user=user) | Q(entity_id=user.entity_id))
    return qs.order_by("-created_at", "-id")


# --- tenders ---------------------------------------------------------------------------------------


def tender_list_managed(*, entity_id: int) -> QuerySet[Tender]:
    """The tenders an entity runs, as agency or as tenderee, by deadline."""
    return Tender.objects.filter(Q(agency_id=entity_id) | Q(tenderee_id=entity_id)).order_by("deadline", "id")


def tender_groups_by_state(tenders) -> list[dict]:
    """Tenders grouped in the order of the state machine, empty states left out."""
    groups: dict[str, list[Tender]] = {}
    for tender in tenders:
        groups.setdefault(tender.state, []).append(tender)
    return [
        {"state": value, "label": label, "tenders": groups[value]}
        for value, label in TenderState.choices
        if value in groups
    ]


def tender_state_counts() -> list[dict]:
    """How many tenders are in each state (every state listed, zeros included), in one query."""
    counts = dict(Tender.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    return [
        {"state": value, "label": label, "count": counts.get(value, 0)}
        for value, label in TenderState.choices
    ]


def tender_list_for_user(*, user: User, state: str = "") -> QuerySet[Tender]:
    """The workbench list of tenders: agencies see their own, bidders what is open or theirs.

    Call after checking the role; centre and admin see every tender, a regulator those it supervises.
    """
    qs = Tender.objects.select_related("tenderee", "agency")
    if user.role == Role.AGENCY:
        qs = qs.filter(Q(agency_id=user.entity_id) | Q(tenderee_id=user.entity_id))
    elif user.role == Role.REGULATOR:
        # A regulator works on the tenders its departments supervise (issue 7); published ones remain
        # readable one by one on the public portal.
        qs = qs.filter(pk__in=tenders_in_jurisdiction(user).values("pk"))
    elif user.role == Role.BIDDER:
        # Bidders see what is open for bids and what they took part in; never drafts.
        qs = qs.filter(Q(state=TenderState.PUBLISHED) | Q(downloads__entity_id=user.entity_id)).distinct()
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def tender_announcements_for_staff(*, tender: Tender, include_unpublished: bool) -> QuerySet[Announcement]:
    """The tender's announcements, newest first; drafts and withdrawn ones only for its staff."""
    qs = tender.announcements.order_by("-published_at", "-id")
    if not include_unpublished:
        qs = qs.filter(state=Announcement.State.PUBLISHED)
    return qs


def tender_documents_published(*, tender: Tender) -> QuerySet[AnnouncementAttachment]:
    """The tender documents (not other attachments) of the tender's published announcements."""
    return (
        AnnouncementAttachment.objects.filter(
            announcement__tender=tender,
            announcement__state=Announcement.State.PUBLISHED,
            is_tender_document=True,
        )
        .select_related("blob", "announcement")
        .order_by("announcement__published_at", "id")
    )


def document_download_get(*, tender: Tender, entity_id: int | None) -> DocumentDownload | None:
    """The entity's registration as a holder of the tender documents (None: not obtained)."""
    return DocumentDownload.objects.filter(tender=tender, entity_id=entity_id).first()


def document_obtained(*, tender: Tender, entity_id: int | None) -> bool:
    """Whether the entity obtained the tender documents (an EXISTS query, no row fetched)."""
    return DocumentDownload.objects.filter(tender=tender, entity_id=entity_id).exists()


def document_downloads_of_entity(*, entity: MarketEntity) -> QuerySet[DocumentDownload]:
    """The tender documents an entity obtained, latest first."""
    return DocumentDownload.objects.filter(entity=entity).select_related("tender").order_by("-first_at")


def entity_choices_verified(**flags) -> list[tuple[int, str]]:
    """(pk, "name (uscc)") of verified entities with the given role flags, for a select."""
    qs = MarketEntity.objects.filter(status=EntityStatus.VERIFIED, **flags).order_by("name")
    return [(e.pk, f"{e.name} ({e.uscc})") for e in qs.only("pk", "name", "uscc")]


# --- the registry ------------------------------------------------------------------------------------


def entity_search(*, reads_all: bool, status: str = "", q: str = "") -> QuerySet[MarketEntity]:
    """Entities by name or exact credit code; only verified ones unless the reader `reads_all`."""
    qs = MarketEntity.objects.all() if reads_all else entities_public()
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(uscc=q.upper()))
    return qs.order_by("name", "id")


def entity_registrations_pending() -> QuerySet[MarketEntity]:
    """Registrations awaiting the centre's verification, oldest first."""
    return (
        MarketEntity.objects.filter(status=EntityStatus.PENDING)
        .select_related("legal_rep")
        .order_by("created_at", "id")
    )


def entity_changes_pending() -> QuerySet[EntityVersion]:
    """Change proposals awaiting a decision, oldest first (registrations are verified, not decided)."""
    return (
        EntityVersion.objects.filter(state=EntityVersion.State.PROPOSED)
        .exclude(reason="registration")
        .select_related("entity", "submitted_by")
        .order_by("submitted_at", "id")
    )


def entity_changes_proposed(*, entity: MarketEntity) -> QuerySet[EntityVersion]:
    """One entity's proposals still undecided, its registration included."""
    return entity.versions.filter(state=EntityVersion.State.PROPOSED).order_by("submitted_at")


def entity_versions(*, entity: MarketEntity) -> QuerySet[EntityVersion]:
    """Every version of an entity's registration, oldest first, with who proposed and decided it."""
    return entity.versions.select_related("submitted_by", "decided_by").order_by("submitted_at", "id")


# --- credit and the blacklist ----------------------------------------------------------------------


def credit_records_of_entity(*, entity: MarketEntity) -> QuerySet[CreditRecord]:
    """Every credit record of an entity, revoked and expired ones included, newest first."""
    return entity.credit_records.select_related("decided_by").order_by("-starts_on", "-id")


def credit_records_latest() -> QuerySet[CreditRecord]:
    """Credit records of the whole market, latest decision first."""
    return CreditRecord.objects.select_related("entity", "person").order_by("-decided_at", "-id")


def blacklist_active() -> QuerySet[CreditRecord]:
    """Records that bar participation today, the one ending first on top (DOMAIN C11, D4)."""
    return (
        credit_active()
        .filter(blocks_participation=True)
        .select_related("entity", "person")
        .order_by("ends_on", "id")
    )


# --- accounts --------------------------------------------------------------------------------------


def user_role_counts() -> list[dict]:
    """How many accounts hold each role (every role listed, zeros included)."""
    counts = dict(User.objects.values_list("role").annotate(n=Count("id")).values_list("role", "n"))
    return [{"role": v, "label": label, "count": counts.get(v, 0)} for v, label in Role.choices]
