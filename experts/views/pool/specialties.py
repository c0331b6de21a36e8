"""The specialty tree search for pickers: /experts/specialties.json?q=&parent=&limit=."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.http import require_safe

from experts import selectors_pool as sel
from trading.views.accounts import signed_in


@require_safe
@signed_in
def specialties_json(request):
    try:
        limit = int(request.GET.get("limit", 20))
    except ValueError:
        limit = 20
    results = sel.specialty_search(
        request.GET.get("q", "")[:60], limit=limit, parent=request.GET.get("parent", "")[:12]
    )
    return JsonResponse({"results": results})
