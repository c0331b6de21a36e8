"""What the supervision pages share: a list filter's value checked against its choices (anything else is
refused with `invalid_filter`, 400), and a list's page with the query string its links keep."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.utils.translation import gettext as _

from core.errors import ValidationFailed

PAGE_SIZE = 25


def choice(get, name: str, allowed) -> str:
    value = get.get(name, "")
    if value not in allowed:
        raise ValidationFailed(
            _("The value of “%(name)s” is not valid.") % {"name": name}, code="invalid_filter", filter=name
        )
    return value


def paged(get, qs) -> tuple[Page, str]:
    """The requested page of `qs` (a malformed number is the first page) and the other query values."""
    raw = get.get("page", "1")
    page = Paginator(qs, PAGE_SIZE).get_page(int(raw) if raw.isdigit() and len(raw) < 7 else 1)
    query = get.copy()
    query.pop("page", None)
    return page, query.urlencode()
