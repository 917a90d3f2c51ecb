"""The one error envelope: `{"error": code, "message": text}` plus `details` or extra fields.

DRF's own handler runs first (it rolls back the atomic block and maps Http404 and Django's
PermissionDenied); this module only reshapes its answer, renders domain errors, answers a
database that cannot be reached with a 503 `service_unavailable` and `Retry-After`, and turns
anything else unexpected into a 500 `internal_error` that reveals nothing.
"""

import logging
import re
import sys
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from techparts.api.authentication import UNAUTHORIZED_MESSAGE
from techparts.api.parsers import NestedTooDeeply
from techparts.api.query import InvalidQueryParameters
from techparts.database.availability import RETRY_AFTER_SECONDS, database_unavailable
from techparts.errors import DomainError

logger = logging.getLogger("techparts.api")

INTERNAL_ERROR_MESSAGE = "An unexpected error occurred. It has been logged; please retry later."
SERVICE_UNAVAILABLE_MESSAGE = (
    f"The service is temporarily unavailable. Retry in {RETRY_AFTER_SECONDS} seconds."
)

_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}

# DRF's stock messages rewritten as predicates that follow "Field 'x' ..." (the seed's style).
_PREDICATES = {
    "required": "is required",
    "null": "must not be null",
    "blank": "must not be blank",
    "not_a_list": "must be a list",
    "not_a_dict": "must be an object",
    "empty": "must not be empty",
}
_MESSAGE_PREDICATES = {
    "A valid integer is required.": "must be an integer",
    "A valid number is required.": "must be a number",
    "Not a valid string.": "must be a string",
    "Must be a valid boolean.": "must be a boolean",
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].": "must be an ISO 8601 date-time",
    "Enter a valid date/time.": "must be an ISO 8601 date-time",
    "Enter a valid date.": "must be a date (YYYY-MM-DD)",
    "Enter a number.": "must be a number",
    "Enter a valid value.": "has an invalid value",
    "Enter a valid email address.": "must be a valid email address",
    "Enter a valid UUID.": "must be a valid UUID",
    "Must be a valid UUID.": "must be a valid UUID",
    "String value too large.": "is too long",
}
_ENSURE = re.compile(r"^Ensure this (?:value|field) (?:is|has) ")


def _predicate(detail: exceptions.ErrorDetail) -> str:
    text = str(detail)
    if detail.code in _PREDICATES:
        return _PREDICATES[detail.code]
    if text in _MESSAGE_PREDICATES:
        return _MESSAGE_PREDICATES[text]
    match = _ENSURE.match(text)
    if match:
        verb = "be " if " value is " in text[: match.end()] else "have "
        return "must " + verb + text[match.end() :].rstrip(".")
    return text[:1].lower() + text[1:].rstrip(".")


def flatten_errors(detail: Any, path: str = "") -> list[str]:
    """Turn DRF's nested error detail into seed-style sentences, in order.

    Walks with an explicit stack rather than recursion, so no shape of error detail can
    exhaust the interpreter's stack.
    """
    lines: list[str] = []
    pending: list[tuple[Any, str]] = [(detail, path)]
    while pending:
        node, where = pending.pop()
        children: list[tuple[Any, str]] = []
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("non_field_errors", "__all__"):
                    children.append((value, where))
                elif isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                    children.append((value, f"{where}[{key}]"))
                else:
                    children.append((value, f"{where}.{key}" if where else str(key)))
        elif isinstance(node, list):
            for index, item in enumerate(node):
                # A list of nested serializers: errors by position, empty dicts for valid items.
                nested = isinstance(item, (dict, list))
                children.append((item, f"{where}[{index}]" if nested else where))
        else:
            lines.append(_sentence(node, where))
            continue
        pending.extend(reversed(children))
    return lines


def _sentence(detail: Any, path: str) -> str:
    if isinstance(detail, exceptions.ErrorDetail) and detail.code == "seed_message":
        return str(detail)
    text = _predicate(detail) if isinstance(detail, exceptions.ErrorDetail) else str(detail)
    return f"Field '{path}' {text}" if path else text[:1].upper() + text[1:]


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "message": message, **extra}


