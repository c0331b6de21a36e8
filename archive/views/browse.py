"""The archive as regulators and centre staff see it: search, the package page (manifest, files, the
four-property check on demand, the ZIP export, the Merkle proof, the journal) and the disposal procedure
(one person asks, a second of another role decides). Thin: parse, check access, call, render."""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from archive import rules
from archive.blobs import blob_open
from archive.models import ArchivePackage, Disposal
from archive.selectors import (
    disposal_get,
    disposal_history,
    package_facets,
    package_file,
    package_folders,
    package_journal,
    package_manifest,
    package_search,
    package_versions,
)
from archive.services import disposal_decide, disposal_request, package_export
from archive.services.disposal import DECIDE_ROLES, REQUEST_ROLES
from archive.services.seal import proof_for
from archive.verify import PROPERTIES, verify_package
from archive.views import common
from core.errors import DomainError, NotFound, ValidationFailed

PAGE_SIZE = 25
JOURNAL_PAGE_SIZE = 50
REASON_LIMIT = 2000

PROPERTY_LABELS = {
    "authenticity": gettext_lazy("Authenticity (真实性)"),
    "integrity": gettext_lazy("Integrity (完整性)"),
    "usability": gettext_lazy("Usability (可用性)"),
    "security": gettext_lazy("Security (安全性)"),
}


