"""Domain errors. Services raise these; the API turns them into its one error shape.

Each carries a stable machine-readable `code` that clients may branch on.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class: a request the domain refuses. Maps to a 4xx, never a 500."""

    status = 400
    code = "invalid"

    def __init__(
        self, message: str, *, code: str | None = None, fields: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.fields = fields or {}


class InvalidInput(DomainError):
    status = 400
    code = "invalid"


class NotFound(DomainError):
    """Unknown or out-of-scope object: another tenant's object is indistinguishable from none."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "permission_denied"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"
