"""The archive's public side, open to anyone: archived projects with their public files, the signed
Merkle roots the platform publishes, and the receipt check with which a bidder proves that its receipt
is in an archived package and the package in a published root."""

from __future__ import annotations

import json
import re

from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from archive import signing
from archive.proofs import check_receipt_proof, receipt_digest, receipt_proof
from archive.rules import FORMAT
from archive.selectors import (
    package_facets,
    package_file,
    package_folders,
    package_hidden_count,
    package_search,
    roots_published,
)
from archive.services.seal import proof_for
from archive.views import common
from core.canonical import canonical_json
from core.errors import DomainError, NotFound, ValidationFailed

PAGE_SIZE = 25
ROOTS_PAGE_SIZE = 50
ROOTS_JSON_LIMIT = 500
# A receipt is a small signed JSON document; anything much larger is not one.
RECEIPT_MAX_BYTES = 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

# The links of a receipt's proof chain, in order, with the problem code of archive.proofs that breaks
# each one.
LINKS = (
    ("receipt", "receipt_not_this_file", gettext_lazy("Your file is the archived file (SHA-256 and size)")),
    ("file", "file_not_in_package", gettext_lazy("The file is in the package's file tree")),
    ("package_signature", "package_signature_invalid", gettext_lazy("The platform signed the package")),
    ("package", "package_not_in_root", gettext_lazy("The package is in the published Merkle root")),
    ("root_signature", "root_signature_invalid", gettext_lazy("The platform signed the published root")),
    ("ca", "ca_untrusted", gettext_lazy("The signatures chain to the platform's CA")),
)


@never_cache
@require_safe
def public_index(request):
    filters = common.parse_filters(request.GET, public=True)
    qs = package_search(**common.search_args(filters), public=True)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = common.labelled(list(page.object_list))
    facets = package_facets(public=True)
    return render(
        request,
        "archive/public_index.html",
        {
            "page": page,
            "filters": filters,
            "query": common.query_without_page(request),
            "regimes": common.choices(facets["regime"], common.REGIME_LABELS),
            "years": facets["year"],
        },
    )


@never_cache
@require_safe
def public_package(request, package_id: int):
    package = common.access_package(package_id, public=True)
    return render(
        request,
        "archive/public_package.html",
        {
            "package": package,
            "folders": package_folders(package, public_only=True),
            "hidden": package_hidden_count(package),
            "proof": proof_for(package),
        },
    )


@never_cache
@require_safe
def public_file(request, package_id: int, file_path: str):
    """A public file of a sealed package; any other path is not found (a non-public file is not
    admitted to exist)."""
    package = common.access_package(package_id, public=True)
    afile = package_file(package, file_path, public_only=True)
    if afile is None:
        raise NotFound(_("The package holds no such public file."), code="archive_file_not_found")
    return common.file_response(afile)


def _ca_fingerprint() -> str:
    return signing.fingerprint(signing.signer().chain[-1])


@never_cache
@require_safe
def roots_page(request):
    page = Paginator(roots_published(), ROOTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "archive/roots.html", {"page": page, "ca_fingerprint": _ca_fingerprint()})


def _root_record(root) -> dict:
    return {
        "tree_size": root.tree_size,
        "root_hash": root.root_hash,
        "published_at": root.published_at,
        "signature": root.signature,
        "certificates": root.certificates,
    }


@never_cache
@require_safe
def roots_json(request):
    """The published roots, newest first, `ROOTS_JSON_LIMIT` at a time (`?before=<tree_size>` pages on).
    Times are written as the signed statement has them, so each signature can be checked as is."""
    raw = request.GET.get("before", "")
    if raw and not (raw.isdigit() and len(raw) <= 18):
        error = ValidationFailed(
            _("The value of “%(name)s” is not valid.") % {"name": "before"}, code="invalid_filter"
        )
        return JsonResponse({"error": error.as_dict()}, status=error.status)
    roots = list(roots_published(before=int(raw) if raw else None)[: ROOTS_JSON_LIMIT + 1])
    body = {
        "format": FORMAT,
        "ca_fingerprint": _ca_fingerprint(),
        "roots": [_root_record(r) for r in roots[:ROOTS_JSON_LIMIT]],
        "next_before": roots[ROOTS_JSON_LIMIT - 1].tree_size if len(roots) > ROOTS_JSON_LIMIT else None,
    }
    return HttpResponse(canonical_json(body), content_type="application/json")


