"""The one request-body parser of the API: bounded in size, in nesting depth and in work.

Every body is read at most API_MAX_BODY_BYTES, or its view's own cap (+1 to tell "too
large"), its nesting depth is measured on the text before any JSON decoding (iteratively, so a
deep body cannot exhaust the stack), and every later walk over the decoded value is iterative
as well.
"""

import json
import re
from typing import Any

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.utils.json import strict_constant

# The deepest nesting of arrays and objects a request body may have. The deepest body the API
# defines is 3 levels (an order: object > items list > line object); 32 leaves room for any
# honest client while keeping every walk over the decoded value small.
MAX_JSON_DEPTH = 32

# A JSON string (skipped whole, so brackets inside strings do not count) or one bracket.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body is larger than the {limit} bytes this API accepts.")


class NestedTooDeeply(ParseError):
    def __init__(self) -> None:
        super().__init__(
            f"Request body nests arrays and objects more than {MAX_JSON_DEPTH} levels deep; "
            f"{MAX_JSON_DEPTH} is the most this API accepts"
        )


def max_body_bytes(view: Any) -> int:
    """Return the body cap of `view`: API_MAX_BODY_BYTES, unless the view names its own setting.

    A view whose calls are legitimately larger (the bulk stock write) sets `max_body_setting`
    to the name of its documented setting; the cap is read when the request comes, so it
    follows the settings in force.
    """
    name = getattr(view, "max_body_setting", None)
    return getattr(settings, name) if name else settings.API_MAX_BODY_BYTES


class JSONParser(parsers.JSONParser):
    """Parse a JSON body of at most the view's cap (max_body_bytes) and MAX_JSON_DEPTH levels."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = max_body_bytes(parser_context.get("view"))
        request = parser_context.get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(limit)
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge(limit)
        try:
            text = body.decode(parser_context.get("encoding") or settings.DEFAULT_CHARSET)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        depth = nesting_depth(text, stop_above=MAX_JSON_DEPTH)
        if depth > MAX_JSON_DEPTH:
            raise NestedTooDeeply()
        try:
            data = json.loads(text, parse_constant=strict_constant if self.strict else None)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        if has_lone_surrogate(data):
            # JSON allows "\ud800" escapes that are not characters; nothing can store them.
            raise ParseError(
                "JSON parse error - string contains an invalid \\u escape (lone surrogate)"
            )
        return data


def nesting_depth(text: str, *, stop_above: int) -> int:
    """Return how deep arrays and objects nest in JSON text, or stop_above + 1 once deeper.

    Strings are skipped whole, so `"[[["` counts nothing. Malformed text gets a number too;
    the JSON decoder refuses it afterwards.
    """
    depth = deepest = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > stop_above:
                return depth
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


def has_lone_surrogate(value: Any) -> bool:
    """Tell whether any string (key or value) in decoded JSON holds a lone UTF-16 surrogate."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
