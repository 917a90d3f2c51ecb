"""Unknown query parameters are refused on every operation, naming the known ones."""

import json

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from inventory.models import StockMovement, StockRecord
from orders.models import Order
from techparts.api.query import known_query_parameters
from tests.factories import ProductFactory

# `world`: a product, a customer and a pending order, to fill in route parameters.
from tests.techparts.test_authorization_matrix import ROUTES, concrete, world  # noqa: F401

pytestmark = pytest.mark.django_db


def snapshot() -> tuple:
    return (
        list(Order.objects.order_by("pk").values_list("order_id", "status")),
        list(StockRecord.objects.order_by("pk").values_list("on_hand", "reserved")),
        StockMovement.objects.count(),
    )


def test_a_misspelt_filter_is_refused_naming_the_known_parameters(api):
    ProductFactory(stock=0)

    response = api.get("/v1/products?instock=true")

    assert response.status_code == 400
    assert response.json() == {
        "error": "validation_error",
        "message": "Invalid query parameters",
        "details": [
            "Unknown query parameter 'instock'; known parameters: category, cursor, in_stock, "
            "low_stock, manufacturer, max_price, min_price, ordering, page, page_size, search, "
            "updated_since"
        ],
    }


def test_a_detail_operation_takes_no_query_parameters(api):
    product = ProductFactory()

    response = api.get(f"/v1/products/{product.public_id}?fields=price")

    assert response.status_code == 400
    assert response.json()["details"] == [
        "Unknown query parameter 'fields'; this operation takes no query parameters"
    ]


def valid_body(route: str, values: dict) -> str:
    if route.endswith("orders"):
        return json.dumps(
            {
                "customer_id": Order.objects.get().customer.customer_id,
                "items": [{"product_id": values["id"], "quantity": 1}],
                "shipping_address": {
                    "street": "1 Main St",
                    "city": "San Francisco",
                    "state": "CA",
                    "zip": "94105",
                    "country": "US",
                },
            }
        )
    if "inventory" in route:
        return json.dumps({"quantity": 7})
    return "{}"


@pytest.mark.parametrize(("route", "method", "scope"), ROUTES, ids=lambda v: str(v))
def test_every_operation_refuses_an_unknown_query_parameter_and_changes_nothing(
    api, request, route, method, scope
):
    values = request.getfixturevalue("world")
    url = concrete(route, values) + "?unexpected=1"
    before = snapshot()

    response = api.generic(method, url, valid_body(route, values), content_type="application/json")

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["message"] == "Invalid query parameters"
    assert response.json()["details"][0].startswith("Unknown query parameter 'unexpected'; ")
    assert snapshot() == before


def test_the_known_parameters_are_exactly_the_documented_ones(client):
    schema = client.get("/v1/schema/?format=json").json()
    generator = SchemaGenerator()
    generator._initialise_endpoints()
    checked = 0
    for path, _, method, view in generator._get_paths_and_endpoints():
        if path not in schema["paths"]:
            continue  # the schema and docs views themselves (they name their parameters)
        view.request = Request(APIRequestFactory().generic(method, path))
        operation = schema["paths"][path][method.lower()]
        documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}

        assert known_query_parameters(view) == documented, (method, path)
        checked += 1
    assert checked == sum(len(operations) for operations in schema["paths"].values())
