"""Offline validation of release packages against the official OCDS 1.1.5 schema and codelists."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from jsonschema import Draft4Validator, FormatChecker, ValidationError, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from .mapping import ocds_prefix

RELEASE_SCHEMA_ID = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"


def ocds_schema_dir() -> Path:
    """Where the official 1.1.5 schema and codelists are: OCDS_SCHEMA_DIR, else ../shared/ocds-1.1.5."""
    configured = getattr(settings, "OCDS_SCHEMA_DIR", None)
    candidates = [Path(configured)] if configured else []
    candidates += [
        Path(settings.BASE_DIR) / "trading" / "ocds_schema",
        Path(settings.BASE_DIR).parent / "shared" / "ocds-1.1.5",
    ]
    for candidate in candidates:
        if (candidate / "release-package-schema.json").is_file():
            return candidate
    raise FileNotFoundError("OCDS 1.1.5 schema not found; set OCDS_SCHEMA_DIR")


def load_codelists(directory: Path) -> dict[str, frozenset[str]]:
    """Codelist file name -> its codes, without the deprecated ones."""
    codelists = {}
    for path in sorted((directory / "codelists").glob("*.csv")):
        with path.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        codelists[path.name] = frozenset(r["Code"] for r in rows if r.get("Code") and not r.get("Deprecated"))
    return codelists


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    try:
        dt.datetime.fromisoformat(value.upper())
    except ValueError:
        return False
    return True


def _is_uri(value: object) -> bool:
    """An absolute RFC 3986 URI: a scheme, ASCII only, no spaces, well-formed escapes."""
    if not isinstance(value, str):
        return True
    if not value.isascii() or any(c.isspace() for c in value) or _BAD_PERCENT.search(value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(_URI_SCHEME.match(parts.scheme)) and bool(parts.netloc or parts.path)


def format_checker() -> FormatChecker:
    # jsonschema checks "date-time" and "uri" only when optional packages are installed;
    # these two are written out so the check never silently does nothing.
    checker = FormatChecker(formats=())
    checker.checks("date-time")(_is_datetime)
    checker.checks("uri")(_is_uri)
    return checker


def _codelist_keyword(codelists: dict[str, frozenset[str]]):
    """The schema marks fields with `codelist`; open codelists have no enum, so check them here."""

    def check(validator, codelist, instance, schema):
        codes = codelists.get(codelist)
        if codes is None:
            return
        for value in instance if isinstance(instance, list) else [instance]:
            if isinstance(value, str) and value not in codes:
                yield ValidationError(f"{value!r} is not a code of the {codelist} codelist")

    return check


@functools.cache
def _validator_for(directory: str):
    root = Path(directory)
    release_schema = json.loads((root / "release-schema.json").read_text(encoding="utf-8"))
    package_schema = json.loads((root / "release-package-schema.json").read_text(encoding="utf-8"))
    # Both declare draft-04 in `$schema`; jsonschema then switches to the stock Draft4Validator
    # when it follows a $ref, dropping our `codelist` keyword. Without `$schema` the extended
    # validator below (draft 4 plus codelists) stays in charge throughout.
    release_schema.pop("$schema", None)
    package_schema.pop("$schema", None)
    # The package schema $refs the release schema by its URL: serve it from disk. A registry
    # without a `retrieve` function cannot fetch anything, so no network is ever used.
    registry = Registry().with_resources(
        [
            (RELEASE_SCHEMA_ID, Resource.from_contents(release_schema, default_specification=DRAFT4)),
            (package_schema["id"], Resource.from_contents(package_schema, default_specification=DRAFT4)),
        ]
    )
    codelists = load_codelists(root)
    validator_class = validators.extend(Draft4Validator, {"codelist": _codelist_keyword(codelists)})
    return validator_class(package_schema, registry=registry, format_checker=format_checker()), codelists


def _path(parts) -> str:
    return "/".join(str(p) for p in parts) or "(package)"


def _check_release_links(release: dict, index: int, codelists: dict[str, frozenset[str]]) -> list[str]:
    """What the schema cannot say: references resolve to parties with the right role, and the
    lots extension's fields (not in the core schema) are well formed."""
    errors = []
    where = f"releases/{index}"
    prefix = ocds_prefix()
    if not str(release.get("ocid", "")).startswith(prefix + "-"):
        errors.append(f"{where}/ocid: does not start with the publisher prefix {prefix!r}")
    roles = {
        p.get("id"): set(p.get("roles") or []) for p in release.get("parties") or [] if isinstance(p, dict)
    }

    def needs(ref: object, role: str, at: str) -> None:
        if not isinstance(ref, dict):
            return
        if ref.get("id") not in roles:
            errors.append(f"{at}: refers to {ref.get('id')!r}, which is not among the parties")
        elif role not in roles[ref["id"]]:
            errors.append(f"{at}: party {ref['id']!r} lacks the role {role!r}")

    needs(release.get("buyer"), "buyer", f"{where}/buyer")
    tender = release.get("tender") or {}
    needs(tender.get("procuringEntity"), "procuringEntity", f"{where}/tender/procuringEntity")

    lots = tender.get("lots") or []
    lot_ids = [lot.get("id") for lot in lots if isinstance(lot, dict)]
    if len(lot_ids) != len(set(lot_ids)):
        errors.append(f"{where}/tender/lots: lot ids are not unique")
    statuses = codelists.get("tenderStatus.csv", frozenset())
    currencies = codelists.get("currency.csv", frozenset())
    for i, lot in enumerate(lots):
        if not isinstance(lot, dict) or not isinstance(lot.get("id"), str) or not lot["id"]:
            errors.append(f"{where}/tender/lots/{i}: a lot needs a string id")
            continue
        if "status" in lot and lot["status"] not in statuses:
            errors.append(
                f"{where}/tender/lots/{i}/status: {lot['status']!r} is not a code of tenderStatus.csv"
            )
        value = lot.get("value") or {}
        if value and (
            not isinstance(value.get("amount"), int | float) or value.get("currency") not in currencies
        ):
            errors.append(f"{where}/tender/lots/{i}/value: needs a numeric amount and a currency code")

    for i, award in enumerate(release.get("awards") or []):
        for j, supplier in enumerate(award.get("suppliers") or []):
            needs(supplier, "supplier", f"{where}/awards/{i}/suppliers/{j}")
        for lot_id in award.get("relatedLots") or []:
            if lot_id not in lot_ids:
                errors.append(f"{where}/awards/{i}/relatedLots: {lot_id!r} is not a lot of the tender")
    return errors


def ocds_validate(package: dict) -> list[str]:
    """Every problem with a release package, as "path: message" lines; empty when it is valid.

    Checks the official release-package and release schemas (Draft 4, with date-time and
    uri formats), every codelist the schema names (open ones included: we publish no
    extended codes), and the references the schema cannot express.
    """
    validator, codelists = _validator_for(str(ocds_schema_dir()))
    errors = [
        f"{_path(e.absolute_path)}: {e.message}"
        for e in sorted(validator.iter_errors(package), key=lambda e: _path(e.absolute_path))
    ]
    releases = package.get("releases") if isinstance(package, dict) else None
    if isinstance(releases, list):
        seen: set[tuple[str, str]] = set()
        for index, release in enumerate(releases):
            if not isinstance(release, dict):
                continue
            key = (release.get("ocid"), release.get("id"))
            if key in seen:
                errors.append(f"releases/{index}/id: the same release appears twice")
            seen.add(key)
            errors += _check_release_links(release, index, codelists)
    return errors
