"""Domain errors with a stable code and a translatable human message.

Views, the API and management commands turn them into 4xx responses / exit codes that
carry `code`; tests assert the code, never the message.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refused request: `code` is stable API, `message` is for people."""

    code: str = "invalid"
    status: int = 400
    default_message: str = "The request was refused."

    def __init__(
        self, message: Any = None, *, code: str | None = None, status: int | None = None, **params: Any
    ):
        self.message = message if message is not None else self.default_message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.params = params
        super().__init__(f"{self.code}: {self.message}")

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": str(self.message)}
        if self.params:
            data["params"] = {
                k: (str(v) if not isinstance(v, (int, float, bool, list, dict)) else v)
                for k, v in self.params.items()
            }
        return data


class ValidationFailed(DomainError):
    code = "invalid"
    status = 400


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = "Not found."


class AccessDenied(DomainError):
    code = "forbidden"
    status = 403
    default_message = "You may not do this."


class Conflict(DomainError):
    code = "conflict"
    status = 409


class RuleViolation(DomainError):
    """A legal rule (DOMAIN [V]) refuses the request; carries the rule's code and source."""

    status = 422

    def __init__(self, message: Any = None, *, code: str, source: str = "", **params: Any):
        super().__init__(message, code=code, **params)
        self.source = source

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data["source"] = self.source
        return data
