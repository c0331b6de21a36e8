"""Pages of the expert pool: the centre's pool list, an expert's file, admission, import and the
review queue; the expert's own page (calendar, relationships, proposals); the regulator's
sanction form; and the specialty search the forms use (/experts/specialties.json).

Views parse the request, check who may ask, call a service or a selector and render; a refused
request is shown with its code and each field's code. A package since it outgrew one module.
"""

from django.urls import path

from experts.views.pool.centre import (
    pool_change,
    pool_changes,
    pool_create,
    pool_detail,
    pool_import,
    pool_list,
    pool_status,
)
from experts.views.pool.me import (
    me,
    me_change,
    me_relationship_declare,
    me_relationship_withdraw,
    me_unavailable_add,
    me_unavailable_remove,
)
from experts.views.pool.sanctions import pool_sanction
from experts.views.pool.specialties import specialties_json

urlpatterns = [
    path("pool/", pool_list, name="pool_list"),
    path("pool/new/", pool_create, name="pool_create"),
    path("pool/import/", pool_import, name="pool_import"),
    path("pool/changes/", pool_changes, name="pool_changes"),
    path("pool/changes/<int:pk>/", pool_change, name="pool_change"),
    path("pool/<int:pk>/", pool_detail, name="pool_detail"),
    path("pool/<int:pk>/status/", pool_status, name="pool_status"),
    path("pool/<int:pk>/sanction/", pool_sanction, name="pool_sanction"),
    path("me/", me, name="me"),
    path("me/unavailable/", me_unavailable_add, name="me_unavailable_add"),
    path("me/unavailable/<int:pk>/remove/", me_unavailable_remove, name="me_unavailable_remove"),
    path("me/relationships/", me_relationship_declare, name="me_relationship_declare"),
    path("me/relationships/<int:pk>/withdraw/", me_relationship_withdraw, name="me_relationship_withdraw"),
    path("me/change/", me_change, name="me_change"),
    path("specialties.json", specialties_json, name="specialties_json"),
]