# --- the receipt check ---------------------------------------------------------------------------------


def check_sha256(value: str) -> str:
    sha = "".join(value.split()).lower()
    if not _SHA256.match(sha):
        raise ValidationFailed(
            _("A SHA-256 digest is 64 hexadecimal characters."), code="archive_sha256_invalid"
        )
    return sha


def _receipt_input(request) -> tuple[str, bytes | None]:
    """(sha256, the uploaded bytes or None when only the digest was pasted). An uploaded receipt is
    hashed as the archive keeps it (canonical JSON), so a pretty-printed copy is found too."""
    upload = request.FILES.get("receipt")
    if upload is not None:
        if upload.size > RECEIPT_MAX_BYTES:
            raise ValidationFailed(
                _("The file is too large to be a receipt (at most %(size)s KB).")
                % {"size": RECEIPT_MAX_BYTES // 1024},
                code="archive_receipt_too_large",
                status=413,
            )
        data = upload.read()
        return receipt_digest(data), data
    text = request.POST.get("sha256", "")
    if not text.strip():
        raise ValidationFailed(
            _("Upload your receipt file or paste its SHA-256."), code="archive_receipt_missing"
        )
    return check_sha256(text[:200]), None


def _links(problems: list[str], *, have_bytes: bool) -> list[dict]:
    out = []
    for key, code, label in LINKS:
        checked = have_bytes or key != "receipt"
        pending = key in ("package", "root_signature") and "package_not_published" in problems
        out.append(
            {
                "key": key,
                "label": label,
                "checked": checked,
                "ok": checked and code not in problems and not pending,
            }
        )
    return out


def _proof_json(sha: str) -> bytes | None:
    """The receipt's proof as the bidder downloads it (canonical JSON: the times are those signed)."""
    proof = receipt_proof(sha)
    return None if proof is None else canonical_json(proof)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def receipt_page(request):
    context: dict = {"max_kb": RECEIPT_MAX_BYTES // 1024}
    if request.method != "POST":
        return render(request, "archive/receipt.html", context)
    try:
        sha, data = _receipt_input(request)
    except DomainError as exc:
        return render(request, "archive/receipt.html", {**context, "error": exc.as_dict()}, status=exc.status)
    raw = _proof_json(sha)
    result: dict = {"sha256": sha, "found": raw is not None, "uploaded": data is not None}
    if raw is not None:
        proof = json.loads(raw)
        problems = check_receipt_proof(
            proof, data if data is not None else b"", trusted_ca=signing.signer().chain[-1]
        )
        if data is None:
            problems = [p for p in problems if p != "receipt_not_this_file"]
        manifest = json.loads(proof["manifest"])
        result.update(
            ok=not problems,
            problems=problems,
            links=_links(problems, have_bytes=data is not None),
            path=proof["file"]["entry"]["path"],
            project=manifest.get("project", ""),
            title=manifest.get("title", ""),
            code=manifest.get("code", ""),
            version=manifest.get("version"),
        )
        if proof["package"] is not None:
            result.update(
                package_digest=proof["package"]["package_digest"],
                leaf_index=proof["package"]["leaf_index"],
                root=proof["package"]["root"],
                root_published_at=parse_datetime(proof["package"]["root"]["published_at"]),
            )
    return render(request, "archive/receipt.html", {**context, "result": result})


@never_cache
@require_safe
def receipt_proof_json(request):
    """The proof of `?sha256=`, to check offline with `archive.proofs.check_receipt_proof`."""
    try:
        sha = check_sha256(request.GET.get("sha256", "")[:200])
        raw = _proof_json(sha)
        if raw is None:
            raise NotFound(
                _("No archived package holds a file with this SHA-256."), code="archive_receipt_not_found"
            )
    except DomainError as exc:
        return JsonResponse({"error": exc.as_dict()}, status=exc.status)
    response = HttpResponse(raw, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="receipt-proof-{sha[:16]}.json"'
    return response


urlpatterns = [
    path("public/", public_index, name="public"),
    path("public/<int:package_id>/", public_package, name="public_package"),
    path("public/<int:package_id>/files/<path:file_path>", public_file, name="public_file"),
    path("roots/", roots_page, name="roots"),
    path("roots.json", roots_json, name="roots_json"),
    path("receipt/", receipt_page, name="receipt"),
    path("receipt/proof.json", receipt_proof_json, name="receipt_proof"),
]
