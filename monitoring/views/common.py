"""What the monitoring pages share: who may read and act, the labels of indicators and node kinds, the
parsing of form values into typed arguments (refusing garbage with a stable code), and the rows an alert
shows (indicators with their parties' names, evidence paths spelled out with the graph's labels)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import NotFound, ValidationFailed
from monitoring.models import Alert
from trading.access import require_role, tender_access_supervise
from trading.models import MarketEntity, Role, User

READERS = (Role.CENTRE, Role.REGULATOR, Role.ADMIN)
ACTORS = (Role.REGULATOR, Role.ADMIN)
SANCTIONS = ("none", "warning", "fine", "disqualification")

INDICATOR_LABELS = {
    "same_preparer": gettext_lazy("Bids prepared by the same unit or person"),
    "same_agent": gettext_lazy("The same unit or person handles the bids"),
    "same_manager_or_contact": gettext_lazy("The same project manager or contact person"),
    "identical_documents": gettext_lazy("Abnormally identical bid documents"),
    "regular_prices": gettext_lazy("Prices differ with a regular pattern"),
    "mixed_files": gettext_lazy("Bid documents mixed up with another bidder's"),
    "same_deposit_account": gettext_lazy("Bid securities paid from the same account"),
    "same_legal_rep_or_control": gettext_lazy("The same legal representative or a control relationship"),
    "tenderee_collusion": gettext_lazy("A bidder shares a person, device or account with the tenderee"),
    "same_ip": gettext_lazy("Bids uploaded or decrypted from the same IP address"),
    "linked_parties": gettext_lazy("Bidders linked through people, devices or accounts"),
    "shared_typos": gettext_lazy("Shared rare passages or typos"),
    "clustered_uploads": gettext_lazy("Bids uploaded within seconds of each other"),
    "low_cv": gettext_lazy("Low coefficient of variation of the prices"),
    "low_spread": gettext_lazy("Low spread of the prices"),
    "high_rd": gettext_lazy("Large gap between the lowest bid and the others"),
    "near_ceiling": gettext_lazy("Prices close to the ceiling price"),
    "cover_bidding": gettext_lazy("Cover bidding: a bidder keeps losing to the same winner"),
    "bid_rotation": gettext_lazy("Bid rotation: a recurring group takes turns to win"),
    "model_anomaly": gettext_lazy("Anomaly model score"),
    "model_score": gettext_lazy("Anomaly model score"),
}

KIND_LABELS = {
    "bidder": gettext_lazy("Bidder"),
    "tenderee": gettext_lazy("Tenderee or agency"),
    "entity": gettext_lazy("Other entity"),
    "person": gettext_lazy("Person"),
    "ip": gettext_lazy("IP address"),
    "device": gettext_lazy("Machine code"),
    "mac": gettext_lazy("MAC address"),
    "dongle": gettext_lazy("CA certificate / dongle"),
    "account": gettext_lazy("Bank account"),
    "phone": gettext_lazy("Phone number"),
    "address": gettext_lazy("Address"),
    "document": gettext_lazy("File digest"),
    "author": gettext_lazy("Document author"),
}

SANCTION_LABELS = {
    "none": gettext_lazy("No sanction (record the finding only)"),
    "warning": gettext_lazy("Warning"),
    "fine": gettext_lazy("Fine"),
    "disqualification": gettext_lazy("Disqualification (条例67/68: 1–3 years)"),
}


def may_read(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.role in READERS


def may_act(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.role in ACTORS


def monitoring_access_read(user) -> None:
    """Regulators and admins act, centre staff read; everyone else is refused (403)."""
    require_role(user, *READERS)


def monitoring_access_act(user) -> None:
    require_role(user, *ACTORS)


def monitoring_access_tender(user, tender) -> None:
    """A regulator reads and acts on the alerts, reports and archiving of the tenders its departments
    supervise (issue 7); centre staff and admins on every tender."""
    if user.role == Role.REGULATOR:
        tender_access_supervise(user=user, tender=tender)


def alert_get(pk: int) -> Alert:
    alert = (
        Alert.objects.select_related("tender", "lot", "assigned_to", "decided_by", "model_version")
        .filter(pk=pk)
        .first()
    )
    if alert is None:
        raise NotFound(_("No such alert."), code="alert_not_found")
    return alert


def indicator_label(code: str) -> str:
    label = INDICATOR_LABELS.get(code)
    return str(label) if label is not None else code


def number(value) -> str:
    """A measured value for people: four significant digits for floats, as is otherwise."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


# --- form values ------------------------------------------------------------------------------------------


def form_refused(errors: dict[str, str], message=None) -> ValidationFailed:
    return ValidationFailed(message or _("The form has errors."), code="alert_form_invalid", fields=errors)


def parse_assignee(raw: str, *, user: User) -> User:
    raw = (raw or "").strip()
    if raw == "me":
        return user
    found = None
    if raw.isdigit() and len(raw) < 12:
        found = User.objects.filter(pk=int(raw), role__in=ACTORS, is_active=True).first()
    if found is None:
        raise ValidationFailed(
            _("Assign the alert to a regulator."),
            code="assignee_invalid",
            fields={"assignee": _("Choose one.")},
        )
    return found


