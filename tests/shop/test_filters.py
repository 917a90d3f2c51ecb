import pytest

from inventory.services import stock_reserve, stock_threshold_set
from techparts.actors import Actor
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def products():
    plenty = ProductFactory(public_id="PROD-TEST-PLENTY", stock=50)
    at_threshold = ProductFactory(public_id="PROD-TEST-AT", stock=5)
    reserved_down = ProductFactory(public_id="PROD-TEST-RESERVED", stock=8)
    stock_reserve(quantities={reserved_down.pk: 4}, actor=Actor.system(), reference="ORD-1")
    custom = ProductFactory(public_id="PROD-TEST-CUSTOM", stock=30)
    stock_threshold_set(product_id=custom.pk, low_stock_threshold=40)
    return plenty, at_threshold, reserved_down, custom


def ids(response) -> list[str]:
    assert response.status_code == 200
    return [p["id"] for p in response.json()["results"]]


def test_low_stock_true_lists_products_available_at_or_below_their_threshold(api, products):
    assert ids(api.get("/v1/products", {"low_stock": "true"})) == [
        "PROD-TEST-AT",
        "PROD-TEST-CUSTOM",
        "PROD-TEST-RESERVED",
    ]


def test_low_stock_false_lists_the_others(api, products):
    assert ids(api.get("/v1/products", {"low_stock": "false"})) == ["PROD-TEST-PLENTY"]


def test_low_stock_combines_with_other_filters(api, products):
    response = api.get("/v1/products", {"low_stock": "true", "in_stock": "true"})

    assert ids(response) == ["PROD-TEST-AT", "PROD-TEST-CUSTOM", "PROD-TEST-RESERVED"]
