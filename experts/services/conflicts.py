"""Who may be drawn for a lot: the eligibility filters and the conflict exclusions (DOMAIN C1, C4, C5).

Two steps. `candidates` applies the request's filters (specialty, main flag, region include/exclude,
status and suspension period, age cap, remote consent); those are properties of the request, not
conflicts, and are not itemised. `exclusions` then names, per expert, every conflict with the
parties of the lot — each bidder (bids, and before the deadline every holder of the documents), the
tenderee and the agency — from the registry and from what experts declared:

  employee            current employer is a party (by registry row or credit code)
  recent_employee     worked for a party within the last `recent_employment_years` (C5: 3 years)
  director            legal representative, director, supervisor or senior manager of a party
                      (within the same 3 years)
  shareholder         a shareholder or actual controller of a party
  kin                 a declared relative holds one of those positions or shares in a party
  declared_conflict   a relationship the expert declared with a party
  agency_staff        works for the lot's agency (87号令45: not on its own projects)
  sanctioned          a credit record that bars the person, in force at the evaluation
  unavailable         the availability calendar blocks the evaluation time
  busy                already committed to another evaluation at that time
  tenderee_frequency  drawn for this tenderee `tenderee_limit` times within the window

Each check is one indexed query, so the cost follows the number of parties and conflicts, not
the size of the pool (bench/bench_draw.py measures it against 100 000 experts and 50 bidders).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bidding.models import Bid
from experts import rules
from experts.models import Assignment, Employment, Expert, ExpertSpecialty, Relationship, Unavailability
from trading.models import CreditRecord, DocumentDownload, Lot, Position, PositionRole, Shareholder

EMPLOYEE = "employee"
RECENT_EMPLOYEE = "recent_employee"
DIRECTOR = "director"
SHAREHOLDER = "shareholder"
KIN = "kin"
DECLARED = "declared_conflict"
AGENCY_STAFF = "agency_staff"
SANCTIONED = "sanctioned"
UNAVAILABLE = "unavailable"
BUSY = "busy"
TENDEREE_FREQUENCY = "tenderee_frequency"
SAME_EMPLOYER = "same_employer_limit"  # applied while walking the drawn order (draw.py)

REASONS = (
    EMPLOYEE,
    RECENT_EMPLOYEE,
    DIRECTOR,
    SHAREHOLDER,
    KIN,
    DECLARED,
    AGENCY_STAFF,
    SANCTIONED,
    UNAVAILABLE,
    BUSY,
    TENDEREE_FREQUENCY,
    SAME_EMPLOYER,
)

REASON_LABELS = {
    EMPLOYEE: _("works for a bidder, the tenderee or the agency"),
    RECENT_EMPLOYEE: _("worked for a party within three years"),
    DIRECTOR: _("officer of a party"),
    SHAREHOLDER: _("shareholder of a party"),
    KIN: _("relative of a party's officer or shareholder"),
    DECLARED: _("declared conflict with a party"),
    AGENCY_STAFF: _("staff of the tender's agency"),
    SANCTIONED: _("barred by a credit record"),
    UNAVAILABLE: _("unavailable at the evaluation time"),
    BUSY: _("in another evaluation at that time"),
    TENDEREE_FREQUENCY: _("drawn for this tenderee too often"),
    SAME_EMPLOYER: _("employer limit reached"),
}

_OFFICERS = (PositionRole.LEGAL_REP, PositionRole.DIRECTOR, PositionRole.SUPERVISOR, PositionRole.MANAGER)


@dataclass
class Parties:
    """The entities whose people an expert must not be linked to, and those people."""

    entity_ids: set[int] = field(default_factory=set)
    usccs: set[str] = field(default_factory=set)
    officer_person_ids: set[int] = field(default_factory=set)
    shareholder_person_ids: set[int] = field(default_factory=set)
    person_digests: set[str] = field(default_factory=set)
    agency_id: int | None = None
    agency_uscc: str = ""
    tenderee_id: int | None = None


def lot_parties(lot: Lot, *, at: dt.datetime) -> Parties:
    """Bidders (with a live bid; before the deadline also every holder of the documents), the tenderee
    and the agency, with their officers (3 years back) and shareholders."""
    tender = lot.tender
    entity_ids = set(
        Bid.objects.filter(lot=lot).exclude(status=Bid.Status.WITHDRAWN).values_list("entity_id", flat=True)
    )
    if at < tender.deadline:
        entity_ids |= set(DocumentDownload.objects.filter(tender=tender).values_list("entity_id", flat=True))
    entity_ids.add(tender.tenderee_id)
    if tender.agency_id:
        entity_ids.add(tender.agency_id)
    from trading.models import MarketEntity

    entities = list(MarketEntity.objects.filter(pk__in=entity_ids).values("pk", "uscc", "legal_rep_id"))
    since = timezone.localdate(at) - dt.timedelta(days=365 * int(rules.setting("recent_employment_years")))
    officers = set(
        Position.objects.filter(entity_id__in=entity_ids, role__in=_OFFICERS)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=since))
        .values_list("person_id", flat=True)
    )
    officers |= {e["legal_rep_id"] for e in entities if e["legal_rep_id"]}
    holders = set(
        Shareholder.objects.filter(entity_id__in=entity_ids, person__isnull=False).values_list(
            "person_id", flat=True
        )
    )
    from trading.models import Person

    digests = set(Person.objects.filter(pk__in=officers | holders).values_list("id_digest", flat=True))
    agency = tender.agency
    return Parties(
        entity_ids=entity_ids,
        usccs={e["uscc"] for e in entities},
        officer_person_ids=officers,
        shareholder_person_ids=holders,
        person_digests=digests,
        agency_id=tender.agency_id,
        agency_uscc=agency.uscc if agency else "",
        tenderee_id=tender.tenderee_id,
    )


def _region_q(codes, field_name: str = "region_code") -> Q:
    """A region code matches itself and every code under it: "45" (province), "4501" (city)."""
    q = Q()
    for code in codes:
        q |= Q(**{f"{field_name}__startswith": code.rstrip("0") or code})
    return q


def candidates(*, group: dict, request: dict, lot: Lot) -> list[int]:
    """Pks of every expert matching the group's specialty and the request's filters, in pk order.

    Only pks are fetched: at 100 000 experts the row materialisation is most of the cost; employer
    keys are fetched afterwards for the few experts the draw ranks (`employer_keys`)."""
    starts = dt.datetime.fromisoformat(request["evaluation_starts_at"])
    ends = dt.datetime.fromisoformat(request["evaluation_ends_at"])
    day_from, day_to = timezone.localdate(starts), timezone.localdate(ends)
    # One indexed range scan of the links table, joined to the experts: the code prefix as a key
    # range (the link's key *is* the code), so neither the specialty table nor a subquery is read.
    code = group["specialty"]
    qs = ExpertSpecialty.objects.filter(specialty_id__gte=code, specialty_id__lt=code + "\U0010ffff")
    if group.get("main_only", True):
        qs = qs.filter(is_main=True)
    # Suspended experts come back once their period is over before the evaluation (or starts after it).
    qs = qs.filter(
        Q(expert__status=Expert.Status.ACTIVE)
        | Q(expert__status=Expert.Status.SUSPENDED, expert__suspended_until__lt=day_from)
        | Q(expert__status=Expert.Status.SUSPENDED, expert__suspended_from__gt=day_to)
    )
    if request.get("region_include"):
        qs = qs.filter(_region_q(request["region_include"], "expert__region_code"))
    if request.get("region_exclude"):
        qs = qs.exclude(_region_q(request["region_exclude"], "expert__region_code"))
    cap = request.get("age_cap")
    if cap:
        qs = qs.filter(
            Q(expert__birth_year__isnull=True) | Q(expert__birth_year__gte=day_from.year - int(cap))
        )
    province = lot.tender.region_code[:2]
    qs = qs.filter(Q(expert__remote_ok=True) | Q(expert__region_code__startswith=province))
    pks = qs.order_by("expert_id").values_list("expert_id", flat=True)
    if not group.get("main_only", True):
        pks = pks.distinct()
    # The compiled query on a plain cursor: at 100 000 rows the ORM's per-row iteration is a third
    # of the cost, and the ints need no conversion.
    sql, params = pks.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _employer_key(pk: int, employer_id, uscc: str, name: str) -> str:
    if uscc:
        return "uscc:" + uscc.upper()
    if employer_id:
        return f"entity:{employer_id}"
    if name.strip():
        return "name:" + "".join(name.split())
    return f"self:{pk}"  # no employer on record: nobody shares it


def employer_keys(pks) -> dict[int, str]:
    """pk → employer key (credit code, registry row or name; else the expert alone) for the
    same-employer limit."""
    rows = Expert.objects.filter(pk__in=list(pks)).values_list(
        "pk", "employer_id", "employer_uscc", "employer_name"
    )
    return {pk: _employer_key(pk, employer_id, uscc, name) for pk, employer_id, uscc, name in rows}


def exclusions(*, expert_ids: set[int], lot: Lot, request: dict, at: dt.datetime) -> dict[int, list[str]]:
    """expert pk → sorted reasons, for the experts of `expert_ids` that must not sit on the lot."""
    if not expert_ids:
        return {}
    parties = lot_parties(lot, at=at)
    starts = dt.datetime.fromisoformat(request["evaluation_starts_at"])
    ends = dt.datetime.fromisoformat(request["evaluation_ends_at"])
    out: dict[int, set[str]] = defaultdict(set)

    def mark(reason: str, found) -> None:
        for pk in found:
            if pk in expert_ids:
                out[pk].add(reason)

    # Every query starts from the parties (a few hundred rows at most), never from the pool: the
    # candidate set is intersected in Python by `mark`.
    experts = Expert.objects.all()
    mark(
        EMPLOYEE,
        experts.filter(
            Q(employer_id__in=parties.entity_ids) | Q(employer_uscc__in=parties.usccs)
        ).values_list("pk", flat=True),
    )
    since = timezone.localdate(at) - dt.timedelta(days=365 * int(rules.setting("recent_employment_years")))
    mark(
        RECENT_EMPLOYEE,
        Employment.objects.filter(Q(employer_id__in=parties.entity_ids) | Q(employer_uscc__in=parties.usccs))
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=since))
        .values_list("expert_id", flat=True),
    )
    mark(DIRECTOR, experts.filter(person_id__in=parties.officer_person_ids).values_list("pk", flat=True))
    mark(
        SHAREHOLDER, experts.filter(person_id__in=parties.shareholder_person_ids).values_list("pk", flat=True)
    )
    people = parties.officer_person_ids | parties.shareholder_person_ids
    mark(
        KIN,
        Relationship.objects.filter(kind=Relationship.Kind.KIN, withdrawn_at__isnull=True)
        .filter(Q(person_id__in=people) | Q(person_id_digest__in=parties.person_digests))
        .values_list("expert_id", flat=True),
    )
    mark(
        DECLARED,
        Relationship.objects.filter(
            Q(entity_id__in=parties.entity_ids) | Q(entity_uscc__in=parties.usccs), withdrawn_at__isnull=True
        ).values_list("expert_id", flat=True),
    )
    if parties.agency_id:
        agency = Q(employer_id=parties.agency_id)
        if parties.agency_uscc:
            agency |= Q(employer_uscc=parties.agency_uscc)
        mark(AGENCY_STAFF, experts.filter(agency).values_list("pk", flat=True))
    day = timezone.localdate(starts)
    barred = CreditRecord.objects.filter(
        blocks_participation=True, starts_on__lte=day, person__isnull=False
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
    barred = barred.filter(revoked_at__isnull=True)
    mark(SANCTIONED, experts.filter(person_id__in=barred.values("person_id")).values_list("pk", flat=True))
    mark(
        UNAVAILABLE,
        Unavailability.objects.filter(starts_at__lt=ends, ends_at__gt=starts).values_list(
            "expert_id", flat=True
        ),
    )
    live = Assignment.objects.filter(
        status__in=(Assignment.Status.NOTIFIED, Assignment.Status.CONFIRMED)
    ).exclude(draw__lot=lot)
    busy = []
    for expert_id, other in live.values_list("expert_id", "draw__request"):
        o_starts = dt.datetime.fromisoformat(other["evaluation_starts_at"])
        o_ends = dt.datetime.fromisoformat(other["evaluation_ends_at"])
        if o_starts < ends and o_ends > starts:
            busy.append(expert_id)
    mark(BUSY, busy)
    limit = int(request.get("tenderee_limit") or 0)
    if limit and parties.tenderee_id:
        window = at - dt.timedelta(days=int(request.get("tenderee_window_days") or 0))
        counts: dict[int, int] = defaultdict(int)
        for expert_id in (
            Assignment.objects.filter(
                draw__lot__tender__tenderee_id=parties.tenderee_id,
                draw__drawn_at__gte=window,
                status__in=(Assignment.Status.NOTIFIED, Assignment.Status.CONFIRMED),
            )
            .exclude(draw__lot=lot)
            .values_list("expert_id", flat=True)
        ):
            counts[expert_id] += 1
        mark(TENDEREE_FREQUENCY, [pk for pk, n in counts.items() if n >= limit])
    return {pk: sorted(reasons) for pk, reasons in out.items()}
