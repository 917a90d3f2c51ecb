"""NUL bytes, huge strings, bytes that are not UTF-8 and odd unicode, in every part of a request,
get a 4xx envelope and change nothing; never a 500, never HTML."""

import json
import logging

import pytest

from orders.models import Order
from orders.services import OrderItem, ShippingAddress, order_create
from techparts.actors import Actor
from techparts.api.parsers import MAX_JSON_DEPTH
from tests.factories import CustomerFactory, ProductFactory, TaxRateFactory

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


@pytest.fixture
def place_order_for_api(api):
    """Place a one-unit order of the product as the `api` client's key; return its id."""

    def place(product) -> str:
        TaxRateFactory(state="CA")
        order = order_create(
            customer=CustomerFactory(),
            items=[OrderItem(product=product, quantity=1)],
            shipping_address=ShippingAddress(
                street="1 Main St", city="San Francisco", state="CA", zip="94105"
            ),
            actor=Actor.api(api.api_key),
        )
        return order.order_id

    return place


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


class TestNestingDepth:
    """Bodies nested deeper than MAX_JSON_DEPTH are a 400 before any walk over them: no
    recursion, no 500, one log line (the request's own)."""

    @pytest.fixture
    def world(self, product, place_order_for_api):
        return {"order_id": place_order_for_api(product)}

    @staticmethod
    def nested(depth: int) -> str:
        # The body: {"quantity": [[[...]]]}; the object itself is one level.
        return '{"quantity": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"

    @pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 450, 800, 5000])
    @pytest.mark.parametrize(
        "target",
        ["PATCH /v1/inventory/GPU-NV-4090-MSI-001", "POST /v1/orders", "POST cancel"],
    )
    @pytest.mark.parametrize("idempotency_key", [None, "deep-1"])
    def test_too_deep_a_body_is_a_400_with_one_log_line(
        self, api, product, world, caplog, depth, target, idempotency_key
    ):
        method, path = target.split(" ")
        if path == "cancel":
            path = f"/v1/orders/{world['order_id']}/cancel"
        headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}

        with caplog.at_level(logging.DEBUG):
            response = api.generic(
                method, path, self.nested(depth), content_type="application/json", **headers
            )

        assert response.status_code == 400
        assert response.json() == {
            "error": "validation_error",
            "message": "Request body is nested too deeply",
            "details": [
                f"Request body nests arrays and objects more than {MAX_JSON_DEPTH} levels "
                f"deep; {MAX_JSON_DEPTH} is the most this API accepts"
            ],
        }
        assert [(r.name, r.levelname) for r in caplog.records] == [("techparts.requests", "INFO")]
        assert "Traceback" not in caplog.text
        product.stock.refresh_from_db()
        assert (product.stock.on_hand, product.stock.reserved) == (23, 1)
        assert Order.objects.get().status == Order.Status.PENDING

    def test_depth_counts_arrays_and_objects_not_brackets_inside_strings(self, api, product):
        url = "/v1/inventory/GPU-NV-4090-MSI-001"
        deepest_allowed = self.nested(MAX_JSON_DEPTH)
        brackets_in_a_string = json.dumps(
            {"quantity": 40, "reason": "[{" * 99}
        )  # 198 brackets, in a string

        allowed = api.generic("PATCH", url, deepest_allowed, content_type="application/json")
        text = api.generic("PATCH", url, brackets_in_a_string, content_type="application/json")
        too_deep = api.generic(
            "PATCH", url, self.nested(MAX_JSON_DEPTH + 1), content_type="application/json"
        )

        # 32 levels are parsed, and then refused for what they are: not an integer.
        assert allowed.json()["details"] == ["Field 'quantity' must be an integer"]
        assert text.status_code == 200
        assert too_deep.json()["message"] == "Request body is nested too deeply"
        product.stock.refresh_from_db()
        assert product.stock.on_hand == 40
