"""Tender documents in the workbench: a bidder obtains them (获取招标文件, registered and
evidenced), then it, the tender's managers and the centre's staff list and download them.
"""

from __future__ import annotations

from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from archive.blobs import blob_open
from core.errors import AccessDenied, DomainError
from trading.access import READ_ALL_ROLES, manages_tender, require_role
from trading.models import Role, Tender
from trading.selectors_workbench import document_obtained, tender_documents_published
from trading.services.tenders import tender_document_download
from trading.views.accounts import signed_in
from trading.views.tenders.detail import detail_page, refusal, tender_for


@require_POST
@signed_in
def tender_obtain(request, pk: int):
    """A bidder obtains the documents (获取招标文件): registered, evidenced, refused when barred."""
    tender = tender_for(request, pk)
    require_role(request.user, Role.BIDDER)
    try:
        tender_document_download(tender=tender, user=request.user, request=request)
    except DomainError as exc:
        return detail_page(request, tender, error=refusal(exc), status=exc.status)
    return redirect("trading:tender_documents", pk=tender.pk)


def _documents_access(request, pk: int) -> Tender:
    tender = tender_for(request, pk)
    user = request.user
    if user.role == Role.BIDDER:
        if not document_obtained(tender=tender, entity_id=user.entity_id):
            raise AccessDenied(_("Obtain the tender documents first."), code="documents_not_obtained")
    elif not (manages_tender(user, tender) or user.role in READ_ALL_ROLES):
        raise AccessDenied(
            _("Only the tender's agency, its tenderee or centre staff may do this."), code="tender_not_yours"
        )
    return tender


@require_safe
@signed_in
def tender_documents(request, pk: int):
    tender = _documents_access(request, pk)
    documents = tender_documents_published(tender=tender)
    return render(request, "trading/tenders/documents.html", {"tender": tender, "documents": documents})


@require_safe
@signed_in
def tender_document_file(request, pk: int, attachment_pk: int):
    tender = _documents_access(request, pk)
    attachment = get_object_or_404(tender_documents_published(tender=tender), pk=attachment_pk)
    response = FileResponse(
        blob_open(attachment.blob),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.blob.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
