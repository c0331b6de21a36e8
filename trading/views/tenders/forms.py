"""The tender form: its fields and lot columns, reading it from POST (the JSON of each lot's
evaluation criteria included), filling it from a saved draft, and describing it for the template.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trading.models import (
    Category,
    DecryptionPolicy,
    EvaluationMethod,
    ProcurementMethod,
    Regime,
    Tender,
)
from trading.selectors_workbench import entity_choices_verified
from trading.views.accounts import form_field

LOT_ROWS = 5  # rows offered on a new tender; an edited one gets one more than it has
DATETIME_INPUT = "%Y-%m-%dT%H:%M"  # <input type="datetime-local">, Beijing time
# The criteria offered in every new lot: valid for both regimes (price weight 40 %, GP formula).
DEFAULT_EVALUATION = {
    "criteria": [
        {"code": "technical", "name": "技术方案", "group": "technical", "max": 40},
        {"code": "commercial", "name": "商务", "group": "commercial", "max": 20},
        {"code": "price", "name": "价格", "group": "price", "max": 40},
    ],
    "price_formula": {"kind": "gp_base_over_price"},
}
DEFAULT_LOT = {
    "evaluation_method": EvaluationMethod.SCORING,
    "committee": {"size": 5, "experts": 4, "tenderee_reps": 1},
    "evaluation": json.dumps(DEFAULT_EVALUATION, ensure_ascii=False, indent=2),
}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _local(value) -> str:
    return timezone.localtime(value).strftime(DATETIME_INPUT) if value else ""


# --- the tender form -------------------------------------------------------------------------------

SCALARS = (
    ("title", gettext_lazy("Title"), "text", {"maxlength": 300, "required": True}),
    ("regime", gettext_lazy("Regime"), "select", {"choices": Regime.choices, "required": True}),
    ("category", gettext_lazy("Category"), "select", {"choices": Category.choices, "required": True}),
    (
        "method",
        gettext_lazy("Procurement method"),
        "select",
        {"choices": ProcurementMethod.choices, "required": True},
    ),
    ("tenderee_id", gettext_lazy("Tenderee / purchaser"), "select", {"required": True}),
    ("agency_id", gettext_lazy("Agency"), "select", {}),
    (
        "region_code",
        gettext_lazy("Region (6-digit division code; empty: the tenderee's)"),
        "text",
        {"maxlength": 6},
    ),
    ("funding_source", gettext_lazy("Funding source"), "text", {"maxlength": 120}),
    ("description", gettext_lazy("Description (HTML allowed, no scripts)"), "textarea", {}),
    ("state_funded", gettext_lazy("State-funded (国有资金占控股或主导)"), "checkbox", {}),
    ("prequalification", gettext_lazy("Prequalification (资格预审)"), "checkbox", {}),
    (
        "large_or_complex",
        gettext_lazy("Budget ≥ 10M, technically complex or of large social impact"),
        "checkbox",
        {},
    ),
    ("docs_from", gettext_lazy("Documents available from"), "datetime-local", {"required": True}),
    ("docs_until", gettext_lazy("Documents available until"), "datetime-local", {"required": True}),
    ("deadline", gettext_lazy("Bid deadline and opening time"), "datetime-local", {"required": True}),
    ("decryption_minutes", gettext_lazy("Decryption window (minutes)"), "number", {}),
    ("confirmation_minutes", gettext_lazy("Confirmation window (minutes)"), "number", {}),
    (
        "decryption_policy",
        gettext_lazy("Decryption policy"),
        "select",
        {"choices": DecryptionPolicy.choices, "required": True},
    ),
    ("custodian_k", gettext_lazy("Custodians needed (k)"), "number", {}),
    ("custodian_n", gettext_lazy("Custodians (n)"), "number", {}),
    ("bid_validity_days", gettext_lazy("Bid validity (days)"), "number", {}),
)
LOT_COLUMNS = (
    ("title", gettext_lazy("Lot title"), "text", {"maxlength": 300}),
    (
        "classification_code",
        gettext_lazy("Section classification code (e.g. A010000)"),
        "text",
        {"maxlength": 7},
    ),
    ("budget", gettext_lazy("Budget / estimated price (yuan)"), "number", {"step": "0.01"}),
    ("ceiling_price", gettext_lazy("Ceiling price (yuan)"), "number", {"step": "0.01"}),
    ("bid_security", gettext_lazy("Bid security (yuan)"), "number", {"step": "0.01"}),
    ("duration_days", gettext_lazy("Duration (days)"), "number", {}),
    (
        "evaluation_method",
        gettext_lazy("Evaluation method"),
        "select",
        {"choices": EvaluationMethod.choices, "required": True},
    ),
    ("committee.size", gettext_lazy("Committee size"), "number", {}),
    ("committee.experts", gettext_lazy("Experts on the committee"), "number", {}),
    ("committee.tenderee_reps", gettext_lazy("Tenderee representatives"), "number", {}),
    ("evaluation", gettext_lazy("Evaluation criteria (JSON)"), "textarea", {"rows": 10}),
)
LOT_FILLED_BY = ("title", "classification_code", "budget")  # a row with none of these is empty


def _id(raw: str) -> str:
    return raw if raw.isdigit() else ""  # never hand a non-number to a primary-key lookup


def tender_data_from_post(post) -> tuple[dict, dict, dict]:
    """(what the form shows again, what tender_create takes, errors of parsing the JSON)."""
    data: dict[str, Any] = {}
    for name, _label, kind, _extra in SCALARS:
        data[name] = (name in post) if kind == "checkbox" else post.get(name, "").strip()
    data["tenderee_id"], data["agency_id"] = _id(data["tenderee_id"]), _id(data["agency_id"])
    indexes = sorted(
        {
            int(m.group(1))
            for key in post
            for m in [re.match(r"^lots\[(\d+)\]\.", key)]
            if m and int(m.group(1)) < 100
        }
    )
    lots, errors = [], {}
    for i in indexes:
        row: dict[str, Any] = {"committee": {}}
        for key, _label, _kind, _extra in LOT_COLUMNS:
            value = post.get(f"lots[{i}].{key}", "").strip()
            if key.startswith("committee."):
                row["committee"][key.split(".", 1)[1]] = value
            else:
                row[key] = value
        if any(row[k] for k in LOT_FILLED_BY):
            lots.append(row)
    data["lots"] = lots
    payload = {**data, "lots": []}
    for n, row in enumerate(lots):
        lot = dict(row)
        if row["evaluation"]:
            try:
                lot["evaluation"] = json.loads(row["evaluation"])
            except ValueError as exc:
                errors[f"lots[{n}].evaluation"] = _(
                    "evaluation_json_invalid: not valid JSON (%(detail)s)."
                ) % {"detail": exc}
        else:
            lot["evaluation"] = None
        payload["lots"].append(lot)
    return data, payload, errors


def tender_data_from_instance(tender: Tender) -> dict:
    data: dict[str, Any] = {
        name: getattr(tender, name)
        for name, _label, _kind, _extra in SCALARS
        if name not in {"tenderee_id", "agency_id", "docs_from", "docs_until", "deadline"}
    }
    data.update(
        {
            "tenderee_id": tender.tenderee_id,
            "agency_id": tender.agency_id or "",
            "docs_from": _local(tender.docs_from),
            "docs_until": _local(tender.docs_until),
            "deadline": _local(tender.deadline),
            "custodian_k": tender.custodian_k or "",
            "custodian_n": tender.custodian_n or "",
        }
    )
    data["lots"] = [
        {
            "title": lot.title,
            "classification_code": lot.classification_code,
            "budget": lot.budget,
            "ceiling_price": lot.ceiling_price or "",
            "bid_security": lot.bid_security,
            "duration_days": lot.duration_days or "",
            "evaluation_method": lot.evaluation_method,
            "committee": lot.committee or {},
            "evaluation": _json(lot.evaluation) if lot.evaluation else "",
        }
        for lot in tender.lots.order_by("number")
    ]
    return data


def tender_initial(user) -> dict:
    entity = user.entity
    return {
        "regime": Regime.TB,
        "method": ProcurementMethod.OPEN,
        "decryption_policy": DecryptionPolicy.BIDDER,
        "decryption_minutes": 30,
        "confirmation_minutes": 30,
        "bid_validity_days": 90,
        "state_funded": True,
        "tenderee_id": entity.pk if entity and entity.is_tenderee else "",
        "agency_id": entity.pk if entity and entity.is_agency else "",
        "lots": [],
    }


def tender_form(data: dict, errors: dict) -> dict:
    def field(name, label, kind="text", **extra):
        return form_field(name, label, data, errors, kind=kind, **extra)

    choices = {
        "tenderee_id": entity_choices_verified(is_tenderee=True),
        "agency_id": entity_choices_verified(is_agency=True),
    }
    scalars = [
        field(n, label, kind, **{**extra, **({"choices": choices[n]} if n in choices else {})})
        for n, label, kind, extra in SCALARS
    ]
    existing = data.get("lots") or []
    rows_data = {"lots": [*existing, *[DEFAULT_LOT] * max(LOT_ROWS - len(existing), 1)]}
    lot_rows = []
    for i in range(len(rows_data["lots"])):
        lot_rows.append(
            [
                form_field(f"lots[{i}].{key}", label, rows_data, errors, kind=kind, **extra)
                for key, label, kind, extra in LOT_COLUMNS
            ]
        )
    return {"fields": scalars, "lots": lot_rows, "lots_error": errors.get("lots", "")}
