"""One exception handler for the whole API: the ``{code, message, details}`` body of api.md §1.3."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, DataError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, parsers
from rest_framework.response import Response

from eventstore.errors import ConcurrencyError, DomainError, Forbidden, NotFound, RetryLater
from web.rest import BadRequest, to_decimal

logger = logging.getLogger("mallbots.api")

BAD_REQUEST, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, METHOD, CONFLICT, INTERNAL, UNAVAILABLE = 3, 16, 7, 5, 12, 10, 13, 14
_HTTP = {BAD_REQUEST: 400, UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, METHOD: 405, CONFLICT: 409,
         INTERNAL: 500, UNAVAILABLE: 503}


def error_body(code: int, message: str, details: list | None = None) -> dict:
    return {"code": code, "message": message, "details": details or []}


def _response(code: int, message: str, details: list | None = None, headers: dict | None = None) -> Response:
    return Response(error_body(code, message, details), status=_HTTP[code], headers=headers)


def _flatten(detail, path: str = "") -> list[dict]:
    if isinstance(detail, dict):
        items = []
        for key, value in detail.items():
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                sub = f"{path}[{key}]"
            elif key == "non_field_errors":
                sub = path
            else:
                sub = f"{path}.{key}" if path else str(key)
            items += _flatten(value, sub)
        return items
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [{"field": path, "message": f"{path} {item}".strip()} for item in detail]
        items = []
        for index, value in enumerate(detail):
            if value:
                items += _flatten(value, f"{path}[{index}]")
        return items
    return [{"field": path, "message": f"{path} {detail}".strip()}]


TOO_LARGE = "the request body is too large"
TOO_DEEP = "the request body is nested too deeply"
NOT_JSON = "the request body is not valid JSON"
MAX_DEPTH = 32
_INT_DIGITS = 18


def exception_handler(exc, context) -> Response:
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body(BAD_REQUEST, TOO_LARGE), status=413)
    if isinstance(exc, exceptions.NotAcceptable):
        return Response(error_body(BAD_REQUEST, "Not Acceptable"), status=406)
    if isinstance(exc, DomainError):
        return _response(BAD_REQUEST, exc.message)
    if isinstance(exc, BadRequest):
        return _response(BAD_REQUEST, exc.message)
    if isinstance(exc, NotFound):
        return _response(NOT_FOUND, exc.message)
    if isinstance(exc, Forbidden):
        return _response(FORBIDDEN, exc.message)
    if isinstance(exc, ConcurrencyError):
        return _response(CONFLICT, exc.message)
    if isinstance(exc, exceptions.ParseError):
        return _response(BAD_REQUEST, str(exc.detail))
    if isinstance(exc, exceptions.ValidationError):
        details = _flatten(exc.detail)
        return _response(BAD_REQUEST, details[0]["message"] if details else "invalid request", details)
    if isinstance(exc, exceptions.NotAuthenticated):
        return _response(UNAUTHENTICATED, "authentication required", headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, exceptions.AuthenticationFailed):
        return _response(UNAUTHENTICATED, "invalid token", headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, exceptions.PermissionDenied):
        return _response(FORBIDDEN, str(exc.detail) if str(exc.detail) else "permission denied")
    if isinstance(exc, exceptions.MethodNotAllowed):
        return _response(METHOD, "Method Not Allowed")
    if isinstance(exc, (Http404, exceptions.NotFound)):
        return _response(NOT_FOUND, "Not Found")
    if isinstance(exc, (OperationalError, InterfaceError, RetryLater)):
        logger.warning("dependency unavailable: %s", exc)
        return _response(UNAVAILABLE, "service unavailable")
    if isinstance(exc, exceptions.APIException):
        return Response(error_body(BAD_REQUEST if exc.status_code < 500 else INTERNAL, str(exc.detail)),
                        status=exc.status_code)
    if isinstance(exc, DataError):
        logger.exception("the database refused a value the API let through")
        return _response(BAD_REQUEST, "the request holds a value that cannot be stored")
    if isinstance(exc, DatabaseError):
        logger.exception("database error")
        return _response(UNAVAILABLE, "service unavailable")
    logger.exception("unexpected error", exc_info=exc)
    return _response(INTERNAL, "internal error")


def _number(text: str):
    """JSON integers beyond ``_INT_DIGITS`` digits stay ``Decimal`` (no quadratic ``int`` conversion; the
    fields answer ``is out of range``)."""
    return int(text) if len(text) <= _INT_DIGITS else Decimal(text)


_DECODER = json.JSONDecoder(parse_float=to_decimal, parse_int=_number)


def _too_deep(value) -> bool:
    """Whether ``value`` nests objects and lists deeper than ``MAX_DEPTH`` (iterative: no recursion)."""
    level = [value]
    for _ in range(MAX_DEPTH):
        level = [child for node in level if isinstance(node, (dict, list))
                 for child in (node.values() if isinstance(node, dict) else node)]
        if not any(isinstance(node, (dict, list)) for node in level):
            return False
    return True


class AnyJSONParser(parsers.JSONParser):
    """Every body is JSON whatever its Content-Type (reference clients do not always send one).

    Numbers with a fraction or exponent are ``Decimal``, long integers too; a body nested deeper than
    ``MAX_DEPTH`` is refused (400 ``the request body is nested too deeply``) before any field reads it.
    """

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not raw.strip():
            return {}
        try:
            data = _DECODER.decode(raw.decode("utf-8"))
        except RecursionError as exc:
            raise exceptions.ParseError(TOO_DEEP) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(NOT_JSON) from exc
        if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _too_deep(data):
            raise exceptions.ParseError(TOO_DEEP)
        return data


def bad_request_view(request, exception=None):
    """Django's 400 (a bad ``Host`` header, a body too large for a form) with the API's error body."""
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(error_body(BAD_REQUEST, TOO_LARGE), status=413)
    return JsonResponse(error_body(BAD_REQUEST, "Bad Request"), status=400)


def not_found_view(request, exception=None):
    return JsonResponse(error_body(NOT_FOUND, "Not Found"), status=404)


def server_error_view(request):
    return JsonResponse(error_body(INTERNAL, "internal error"), status=500)
