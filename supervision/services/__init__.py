"""Writes of the supervision app: jurisdiction (departments, members, assignment) and complaints."""

from supervision.services.jurisdiction import (
    department_create,
    member_add,
    on_tender_published,
    supervisors_assign,
)

__all__ = ["department_create", "member_add", "on_tender_published", "supervisors_assign"]