def parse_decision(post) -> dict:
    """The confirm form's typed arguments for `alert_confirm`, or ValidationFailed naming the fields."""
    errors: dict[str, str] = {}
    sanction = post.get("sanction", "")
    if sanction not in SANCTIONS:
        errors["sanction"] = _("Choose a sanction.")
    entity_ids: list[int] = []
    for raw in post.getlist("entities"):
        if not raw.isdigit() or len(raw) > 11:
            errors["entities"] = _("Choose entities from the list.")
            break
        entity_ids.append(int(raw))
    years = None
    if sanction == "disqualification":
        raw = post.get("years", "").strip()
        if raw not in {"1", "2", "3"}:
            errors["years"] = _("A disqualification lasts 1 to 3 years.")
        else:
            years = int(raw)
    fine = None
    raw = post.get("fine_amount", "").strip()
    if sanction == "fine" or raw:
        try:
            fine = Decimal(raw)
            if not fine.is_finite() or fine <= 0 or fine != fine.quantize(Decimal("0.01")) or fine >= 10**12:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors["fine_amount"] = _("An amount in yuan with at most two decimals.")
            fine = None
    legal_basis = post.get("legal_basis", "").strip()
    if not legal_basis:
        errors["legal_basis"] = _("State the legal basis (处罚依据).")
    elif len(legal_basis) > 300:
        errors["legal_basis"] = _("At most 300 characters.")
    reason = post.get("reason", "").strip()
    if not reason:
        errors["reason"] = _("State the reason.")
    if errors:
        raise form_refused(errors)
    return {
        "legal_basis": legal_basis,
        "reason": reason,
        "entity_ids": entity_ids,
        "sanction": sanction,
        "years": years,
        "fine_amount": fine if sanction == "fine" else None,
    }


def parse_reason(post) -> str:
    reason = post.get("reason", "").strip()
    if not reason:
        raise ValidationFailed(
            _("A dismissal needs its reason."),
            code="reason_required",
            fields={"reason": _("State the reason.")},
        )
    return reason


# --- what an alert shows ----------------------------------------------------------------------------------


def fired(alert: Alert) -> list[dict]:
    """The findings that fired (an analysis may also store measured ones with `fired: false`)."""
    return [
        f for f in alert.indicators or [] if isinstance(f, dict) and f.get("code") and f.get("fired", True)
    ]


def party_names(alert: Alert) -> dict[str, str]:
    """Party key → name: the alert's entities, the graph's entity labels, the registry for the rest."""
    names: dict[str, str] = {}
    for node in (alert.graph or {}).get("nodes") or []:
        if isinstance(node, dict) and str(node.get("id", "")).startswith("entity:") and node.get("label"):
            names[str(node["id"])[7:]] = str(node["label"])
    keys = {str(p) for f in fired(alert) for p in f.get("parties") or []}
    wanted = [int(k) for k in keys - names.keys() if k.isdigit() and len(k) < 12]
    for pk, name in MarketEntity.objects.filter(pk__in=wanted).values_list("pk", "name"):
        names[str(pk)] = name
    for entity in alert.entities.all():
        names.setdefault(str(entity.pk), entity.name)
    return names


def node_labels(alert: Alert) -> dict[str, str]:
    return {
        str(n["id"]): str(n.get("label") or n["id"])
        for n in (alert.graph or {}).get("nodes") or []
        if isinstance(n, dict) and n.get("id")
    }


def indicator_rows(alert: Alert) -> list[dict]:
    names = party_names(alert)
    labels = node_labels(alert)
    rows = []
    for f in fired(alert):
        code = str(f["code"])
        rows.append(
            {
                "code": code,
                "label": indicator_label(code),
                "statutory": bool(f.get("statutory")),
                "legal_source": f.get("legal_source") or "",
                "weight": number(f.get("weight")),
                "value": number(f.get("value")),
                "threshold": number(f.get("threshold")),
                "parties": [names.get(str(p), str(p)) for p in f.get("parties") or []],
                "paths": [
                    " → ".join(labels.get(str(n), str(n)) for n in path)
                    for path in (f.get("paths") or [])[:3]
                    if isinstance(path, list | tuple)
                ],
            }
        )
    rows.sort(key=lambda r: (not r["statutory"], r["code"]))
    return rows


def statutory_basis(alert: Alert) -> str:
    """The legal basis a confirmation starts from: the statutory findings' sources, each once."""
    seen: list[str] = []
    for f in fired(alert):
        if f.get("statutory") and f.get("legal_source"):
            source = str(f["legal_source"])
            if source not in seen:
                seen.append(source)
    return "；".join(seen)[:300]


def entity_choices(alert: Alert) -> list[dict]:
    """The entities a confirmation may sanction (the alert's own); the parties of statutory findings
    are ticked."""
    statutory = {str(p) for f in fired(alert) if f.get("statutory") for p in f.get("parties") or []}
    return [{"entity": e, "checked": str(e.pk) in statutory} for e in alert.entities.order_by("pk")]


def alert_summary(alert: Alert, *, with_url: bool) -> dict:
    """An alert as JSON for the committee's panel (no reviewer data)."""
    names = party_names(alert)
    return {
        "id": alert.pk,
        "tender": alert.tender_id,
        "lot": alert.lot_id,
        "node": alert.node,
        "level": alert.level,
        "level_label": str(alert.get_level_display()),
        "score": round(alert.score, 4),
        "status": alert.status,
        "message": alert.message,
        "created_at": alert.created_at.isoformat(),
        "indicators": [
            {
                "code": str(f.get("code")),
                "label": indicator_label(str(f.get("code"))),
                "statutory": bool(f.get("statutory")),
                "legal_source": f.get("legal_source") or "",
                "parties": [names.get(str(p), str(p)) for p in f.get("parties") or []],
            }
            for f in fired(alert)
        ],
        "url": f"/monitoring/alerts/{alert.pk}/" if with_url else None,
    }
