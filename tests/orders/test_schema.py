import re

import pytest

from orders.rules import MAX_LINES
from orders.states import US_STATES
from tests.orders.conftest import SEED_ORDER_FIELDS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/v1/orders", "post", {"201", "400", "401", "403", "409", "415", "422", "429"}),
        ("/v1/orders", "get", {"200", "400", "401", "403", "429"}),
        ("/v1/orders/{order_id}", "get", {"200", "401", "403", "404", "429"}),
        (
            "/v1/orders/{order_id}/cancel",
            "post",
            {"200", "401", "403", "404", "409", "415", "422", "429"},
        ),
    ],
)
def test_every_orders_operation_documents_its_status_codes(schema, path, method, statuses):
    operation = schema["paths"][path][method]

    assert statuses <= set(operation["responses"])


def test_create_order_documents_the_idempotency_key_and_scope(schema):
    operation = schema["paths"]["/v1/orders"]["post"]

    assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
    assert operation["security"] == [{"bearerAuth": ["orders:write"]}]
    created = operation["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][created.rsplit("/", 1)[1]]["properties"]
    assert list(fields) == SEED_ORDER_FIELDS


def component(schema: dict, name: str) -> dict:
    return schema["components"]["schemas"][name]


def resolved(schema: dict, prop: dict) -> dict:
    """A property with its `allOf: [$ref]` enum wrapper resolved."""
    for ref in [p["$ref"] for p in prop.get("allOf", [])] + [prop.get("$ref")]:
        if ref:
            return {**prop, **component(schema, ref.rsplit("/", 1)[1])}
    return prop


def test_order_input_constraints_come_from_the_rules_the_server_enforces(schema):
    order = component(schema, "OrderCreateRequest")["properties"]
    address = component(schema, "ShippingAddressRequest")["properties"]

    assert (order["items"]["minItems"], order["items"]["maxItems"]) == (1, MAX_LINES)
    assert resolved(schema, address["state"])["enum"] == list(US_STATES)
    assert resolved(schema, address["country"])["enum"] == ["US"]
    assert address["zip"]["pattern"] == "^[0-9]{5}(?:-[0-9]{4})?$"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("zip", "94105"),
        ("zip", "94105-1234"),
        ("zip", "9410"),
        ("zip", "94105-12"),
        ("zip", "94105\n"),
        ("state", "CA"),
        ("state", "ca"),
        ("state", "ZZ"),
        ("country", "US"),
        ("country", "us"),
    ],
)
def test_the_schema_and_the_server_agree_on_an_address(api, schema, seed_body, field, value):
    prop = resolved(schema, component(schema, "ShippingAddressRequest")["properties"][field])
    if "enum" in prop:
        schema_allows = value in prop["enum"]
    else:
        # ECMA-262 `$` matches only at the very end, like Python's \Z.
        schema_allows = re.search(prop["pattern"].replace("$", r"\Z"), value) is not None
    seed_body["shipping_address"][field] = value

    response = api.post("/v1/orders", seed_body, format="json")

    assert response.status_code == (201 if schema_allows else 400), response.content


def test_cancel_documents_that_it_takes_no_fields(schema):
    body = schema["paths"]["/v1/orders/{order_id}/cancel"]["post"]["requestBody"]

    assert body.get("required", False) is False
    assert body["content"]["application/json"]["schema"] == {
        "type": "object",
        "maxProperties": 0,
        "additionalProperties": False,
        "description": "This action takes no fields: send no body, or `{}`.",
    }
