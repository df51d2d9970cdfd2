"""One error shape for every failure:

    {"error": {"code": "<stable_code>", "message": "<human text>", "fields": {<field>: [...]}}}

`code` is stable and machine-readable; `fields` names the field or item at fault when there is
one. Domain errors (canvass.errors), Django's ValidationError / Http404 / PermissionDenied and
DRF's exceptions all end here, so clients see one shape.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from canvass.errors import DomainError


class ApiError(exceptions.APIException):
    """An HTTP-layer error with an explicit code (bad JSON, body too large, ...)."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status_code: int = 400,
        fields: dict[str, Any] | None = None,
    ):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.fields = fields or {}


_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "malformed_json",
    exceptions.ValidationError: "invalid",
}


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) for v in detail]
    return str(detail)


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, _flatten(exc.fields)), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        fields = _flatten(exc.message_dict) if hasattr(exc, "error_dict") else {}
        message = "; ".join(exc.messages) if exc.messages else "Invalid input."
        return Response(error_body("invalid", message, fields), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    # Imported here, not at the top: rest_framework.views reads the parser setting when it is
    # imported, and api.parsers imports this module (an import cycle otherwise).
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ApiError):
        response.data = error_body(exc.error_code, str(exc.detail), _flatten(exc.fields))
        return response

    code = next((c for klass, c in _DRF_CODES.items() if isinstance(exc, klass)), "error")
    detail = getattr(exc, "detail", None)
    if isinstance(exc, exceptions.ValidationError):
        fields = (
            _flatten(detail) if isinstance(detail, dict) else {"non_field_errors": _flatten(detail)}
        )
        message = "Invalid input."
        # Surface the first message so a human reading the response sees what went wrong.
        first = _first_message(fields)
        if first:
            message = f"Invalid input: {first}"
        response.data = error_body(code, message, fields)
    else:
        response.data = error_body(code, str(detail) if detail is not None else code)
    return response


def _first_message(fields: Any) -> str | None:
    if isinstance(fields, dict):
        for key, value in fields.items():
            inner = _first_message(value)
            if inner:
                return inner if key == "non_field_errors" else f"{key}: {inner}"
    elif isinstance(fields, list):
        for value in fields:
            inner = _first_message(value)
            if inner:
                return inner
    elif isinstance(fields, str):
        return fields
    return None
