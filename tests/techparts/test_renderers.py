"""The API's JSON renderer: exact money digits and the same bytes whichever encoder writes them."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import simplejson
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.utils.encoders import JSONEncoder as DRFEncoder

from techparts.api.renderers import JSONRenderer

# Every code point but the surrogates, which no request body or database row can hold.
ALL_TEXT = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def simplejson_bytes(data) -> bytes:
    return simplejson.dumps(
        data,
        use_decimal=True,
        default=DRFEncoder().default,
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


@pytest.mark.parametrize(
    "data",
    [
        {"price": Decimal("2149.98"), "tax": Decimal("0.00"), "big": Decimal("1E+2")},
        {"name": ALL_TEXT, "quote": '"\\/\u2028\u2029\x7f'},
        {
            "created_at": datetime(2026, 11, 28, 7, 4, 5, 123456, tzinfo=UTC),
            "day": date(2026, 1, 2),
        },
        {"id": uuid.UUID(int=7), "n": [0, -(2**63), 2**64 - 1, True, False, None, 1.5]},
        {"error": ErrorDetail("Bad value.", code="invalid"), "lazy": gettext_lazy("Not found.")},
        [{"nested": [{"deeper": [Decimal("-0.01")]}]}, (1, 2)],
    ],
    ids=["money", "text", "dates", "scalars", "string-likes", "nesting"],
)
def test_bodies_are_the_bytes_simplejson_wrote(data):
    assert JSONRenderer().render(data) == simplejson_bytes(data)


@pytest.mark.parametrize(
    "data",
    [{"quantity": 10**30}, {1: "integer key"}, {"deep": nested(300)}],
    ids=["beyond-64-bits", "non-string-key", "deeper-than-254"],
)
def test_what_orjson_refuses_is_still_rendered_exactly(data):
    assert JSONRenderer().render(data) == simplejson_bytes(data)


def test_money_keeps_its_digits():
    body = JSONRenderer().render({"subtotal": Decimal("2149.98"), "tax": Decimal("0.00")})

    assert body == b'{"subtotal":2149.98,"tax":0.00}'


def test_nothing_renders_as_an_empty_body():
    assert JSONRenderer().render(None) == b""
