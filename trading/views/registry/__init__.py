"""Views: the market-entity registry — the one-form registration (一表申请), entity pages with
their public and private parts, change proposals and their verification, credit and the blacklist.

One module per area (forms, entities, verification, credit); this package keeps the URL list
and the names other code imports from `trading.views.registry`.
"""

from __future__ import annotations

from django.urls import path

from trading.views.registry.credit import blacklist, credit_revoke, entity_credit
from trading.views.registry.entities import (
    entity_change,
    entity_detail,
    entity_history,
    entity_list,
    register,
    register_done,
)
from trading.views.registry.forms import (
    PARTS,
    SCALARS,
    entity_data_from_post,
    entity_form,
    flatten,
    snapshot_diff,
)
from trading.views.registry.verification import change_decide, change_detail, entity_verify_view, pending

__all__ = [
    "PARTS",
    "SCALARS",
    "blacklist",
    "change_decide",
    "change_detail",
    "credit_revoke",
    "entity_change",
    "entity_credit",
    "entity_data_from_post",
    "entity_detail",
    "entity_form",
    "entity_history",
    "entity_list",
    "entity_verify_view",
    "flatten",
    "pending",
    "register",
    "register_done",
    "snapshot_diff",
    "urlpatterns",
]

urlpatterns = [
    path("registry/register/", register, name="entity_register"),
    path("registry/register/done/", register_done, name="entity_register_done"),
    path("registry/entities/", entity_list, name="entity_list"),
    path("registry/entities/<int:pk>/", entity_detail, name="entity_detail"),
    path("registry/entities/<int:pk>/history/", entity_history, name="entity_history"),
    path("registry/entities/<int:pk>/change/", entity_change, name="entity_change"),
    path("registry/entities/<int:pk>/verify/", entity_verify_view, name="entity_verify"),
    path("registry/entities/<int:pk>/credit/", entity_credit, name="entity_credit"),
    path("registry/pending/", pending, name="entity_pending"),
    path("registry/changes/<int:pk>/", change_detail, name="entity_change_detail"),
    path("registry/changes/<int:pk>/decide/", change_decide, name="entity_change_decide"),
    path("registry/credit/<int:pk>/revoke/", credit_revoke, name="credit_revoke"),
    path("registry/blacklist/", blacklist, name="blacklist"),
]
