"""An expert's profile as data: cleaning a whole form (or a proposal) with a code per field, the
snapshot a proposal is compared with, and writing cleaned fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed
from experts.models import Employment, Expert, ExpertSpecialty, Specialty
from experts.services.pool.common import (
    PHONE_RE,
    FieldErrors,
    add_required,
    as_bool,
    date_field,
    entity_by_uscc,
    int_field,
    region_check,
    resident_id_ok,
    split_codes,
    text_field,
    uscc_field,
)
from trading.models import MarketEntity
from trading.services.entities import digest_ready

# The fields of a profile (not the person): what the centre sets at admission and updates.
PROFILE_FIELDS = (
    "region_code",
    "employer_name",
    "employer_uscc",
    "title",
    "title_level",
    "group",
    "qualifications",
    "birth_year",
    "years_in_field",
    "remote_ok",
    "specialties",
    "employments",
)
# What an expert may propose to change (reviewed by the centre). The year of birth is identity
# data; the centre corrects it, not a proposal.
PROPOSABLE = tuple(f for f in PROFILE_FIELDS if f != "birth_year")
SPECIALTY_ALIASES = ("main_specialty", "other_specialties")
MAX_ITEMS = 30


def _clean_specialties(data: dict, e: FieldErrors) -> list[dict]:
    """[{"code", "main"}], main first: the codes exist, none twice, exactly one main."""
    items: list[tuple[str, bool, str]] = []  # (code, main, field for errors)
    if "specialties" in data:
        raw = data.get("specialties") or []
        if not isinstance(raw, list):
            e.add("specialties", "invalid", _("Not a list."))
            return []
        for i, item in enumerate(raw[: MAX_ITEMS + 1]):
            if isinstance(item, dict):
                code, main = str(item.get("code") or "").strip().upper(), as_bool(item.get("main", False))
            else:
                code, main = str(item).strip().upper(), False
            items.append((code, main, f"specialties[{i}]"))
        main_field = "specialties"
    else:
        main = str(data.get("main_specialty") or "").strip().upper()
        if main:
            items.append((main, True, "main_specialty"))
        else:
            add_required(e, "main_specialty")
        items += [(c, False, "other_specialties") for c in split_codes(data.get("other_specialties"))]
        main_field = "main_specialty"
    if len(items) > MAX_ITEMS:
        e.add(main_field, "too_many", _("Too many specialties."))
        return []
    known = set(Specialty.objects.filter(code__in=[c for c, _m, _f in items]).values_list("code", flat=True))
    seen: set[str] = set()
    out = []
    for code, main, field in items:
        if not code:
            add_required(e, field)
        elif code not in known:
            e.add(field, "specialty_unknown", _("No such specialty code: %(code)s.") % {"code": code})
        elif code in seen:
            e.add(field, "specialty_duplicate", _("Specialty %(code)s is listed twice.") % {"code": code})
        else:
            seen.add(code)
            out.append({"code": code, "main": main})
    mains = sum(1 for item in out if item["main"])
    if not items:
        e.add(main_field, "required", _("Give the main specialty."))
    elif mains != 1 and len(out) == len(items):  # a bad code is reported already; don't pile on
        e.add(main_field, "specialty_main_count", _("Exactly one specialty must be the main one."))
    return sorted(out, key=lambda s: (not s["main"], s["code"]))


def _clean_qualifications(raw: Any, e: FieldErrors) -> list[dict]:
    if not isinstance(raw, list):
        e.add("qualifications", "invalid", _("Not a list."))
        return []
    if len(raw) > MAX_ITEMS:
        e.add("qualifications", "too_many", _("Too many qualifications."))
        return []
    out = []
    for i, item in enumerate(raw):
        p = f"qualifications[{i}]"
        if not isinstance(item, dict):
            e.add(p, "invalid", _("Not an object."))
            continue
        q = {
            "name": text_field(item, "name", e, max_len=100, required=True, field=p + ".name"),
            "number": text_field(item, "number", e, max_len=60, field=p + ".number"),
            "issuer": text_field(item, "issuer", e, max_len=100, field=p + ".issuer"),
        }
        until = date_field(item.get("valid_until"), p + ".valid_until", e)
        q["valid_until"] = until.isoformat() if until else ""
        out.append(q)
    return out


def _clean_employments(raw: Any, e: FieldErrors, *, today: dt.date) -> list[dict]:
    if not isinstance(raw, list):
        e.add("employments", "invalid", _("Not a list."))
        return []
    if len(raw) > MAX_ITEMS:
        e.add("employments", "too_many", _("Too many jobs."))
        return []
    out = []
    for i, item in enumerate(raw):
        p = f"employments[{i}]"
        if not isinstance(item, dict):
            e.add(p, "invalid", _("Not an object."))
            continue
        job = {
            "employer_name": text_field(item, "employer_name", e, max_len=200, field=p + ".employer_name"),
            "employer_uscc": uscc_field(str(item.get("employer_uscc") or ""), p + ".employer_uscc", e),
            "position": text_field(item, "position", e, max_len=100, field=p + ".position"),
            "start_date": date_field(item.get("start_date"), p + ".start_date", e, required=True),
            "end_date": date_field(item.get("end_date"), p + ".end_date", e),
        }
        if not job["employer_name"] and not job["employer_uscc"]:
            add_required(e, p + ".employer_name")
        if job["start_date"] and job["start_date"] > today:
            e.add(p + ".start_date", "date_in_future", _("This date is in the future."))
        if job["start_date"] and job["end_date"] and job["end_date"] < job["start_date"]:
            e.add(p + ".end_date", "period_invalid", _("Ends before it starts."))
        out.append(job)
    return sorted(out, key=lambda j: j["start_date"] or dt.date.min, reverse=True)


def profile_clean(data: dict, *, partial: bool = False, allowed: tuple[str, ...] = PROFILE_FIELDS) -> dict:
    """The profile fields of `data`, typed and checked; ValidationFailed("expert_invalid") lists
    every bad field with its code. `partial`: only the fields present are checked (a proposal)."""
    if not isinstance(data, dict):
        raise ValidationFailed(_("The profile must be an object."), code="expert_invalid")
    e = FieldErrors()
    today = timezone.localdate()
    present = set(data) if partial else set(PROFILE_FIELDS)
    if partial:
        for key in sorted(set(data) - set(allowed) - set(SPECIALTY_ALIASES)):
            e.add(key, "field_not_changeable", _("This field cannot be changed here."))
        if present & set(SPECIALTY_ALIASES):
            present.add("specialties")
    out: dict[str, Any] = {}
    if "region_code" in present:
        out["region_code"] = text_field(data, "region_code", e, max_len=6, required=True)
        if out["region_code"] and (bad := region_check(out["region_code"])):
            e.add("region_code", *bad)
    if "employer_uscc" in present:
        out["employer_uscc"] = uscc_field(str(data.get("employer_uscc") or ""), "employer_uscc", e)
    if "employer_name" in present:
        out["employer_name"] = text_field(data, "employer_name", e, max_len=200)
    if "title" in present:
        out["title"] = text_field(data, "title", e, max_len=60)
    if "title_level" in present:
        out["title_level"] = str(data.get("title_level") or Expert.TitleLevel.SENIOR).strip()
        if out["title_level"] not in Expert.TitleLevel.values:
            e.add("title_level", "choice_invalid", _("Not one of the choices."))
    if "group" in present:
        out["group"] = str(data.get("group") or Expert.Group.TECHNICAL).strip()
        if out["group"] not in Expert.Group.values:
            e.add("group", "choice_invalid", _("Not one of the choices."))
    if "birth_year" in present:
        out["birth_year"] = int_field(data.get("birth_year"), "birth_year", e, low=1920, high=today.year - 18)
    if "years_in_field" in present:
        out["years_in_field"] = int_field(data.get("years_in_field"), "years_in_field", e, low=0, high=80)
    if "remote_ok" in present:
        out["remote_ok"] = as_bool(data.get("remote_ok", True))
    if "qualifications" in present:
        out["qualifications"] = _clean_qualifications(data.get("qualifications") or [], e)
    if "specialties" in present:
        out["specialties"] = _clean_specialties(data, e)
    if "employments" in present:
        out["employments"] = _clean_employments(data.get("employments") or [], e, today=today)
    if "employer_uscc" in out or "employer_name" in out:
        uscc = out.get("employer_uscc", "")
        if uscc and not out.get("employer_name"):
            entity = MarketEntity.objects.filter(uscc=uscc).only("name").first()
            if entity is None:
                e.add(
                    "employer_name",
                    "required",
                    _("Name the employer: its credit code is not in the registry."),
                )
            else:
                out["employer_name"] = entity.name
    e.raise_if_any()
    return out


def person_clean(data: dict, e: FieldErrors, *, phone_required: bool = True) -> dict:
    """Name, ID (a resident ID is checked against GB 11643), phone and e-mail of a new expert."""
    out = {
        "name": text_field(data, "name", e, max_len=100, required=True),
        "id_type": str(data.get("id_type") or "resident_id").strip()[:20],
        "id_number": text_field(data, "id_number", e, max_len=40, required=True).upper(),
        "phone": text_field(data, "phone", e, max_len=20, required=phone_required),
        "email": text_field(data, "email", e, max_len=254),
    }
    if out["id_number"] and out["id_type"] == "resident_id" and not resident_id_ok(out["id_number"]):
        e.add("id_number", "id_number_invalid", _("Not a valid resident ID number (GB 11643)."))
    if out["phone"] and not PHONE_RE.match(out["phone"]):
        e.add("phone", "phone_invalid", _("Not a mobile or landline number."))
    if out["email"]:
        try:
            validate_email(out["email"])
        except DjangoValidationError:
            e.add("email", "email_invalid", _("Not an e-mail address."))
    return out


# --- the profile as data -----------------------------------------------------------------------


def profile_snapshot(expert: Expert) -> dict:
    """The profile in the shape `profile_clean` returns (plain JSON once digest_ready)."""
    links = expert.specialty_links.order_by("-is_main", "specialty_id")
    return {
        "region_code": expert.region_code,
        "employer_name": expert.employer_name,
        "employer_uscc": expert.employer_uscc,
        "title": expert.title,
        "title_level": expert.title_level,
        "group": expert.group,
        "qualifications": list(expert.qualifications or []),
        "birth_year": expert.birth_year,
        "years_in_field": expert.years_in_field,
        "remote_ok": expert.remote_ok,
        "specialties": [{"code": link.specialty_id, "main": link.is_main} for link in links],
        "employments": [
            {
                "employer_name": job.employer_name,
                "employer_uscc": job.employer_uscc,
                "position": job.position,
                "start_date": job.start_date,
                "end_date": job.end_date,
            }
            for job in expert.employments.order_by("-start_date", "-pk")
        ],
    }


def profile_changes(expert: Expert, clean: dict) -> dict:
    """The cleaned fields whose value differs from the expert's profile now."""
    now = digest_ready(profile_snapshot(expert))
    return {k: v for k, v in digest_ready(clean).items() if now.get(k) != v}


