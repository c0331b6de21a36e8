"""The regulator's sanction form for an expert (实施条例75): recorded in the credit record."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from core.errors import DomainError
from experts import rules
from experts import selectors_pool as sel
from experts.models import Expert, Sanction
from experts.services import pool
from experts.views.pool.forms import SANCTION, field_map, form_error, parse_date, raise_if_invalid
from trading.access import require_role
from trading.views.accounts import form_field, signed_in


def _sanction_fields(expert: Expert, data, errors: dict) -> list[dict]:
    lots = [(lot.pk, f"{lot.tender.title} · {lot.title}") for lot in sel.expert_lots(expert)]

    def field(name, label, kind="text", **extra):
        return form_field(name, label, data, errors, kind=kind, **extra)

    return [
        field("kind", _("Kind"), "select", choices=Sanction.Kind.choices, required=True),
        field("legal_basis", _("Legal basis (处罚依据)"), required=True, maxlength=300),
        field("starts_on", _("From"), "date", required=True),
        field("ends_on", _("Until (required for a suspension)"), "date"),
        field("fine_amount", _("Fine (yuan)"), "number", step="0.01"),
        field("lot", _("Lot concerned"), "select", choices=lots),
        field("description", _("Facts"), "textarea"),
    ]


@csrf_protect
@require_http_methods(["GET", "POST"])
@signed_in
def pool_sanction(request, pk: int):
    require_role(request.user, *SANCTION)
    expert = sel.expert_get(pk)
    error, status, data = None, 200, {"starts_on": timezone.localdate().isoformat()}
    if request.method == "POST":
        data = request.POST
        errors: dict = {}
        lot = None
        if request.POST.get("lot"):
            lots = {str(lot.pk): lot for lot in sel.expert_lots(expert)}
            lot = lots.get(request.POST["lot"])
            if lot is None:
                errors["lot"] = _("Not one of the choices.")
        try:
            values = {
                "starts_on": parse_date(
                    request.POST.get("starts_on", ""), "starts_on", errors, required=True
                ),
                "ends_on": parse_date(request.POST.get("ends_on", ""), "ends_on", errors),
            }
            raise_if_invalid(errors)
            pool.sanction_impose(
                expert=expert,
                actor=request.user,
                kind=request.POST.get("kind", ""),
                legal_basis=request.POST.get("legal_basis", "")[:300],
                fine_amount=request.POST.get("fine_amount", "").strip() or None,
                description=request.POST.get("description", ""),
                lot=lot,
                **values,
            )
        except DomainError as exc:
            error, status = form_error(exc), exc.status
        else:
            messages.success(request, _("The sanction was recorded in the credit record."))
            return redirect("experts:pool_sanction", pk=expert.pk)
    return render(
        request,
        "experts/pool/sanction.html",
        {
            "expert": expert,
            "sanctions": sel.expert_sanctions(expert),
            "fields": _sanction_fields(expert, data, field_map(error)),
            "fine_min": rules.setting("fine_min"),
            "fine_max": rules.setting("fine_max"),
            "error": error,
        },
        status=status,
    )