def exception_handler(exc: Exception, context: dict) -> Response:
    if isinstance(exc, DomainError):
        response = Response(exc.as_body(), status=exc.status_code)
        if exc.retry_after is not None:
            response["Retry-After"] = str(exc.retry_after)
        return response

    response = drf_exception_handler(exc, context)
    if response is None and database_unavailable(exc):
        request = context.get("request")
        _log_unavailable(getattr(request, "method", "?"), getattr(request, "path", "?"), exc)
        return Response(
            error_body("service_unavailable", SERVICE_UNAVAILABLE_MESSAGE),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if response is None:
        request = context.get("request")
        logger.exception(
            "Unhandled API error on %s %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
        )
        return Response(
            error_body("internal_error", INTERNAL_ERROR_MESSAGE),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    code = _CODES.get(response.status_code, "error")
    if isinstance(exc, exceptions.ValidationError):
        body = error_body(code, "Invalid request body", details=flatten_errors(exc.detail))
        view = context.get("view")
        method = getattr(getattr(view, "request", None), "method", "GET")
        if isinstance(exc, InvalidQueryParameters) or method in ("GET", "HEAD"):
            body["message"] = "Invalid query parameters"
    elif isinstance(exc, NestedTooDeeply):
        body = error_body(code, "Request body is nested too deeply", details=[str(exc.detail)])
    elif isinstance(exc, exceptions.ParseError):
        body = error_body(code, "Malformed JSON in request body", details=[str(exc.detail)])
    elif isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        body = error_body(code, UNAUTHORIZED_MESSAGE)
    elif isinstance(exc, exceptions.MethodNotAllowed):
        body = error_body(code, f"Method {context['request'].method} is not allowed here")
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        body = error_body(code, "Request body must be JSON: send 'Content-Type: application/json'.")
    elif isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        body = error_body(
            code, f"Rate limit exceeded. Retry in {wait} second{'s' if wait != 1 else ''}."
        )
    else:
        detail = response.data.get("detail") if isinstance(response.data, dict) else None
        body = error_body(code, str(detail) if detail else "Request failed")
    response.data = body
    return response


# Django-level handlers: errors raised outside DRF views (unknown URLs, middleware failures).
def is_api_path(request: HttpRequest) -> bool:
    """Tell whether a request is for the API (whose errors are JSON envelopes)."""
    return request.path.startswith("/v1/") or request.path == "/v1"


def json_error_response(status_code: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)


def handler400(request: HttpRequest, exception: Exception | None = None):
    if is_api_path(request):
        return json_error_response(400, "validation_error", "Bad request")
    return defaults.bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception | None = None):
    if is_api_path(request):
        return json_error_response(403, "forbidden", "Forbidden")
    return defaults.permission_denied(request, exception)


def handler404(request: HttpRequest, exception: Exception | None = None):
    if is_api_path(request):
        return json_error_response(404, "not_found", "No such API endpoint")
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest):
    # Django calls this while it handles the exception (a view outside DRF, or a middleware),
    # so the exception is the one being handled.
    exc = sys.exception()
    if database_unavailable(exc):
        _log_unavailable(request.method, request.path, exc)
        return service_unavailable_response(request)
    if is_api_path(request):
        return json_error_response(500, "internal_error", INTERNAL_ERROR_MESSAGE)
    return defaults.server_error(request)


def service_unavailable_response(request: HttpRequest) -> HttpResponse:
    """Answer 503 with `Retry-After`: the envelope under /v1/, a plain page elsewhere."""
    if is_api_path(request):
        response = json_error_response(503, "service_unavailable", SERVICE_UNAVAILABLE_MESSAGE)
    else:
        # Pages outside the API answer HTML, as Django's own error pages do.
        response = HttpResponse(
            "<!doctype html>\n<title>Service Unavailable (503)</title>\n"
            f"<h1>Service Unavailable (503)</h1>\n<p>{SERVICE_UNAVAILABLE_MESSAGE}</p>\n",
            status=503,
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _log_unavailable(method: str, path: str, exc: BaseException | None) -> None:
    # One line per request: during an outage every request fails the same way.
    logger.warning("Database unavailable on %s %s: %s: %s", method, path, type(exc).__name__, exc)
