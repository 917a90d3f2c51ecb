"""NUL bytes, huge strings, bytes that are not UTF-8 and odd unicode, in every part of a request,
get a 4xx envelope and change nothing; never a 500, never HTML."""

import json

import pytest

from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

ODD = [
    "%00",  # NUL
    "%FF%FE",  # not UTF-8
    "%E2%80%AE",  # right-to-left override
    "%F0%9F%92%A5",  # emoji
    "A" * 5000,  # very long
    "%ED%A0%80",  # an encoded surrogate (invalid UTF-8)
]


@pytest.fixture
def product():
    return ProductFactory(public_id="PROD-4090-MSI-001", sku="GPU-NV-4090-MSI-001", stock=23)


def assert_envelope(response, statuses):
    assert response.status_code in statuses, response.content[:500]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    if response.status_code >= 400:
        assert set(body) >= {"error", "message"}


@pytest.mark.parametrize("odd", ODD)
@pytest.mark.parametrize(
    "template", ["/v1/products/{}", "/v1/inventory/{}", "/v1/orders/{}", "/v1/{}"]
)
def test_odd_path_segments_are_not_found(api, product, template, odd):
    assert_envelope(api.get(template.format(odd)), {404})


@pytest.mark.parametrize("odd", ODD)
@pytest.mark.parametrize(
    "parameter", ["search", "category", "manufacturer", "ordering", "min_price", "in_stock"]
)
def test_odd_query_values_are_answered_or_refused(api, product, parameter, odd):
    assert_envelope(api.get(f"/v1/products?{parameter}={odd}"), {200, 400})


@pytest.mark.parametrize("odd", ["%00", "%FF", "A" * 5000])
def test_odd_order_filters_are_answered_or_refused(api, odd):
    for parameter in ("customer", "status", "created_after"):
        assert_envelope(api.get(f"/v1/orders?{parameter}={odd}"), {200, 400})


@pytest.mark.parametrize(
    "header", ["Bearer tp_\x00_x", "Bearer " + "A" * 10000, "Bearer tp_ÿþ_é", "\x00"]
)
def test_odd_authorization_headers_are_unauthorized(api_client, product, header):
    response = api_client.get("/v1/products/PROD-4090-MSI-001", HTTP_AUTHORIZATION=header)

    assert_envelope(response, {401})


@pytest.mark.parametrize("key", ["a\x00b", "", " ", "k" * 256, "ключ", "a b"])
def test_odd_idempotency_keys_are_refused_before_any_change(api, product, key):
    response = api.patch(
        "/v1/inventory/GPU-NV-4090-MSI-001",
        {"quantity": 45},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )

    assert_envelope(response, {400})
    product.stock.refresh_from_db()
    assert product.stock.on_hand == 23


@pytest.mark.parametrize(
    "raw",
    [
        '{"quantity": 45, "reason": "a\\u0000b"}',  # NUL inside a string
        '{"quantity": 45, "reason": "\\ud800"}',  # lone surrogate
        '{"quantity": 45, "\\udfff": 1}',  # lone surrogate in a key
        '{"quantity": 45, "reason": "' + "x" * 20000 + '"}',  # far too long
        '{"quantity": 1e400}',  # overflows a float
        '{"quantity": 45' + "]" * 10,  # broken
        "[" * 5000 + "]" * 5000,  # deep nesting
    ],
)
def test_odd_bodies_are_refused_and_change_nothing(api, product, raw):
    response = api.generic(
        "PATCH", "/v1/inventory/GPU-NV-4090-MSI-001", raw, content_type="application/json"
    )

    assert_envelope(response, {400, 413})
    product.stock.refresh_from_db()
    assert product.stock.on_hand == 23


def test_odd_strings_in_an_order_body_are_refused(api, product):
    body = {
        "customer_id": "CUST-\u0000",
        "items": [{"product_id": "PROD-\ud83d", "quantity": 1}],
        "shipping_address": {"street": "\u202e", "city": "x" * 5000, "state": "C\u0000"},
    }
    raw = json.dumps(body)  # json.dumps escapes the lone surrogate as \ud83d

    response = api.generic("POST", "/v1/orders", raw, content_type="application/json")

    assert_envelope(response, {400})
