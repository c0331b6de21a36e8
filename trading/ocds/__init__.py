"""Open data in the Open Contracting Data Standard 1.1: one release per tender, release packages,
the dated bulk export, and offline validation against the official schema and codelists.

Mapping decisions (statuses, methods, categories, identifiers) are explained where they are
made (`mapping`) and summarised in docs/open-data.md. Releases are written in Chinese
(`language: zh`) whatever the reader's language: open data is one text, the same for everyone.

`mapping` holds identifiers and codelist mappings, `release` one tender's release, `packages`
the release packages and the bulk export, `validate` the offline validator. Callers import
from `trading.ocds` only.
"""

from .mapping import (
    AWARD_CRITERIA,
    DISPOSAL_DETAILS,
    DOCUMENT_TYPE,
    LOT_STATUS,
    LOTS_EXTENSION,
    MAIN_CATEGORY,
    OCDS_VERSION,
    PROCUREMENT_METHOD,
    PROCUREMENT_METHOD_DETAILS,
    REGIME_DETAILS,
    SHANGHAI,
    TB_ENQUIRY_CLOSES_BEFORE_DEADLINE,
    TENDER_STATUS,
    identifier_scheme,
    iso,
    number,
    ocds_prefix,
    party_id,
    tender_ocid,
)
from .packages import (
    bulk_package,
    bulk_releases,
    day_bounds,
    publisher,
    release_package,
    tender_package,
    tenders_changed_on,
)
from .release import (
    bulk_package_path,
    default_base_url,
    document_path,
    last_change,
    public_tenders,
    tender_package_path,
    tender_release,
    with_release_data,
)
from .validate import (
    RELEASE_SCHEMA_ID,
    _validator_for,  # tests clear its cache
    format_checker,
    load_codelists,
    ocds_schema_dir,
    ocds_validate,
)

__all__ = [
    "AWARD_CRITERIA",
    "DISPOSAL_DETAILS",
    "DOCUMENT_TYPE",
    "LOTS_EXTENSION",
    "LOT_STATUS",
    "MAIN_CATEGORY",
    "OCDS_VERSION",
    "PROCUREMENT_METHOD",
    "PROCUREMENT_METHOD_DETAILS",
    "REGIME_DETAILS",
    "RELEASE_SCHEMA_ID",
    "SHANGHAI",
    "TB_ENQUIRY_CLOSES_BEFORE_DEADLINE",
    "TENDER_STATUS",
    "_validator_for",
    "bulk_package",
    "bulk_package_path",
    "bulk_releases",
    "day_bounds",
    "default_base_url",
    "document_path",
    "format_checker",
    "identifier_scheme",
    "iso",
    "last_change",
    "load_codelists",
    "number",
    "ocds_prefix",
    "ocds_schema_dir",
    "ocds_validate",
    "party_id",
    "public_tenders",
    "publisher",
    "release_package",
    "tender_ocid",
    "tender_package",
    "tender_package_path",
    "tender_release",
    "tenders_changed_on",
    "with_release_data",
]
