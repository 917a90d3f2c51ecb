"""Request plumbing: request ids and the log line, NUL paths, and chunked request bodies."""

import io
import json
import logging
import re
import time
import uuid

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from techparts.api.errors import is_api_path, json_error_response
from techparts.api.parsers import PayloadTooLarge, max_body_bytes

logger = logging.getLogger("techparts.requests")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_KEY_PREFIX = re.compile(r"^Bearer\s+tp_([0-9a-f]{8})_", re.IGNORECASE)


class RequestIdMiddleware:
    """Tag each request with an id (the caller's X-Request-ID when sane) and log its outcome."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.id
        # Only the key's public prefix is logged, never the secret.
        match = _KEY_PREFIX.match(request.headers.get("Authorization", ""))
        logger.info(
            json.dumps(
                {
                    "request_id": request.id,
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "api_key": f"tp_{match.group(1)}" if match else None,
                    "user": _username(request),
                },
                ensure_ascii=True,
            )
        )
        return response


def _username(request: HttpRequest) -> str | None:
    # A session user is loaded from the database: when that cannot be reached, the answer
    # (a 503) is already made, and its log line must still be written.
    try:
        user = getattr(request, "user", None)
        return user.get_username() if user and user.is_authenticated else None
    except DatabaseError:
        return None


class RejectNulMiddleware:
    """Answer 404 for a NUL byte in the path, or in the query string of an admin page.

    No route has a NUL, and no database can store one; PostgreSQL refuses even to compare
    with it, and the admin hands query values (filters, search, autocomplete terms, the date
    drill-down) to the database as they come. The API validates its own query parameters.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            raise Http404("No such path")
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if request.resolver_match.app_name == "admin" and any(
            "\x00" in name or any("\x00" in value for value in values)
            for name, values in request.GET.lists()
        ):
            raise Http404("No such page")
        return None


class ChunkedBodyMiddleware:
    """Read a chunked API request body when the server can, refuse it with 411 when it cannot.

    Django sizes a request body by its Content-Length; a body sent with
    `Transfer-Encoding: chunked` has none and would be read as empty, so a valid PATCH would be
    told its fields are missing. gunicorn (`make serve`) decodes chunked bodies and says so with
    `wsgi.input_terminated`: the body is read here, up to the route's body cap
    (API_MAX_BODY_BYTES, or the view's own, as the parser reads it; 413 above), and handed on
    with its length. Servers that cannot (Django's runserver, `make run`) get
    `411 length_required`. (The answers carry no Content-Length, so runserver closes the
    connection that still holds the unread chunks; an application may not send `Connection`.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "HTTP_TRANSFER_ENCODING" in request.META and is_api_path(request):
            refusal = self._read_chunked_body(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    @staticmethod
    def _read_chunked_body(request: HttpRequest) -> HttpResponse | None:
        if not request.META.get("wsgi.input_terminated"):
            return json_error_response(
                411,
                "length_required",
                "Send the request body with a Content-Length header; this server cannot read "
                "chunked request bodies (Transfer-Encoding: chunked).",
            )
        limit = _body_cap(request)
        body = request.META["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            return json_error_response(413, "payload_too_large", str(PayloadTooLarge(limit).detail))
        # From here on the body is an ordinary one of known length.
        request._stream = LimitedStream(io.BytesIO(body), len(body))
        request.META["CONTENT_LENGTH"] = str(len(body))
        del request.META["HTTP_TRANSFER_ENCODING"]
        return None


def _body_cap(request: HttpRequest) -> int:
    # The URL is not resolved yet: find the view the parser would run, for its own cap.
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return settings.API_MAX_BODY_BYTES
    return max_body_bytes(getattr(match.func, "view_class", None))
