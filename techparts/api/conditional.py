"""Conditional reads: `ETag` on GET answers, `If-None-Match` -> 304 Not Modified.

The tag is a hash of the exact body bytes the renderer produced, so it changes whenever
anything in the body changes (a product's stock, a related product's `in_stock`, a name) and
never otherwise, with no bookkeeping of what each body depends on. The price: the body is
still built and rendered to answer a 304; what the client saves is the transfer and its own
parsing. Which budget a conditional GET spends is techparts.api.throttling's business.

A view opts in with one line, the mixin first among its bases:
    class InventoryListView(ConditionalGetMixin, generics.ListAPIView): ...
and its GET operation documents the header, the tag and the 304 by itself (techparts.api.schema).
"""

import hashlib
import re

from django.http import HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.utils.cache import patch_cache_control, patch_vary_headers
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response

from techparts.api.throttling import charge_full_read, is_conditional_get

# RFC 9110 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc excludes '"', spaces
# and controls. Anything else in the header (a bare token, a stray comma) matches nothing.
_ENTITY_TAG = re.compile(r'\s*(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')
# A client has no business sending more tags than this; the rest are not looked at, which can
# only turn a 304 into a 200 (always a correct answer), never the other way round.
MAX_TAGS = 64
MAX_HEADER_CHARS = 8 * 1024


def body_etag(body: bytes) -> str:
    """Return the strong entity tag of a body: 128 bits of its BLAKE2b hash, quoted."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def if_none_match_matches(header: str | None, etag: str) -> bool:
    """Tell whether an `If-None-Match` header names `etag` (weak comparison, RFC 9110 13.1.2).

    `*` matches any current representation; a list matches when one of its tags does, `W/`
    prefixes ignored on both sides. A malformed header matches nothing.
    """
    if header is None:
        return False
    header = header.strip()
    if header == "*":
        return True
    if len(header) > MAX_HEADER_CHARS:
        header = header[:MAX_HEADER_CHARS]
    opaque = etag.removeprefix("W/")
    position = 0
    for _ in range(MAX_TAGS):
        match = _ENTITY_TAG.match(header, position)
        if match is None:
            return False
        if match.group(1) == opaque:
            return True
        position = match.end()
        if position >= len(header):
            return False
    return False


class ConditionalGetMixin:
    """Tag every 200 GET/HEAD answer of the view and answer 304 when the client holds it.

    Put it before the DRF view class so that it sees the finished response. Other methods
    (PATCH, POST) ignore `If-None-Match` rather than answer RFC 9110's 412: the API's
    compare-and-set for writes is `expected_quantity` (and retries are Idempotency-Key's), and
    one way to say "only if unchanged" is less to get wrong than two (docs/api.md).
    Answers depend on the API key (the disclosure rule: movements show references only to
    their own owner), so they are `Cache-Control: private` and `Vary: Authorization`.
    """

    conditional_get = True  # read by the throttle and the schema hook

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args, **kwargs
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD"):
            return response
        conditional = is_conditional_get(request)
        if response.status_code == 200 and isinstance(response, Response):
            response.render()
            etag = body_etag(response.content)
            if conditional and if_none_match_matches(request.META["HTTP_IF_NONE_MATCH"], etag):
                return _not_modified(etag)
            response["ETag"] = etag
            _mark_private(response)
        if conditional:
            # Not a 304: the answer costs a normal read as well (after the work, as only the
            # work tells a 304 from a 200; a 304 costs the same work, see throttling).
            wait = charge_full_read(request)
            if wait is not None:
                refused = self.handle_exception(Throttled(wait))
                return super().finalize_response(request, refused, *args, **kwargs)
        return response


def _mark_private(response: HttpResponse) -> None:
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ("Authorization",))


def _not_modified(etag: str) -> HttpResponse:
    response = HttpResponseNotModified()
    response["ETag"] = etag
    _mark_private(response)
    return response
