"""What the archive pages share: who may browse, the signed-in decorator, labels of the values a
package records, query-string parsing that refuses garbage with a stable code, and file responses.

`archive` sits below `trading` (DESIGN layering), so roles are checked by their string values and the
session keys of the certified-key login are named here rather than imported."""

from __future__ import annotations

import functools
import re
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from archive.blobs import blob_open
from archive.models import ArchiveFile, ArchivePackage
from archive.selectors import package_get
from core.errors import AccessDenied, NotFound, ValidationFailed

# Centre staff keep the archive, regulators supervise it, admins run the platform.
BROWSERS = frozenset({"centre", "regulator", "admin"})

# trading.views.accounts: a user who must log in with a certified key has "key_required" in its
# session until the key login sets "key_verified"; a password-only session is sent there first.
KEY_LOGIN_URL = "/accounts/key-login/"
SESSION_KEY_REQUIRED = "key_required"
SESSION_KEY_VERIFIED = "key_verified"

Q_LIMIT = 100
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

# Labels of the values sealed into packages. The msgids are those of trading's choices, so the same
# translations apply; a value without a label is shown as recorded.
REGIME_LABELS = {
    "TB": gettext_lazy("Bidding Law (招标投标法)"),
    "GP": gettext_lazy("Government Procurement (政府采购法)"),
}
CATEGORY_LABELS = {
    "works": gettext_lazy("Construction works"),
    "goods": gettext_lazy("Goods"),
    "services": gettext_lazy("Services"),
    "land": gettext_lazy("Land and mining rights"),
    "property": gettext_lazy("State-owned property rights"),
}
STATE_LABELS = {
    "awarded": gettext_lazy("Awarded"),
    "archived": gettext_lazy("Archived"),
    "failed": gettext_lazy("Failed (流标)"),
    "suspended": gettext_lazy("Suspended"),
    "terminated": gettext_lazy("Terminated"),
}

ROLE_LABELS = {
    "centre": gettext_lazy("Trading-centre staff"),
    "regulator": gettext_lazy("Regulator"),
    "admin": gettext_lazy("Administrator"),
}


def labelled(packages):
    """The packages with `regime_label`, `category_label` and `state_label` set for the templates."""
    for p in packages:
        p.regime_label = str(REGIME_LABELS.get(p.regime, p.regime))
        p.category_label = str(CATEGORY_LABELS.get(p.category, p.category))
        p.state_label = str(STATE_LABELS.get(p.state, p.state))
    return packages


def disposals_labelled(disposals):
    """The disposals with the labels of the roles that requested and decided them."""
    for d in disposals:
        d.requested_role_label = str(ROLE_LABELS.get(d.requested_role, d.requested_role))
        d.decided_role_label = str(ROLE_LABELS.get(d.decided_role, d.decided_role))
    return disposals


def choices(values, table: dict) -> list[tuple[str, str]]:
    return [(v, str(table.get(v, v))) for v in values]


# --- access ------------------------------------------------------------------------------------------


def signed_in(view):
    """Logged in (else to the login page) and, where the account demands it, key-verified."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.session.get(SESSION_KEY_REQUIRED) and not request.session.get(SESSION_KEY_VERIFIED):
            return redirect(f"{KEY_LOGIN_URL}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def may_browse(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", "") in BROWSERS


def archive_access_browse(user) -> None:
    """Regulators, centre staff and admins browse the whole archive; everyone else sees the public part."""
    if not may_browse(user):
        raise AccessDenied(
            _("Only regulators and trading centre staff may browse the archive."), code="role_forbidden"
        )


def access_package(package_id: int, *, public: bool = False) -> ArchivePackage:
    package = package_get(package_id, public=public)
    if package is None:
        raise NotFound(_("There is no such archival package."), code="archive_package_not_found")
    return labelled([package])[0]


# --- parsing -----------------------------------------------------------------------------------------


def _invalid(name: str) -> ValidationFailed:
    return ValidationFailed(
        _("The value of “%(name)s” is not valid.") % {"name": name}, code="invalid_filter", filter=name
    )


def parse_filters(get, *, public: bool = False) -> dict:
    """The search form's values; a malformed one is refused (400 invalid_filter)."""
    out: dict = {}
    q = get.get("q", "").strip()
    if len(q) > Q_LIMIT or "\x00" in q:
        raise _invalid("q")
    out["q"] = q
    names = ("regime", "year") if public else ("regime", "category", "state", "year", "status", "interim")
    for name in ("regime", "category", "state", "year", "status", "interim"):
        value = get.get(name, "").strip() if name in names else ""
        if value and not _TOKEN.match(value):
            raise _invalid(name)
        out[name] = value
    if out["year"] and not (out["year"].isdigit() and 1900 <= int(out["year"]) <= 9999):
        raise _invalid("year")
    if out["status"] not in ("", *ArchivePackage.Status.values):
        raise _invalid("status")
    if out["interim"] not in ("", "yes", "no"):
        raise _invalid("interim")
    return out


def search_args(filters: dict) -> dict:
    """The filters as `archive.selectors.package_search` takes them."""
    return {
        "q": filters["q"],
        "regime": filters["regime"],
        "category": filters["category"],
        "state": filters["state"],
        "year": int(filters["year"]) if filters["year"] else None,
        "status": filters["status"],
        "interim": {"yes": True, "no": False}.get(filters["interim"]),
    }


def query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- files -------------------------------------------------------------------------------------------


def file_response(afile: ArchiveFile) -> FileResponse:
    """The archived bytes, streamed, as an attachment of the recorded media type (never rendered inline:
    an archived file is evidence, not a page of this site)."""
    name = afile.path.rsplit("/", 1)[-1]
    response = FileResponse(
        blob_open(afile.blob), as_attachment=True, filename=name, content_type=afile.media_type
    )
    response["X-Content-SHA256"] = afile.blob_id
    return response


def project_slug(package: ArchivePackage) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", package.project).strip("-") or "package"