def _same_employer(old: tuple[str, str], new: tuple[str, str]) -> bool:
    """(credit code, name) pairs: the same code is the same employer (a renamed company or a
    corrected name is no change of job); without codes on both sides, the names decide."""
    if old[0] and new[0]:
        return old[0] == new[0]
    return old == new


def apply_profile(expert: Expert, clean: dict, *, since: dt.date) -> None:
    """Write the cleaned fields. A changed employer without an explicit history ends the old job
    on `since` and starts the new one, so recent employers (3 years, C5) stay known to the draw."""
    old_employer = (expert.employer_uscc, expert.employer_name)
    for key in PROFILE_FIELDS:
        if key in clean and key not in {"specialties", "employments"}:
            setattr(expert, key, clean[key])
    if "employer_uscc" in clean or "employer_name" in clean:
        expert.employer = entity_by_uscc(expert.employer_uscc)
    expert.updated_at = timezone.now()
    expert.save()
    if "specialties" in clean:
        expert.specialty_links.all().delete()
        ExpertSpecialty.objects.bulk_create(
            [
                ExpertSpecialty(expert=expert, specialty_id=s["code"], is_main=s["main"])
                for s in clean["specialties"]
            ]
        )
    if "employments" in clean:
        expert.employments.all().delete()
        Employment.objects.bulk_create(
            [
                Employment(expert=expert, employer=entity_by_uscc(job["employer_uscc"]), **job)
                for job in clean["employments"]
            ]
        )
    elif not _same_employer(old_employer, (expert.employer_uscc, expert.employer_name)):
        expert.employments.filter(end_date__isnull=True).update(end_date=since)
        if expert.employer_name:
            Employment.objects.create(
                expert=expert,
                employer=expert.employer,
                employer_name=expert.employer_name,
                employer_uscc=expert.employer_uscc,
                start_date=since,
            )