@never_cache
@require_safe
@common.signed_in
def index(request):
    common.archive_access_browse(request.user)
    filters = common.parse_filters(request.GET)
    page = Paginator(package_search(**common.search_args(filters)), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = common.labelled(list(page.object_list))
    facets = package_facets()
    return render(
        request,
        "archive/index.html",
        {
            "page": page,
            "filters": filters,
            "query": common.query_without_page(request),
            "regimes": common.choices(facets["regime"], common.REGIME_LABELS),
            "categories": common.choices(facets["category"], common.CATEGORY_LABELS),
            "states": common.choices(facets["state"], common.STATE_LABELS),
            "years": facets["year"],
            "statuses": ArchivePackage.Status.choices,
        },
    )


def _report_context(report) -> dict:
    data = report.as_dict()
    return {
        **data,
        "rows": [(p, PROPERTY_LABELS[p], data["properties"][p]) for p in PROPERTIES],
    }


def _package_page(request, package, *, report=None, error=None, posted=None, status: int = 200):
    user = request.user
    history = common.disposals_labelled(list(disposal_history(package)))
    pending = next((d for d in history if d.status == Disposal.Status.REQUESTED), None)
    sealed = package.status == ArchivePackage.Status.SEALED
    role = getattr(user, "role", "")
    manifest = package_manifest(package)
    return render(
        request,
        "archive/package.html",
        {
            "package": package,
            "manifest": manifest,
            "journal_head": manifest.get("journal") or {},
            "folders": package_folders(package),
            "proof": proof_for(package),
            "versions": package_versions(package),
            "disposals": history,
            "pending": pending,
            "sealed": sealed,
            "retention_over": rules.may_dispose(package.retain_until, timezone.localdate()),
            "may_request": role in REQUEST_ROLES and sealed and pending is None,
            "may_decide": role in DECIDE_ROLES and pending is not None,
            "second_person": pending is not None
            and pending.requested_by_id != str(user.pk)
            and pending.requested_role != role,
            "report": _report_context(report) if report is not None else None,
            "error": error,
            "posted": posted or {},
        },
        status=status,
    )


@never_cache
@require_safe
@common.signed_in
def package_page(request, package_id: int):
    common.archive_access_browse(request.user)
    return _package_page(request, common.access_package(package_id))


@never_cache
@require_safe
@common.signed_in
def file_download(request, package_id: int, file_path: str):
    common.archive_access_browse(request.user)
    package = common.access_package(package_id)
    afile = package_file(package, file_path)
    if afile is None:
        raise NotFound(_("The package holds no such file."), code="archive_file_not_found")
    return common.file_response(afile)


@never_cache
@require_safe
@common.signed_in
def manifest_download(request, package_id: int):
    """The manifest's exact signed bytes (its SHA-256 is the package digest)."""
    common.archive_access_browse(request.user)
    package = common.access_package(package_id)
    return FileResponse(
        blob_open(package.manifest),
        as_attachment=True,
        filename=f"{common.project_slug(package)}-v{package.version}-manifest.json",
        content_type="application/json",
    )


@never_cache
@require_POST
@common.signed_in
def verify_now(request, package_id: int):
    """四性检测 now, against the database and the stored bytes; the page shows every finding."""
    common.archive_access_browse(request.user)
    package = common.access_package(package_id)
    return _package_page(request, package, report=verify_package(package))


@never_cache
@require_POST
@common.signed_in
def export_zip(request, package_id: int):
    """The package as one ZIP (manifest, signature, proof, files, verification report). It is written
    to a temporary file, not memory: a package with its bid files can be gigabytes."""
    common.archive_access_browse(request.user)
    package = common.access_package(package_id)
    # Not a `with` block: FileResponse closes the file (and so deletes it) when the response is sent.
    out = tempfile.TemporaryFile(prefix="archive-export-", suffix=".zip")  # noqa: SIM115
    try:
        report = package_export(package, out, actor=request.user)
    except DomainError as exc:
        out.close()
        return _package_page(request, package, error=exc.as_dict(), status=exc.status)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    response = FileResponse(
        out,
        as_attachment=True,
        filename=f"{common.project_slug(package)}-v{package.version}.zip",
        content_type="application/zip",
    )
    response["X-Archive-Verification"] = "ok" if report.get("ok") else "failed"
    return response


@never_cache
@require_safe
@common.signed_in
def journal_page(request, package_id: int):
    """The project's journal stream: the rows the package copied (up to its sealed head) and any after."""
    common.archive_access_browse(request.user)
    package = common.access_package(package_id)
    head = package_manifest(package).get("journal") or {}
    page = Paginator(package_journal(package), JOURNAL_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "archive/journal.html",
        {"package": package, "page": page, "head_seq": head.get("head_seq", 0), "journal_head": head},
    )


def _act(request, package, action, done: str, posted: dict):
    """Run a disposal step; a refusal re-renders the package page with its code and status."""
    try:
        action()
    except DomainError as exc:
        package = common.access_package(package.pk)
        return _package_page(request, package, error=exc.as_dict(), posted=posted, status=exc.status)
    messages.success(request, done)
    return redirect(f"{reverse('archive:package', args=[package.pk])}#disposal")


@require_POST
@common.signed_in
def disposal_request_view(request, package_id: int):
    common.archive_access_browse(request.user)
    package = common.access_package(package_id)
    reason = request.POST.get("reason", "")[:REASON_LIMIT]
    return _act(
        request,
        package,
        lambda: disposal_request(package=package, actor=request.user, reason=reason),
        _("The disposal is requested; a second person of another role must decide it."),
        {"reason": reason},
    )


@require_POST
@common.signed_in
def disposal_decide_view(request, package_id: int, disposal_id: int):
    common.archive_access_browse(request.user)
    package = common.access_package(package_id)
    disposal = disposal_get(disposal_id)
    if disposal is None or disposal.package_id != package.pk:
        raise NotFound(_("There is no such disposal."), code="archive_disposal_not_found")
    decision = request.POST.get("decision", "")
    note = request.POST.get("note", "")[:REASON_LIMIT]

    def decide():
        if decision not in ("approve", "reject"):
            raise ValidationFailed(_("Choose to approve or to reject."), code="invalid_decision")
        disposal_decide(disposal=disposal, actor=request.user, approve=decision == "approve", note=note)

    done = (
        _("The disposal is approved and carried out.")
        if decision == "approve"
        else _("The disposal is rejected; the package stays.")
    )
    return _act(request, package, decide, done, {"note": note})


urlpatterns = [
    path("", index, name="index"),
    path("packages/<int:package_id>/", package_page, name="package"),
    path("packages/<int:package_id>/manifest.json", manifest_download, name="manifest"),
    path("packages/<int:package_id>/files/<path:file_path>", file_download, name="file"),
    path("packages/<int:package_id>/verify", verify_now, name="verify"),
    path("packages/<int:package_id>/export", export_zip, name="export"),
    path("packages/<int:package_id>/journal/", journal_page, name="journal"),
    path("packages/<int:package_id>/disposal", disposal_request_view, name="disposal_request"),
    path(
        "packages/<int:package_id>/disposals/<int:disposal_id>/decide",
        disposal_decide_view,
        name="disposal_decide",
    ),
]
