"""Request correlation: an X-Request-ID on every response and one structured log line each."""

import json
import logging
import re
import time
import uuid

from django.http import Http404, HttpRequest, HttpResponse

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
                    "user": request.user.get_username()
                    if getattr(request, "user", None) and request.user.is_authenticated
                    else None,
                },
                ensure_ascii=True,
            )
        )
        return response


class RejectNulPathMiddleware:
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
