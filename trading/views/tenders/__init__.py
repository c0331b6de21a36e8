"""Views: tender management — drafts with lots, publication under the legal rules, amendments,
suspension and closing — the bidders' "obtain documents", and the list of all tenders.

Signed-in tender pages live under workbench/tenders/ so that they never shadow the
public portal's tenders/<pk>/. One module per area (forms, drafts, detail, actions,
documents); this package keeps the URL list and the names other code imports.
"""

from __future__ import annotations

from django.urls import path

from trading.views.tenders.actions import (
    tender_amend_view,
    tender_close_view,
    tender_publish_view,
    tender_resume_view,
    tender_suspend_view,
)
from trading.views.tenders.detail import tender_detail
from trading.views.tenders.documents import tender_document_file, tender_documents, tender_obtain
from trading.views.tenders.drafts import tender_create_view, tender_edit, tender_list
from trading.views.tenders.forms import tender_data_from_instance, tender_data_from_post, tender_form

__all__ = [
    "tender_amend_view",
    "tender_close_view",
    "tender_create_view",
    "tender_data_from_instance",
    "tender_data_from_post",
    "tender_detail",
    "tender_document_file",
    "tender_documents",
    "tender_edit",
    "tender_form",
    "tender_list",
    "tender_obtain",
    "tender_publish_view",
    "tender_resume_view",
    "tender_suspend_view",
    "urlpatterns",
]

urlpatterns = [
    path("workbench/tenders/", tender_list, name="tender_list"),
    path("workbench/tenders/new/", tender_create_view, name="tender_create"),
    path("workbench/tenders/<int:pk>/", tender_detail, name="tender_detail"),
    path("workbench/tenders/<int:pk>/edit/", tender_edit, name="tender_edit"),
    path("workbench/tenders/<int:pk>/publish/", tender_publish_view, name="tender_publish"),
    path("workbench/tenders/<int:pk>/amend/", tender_amend_view, name="tender_amend"),
    path("workbench/tenders/<int:pk>/suspend/", tender_suspend_view, name="tender_suspend"),
    path("workbench/tenders/<int:pk>/resume/", tender_resume_view, name="tender_resume"),
    path("workbench/tenders/<int:pk>/close/", tender_close_view, name="tender_close"),
    path("workbench/tenders/<int:pk>/obtain/", tender_obtain, name="tender_obtain"),
    path("workbench/tenders/<int:pk>/documents/", tender_documents, name="tender_documents"),
    path(
        "workbench/tenders/<int:pk>/documents/<int:attachment_pk>/",
        tender_document_file,
        name="tender_document_file",
    ),
]
