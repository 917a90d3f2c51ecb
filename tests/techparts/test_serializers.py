"""Every write operation refuses a body field it does not define, body-less actions included."""

import pytest

from inventory.models import StockMovement, StockRecord
from orders.models import Order

# `world`: a product, a customer and a pending order, to fill in route parameters.
from tests.techparts.test_authorization_matrix import ROUTES, concrete, world  # noqa: F401

pytestmark = pytest.mark.django_db

WRITES = [(route, method) for route, method, _ in ROUTES if method in ("POST", "PUT", "PATCH")]


def snapshot() -> tuple:
    return (
        list(Order.objects.order_by("pk").values_list("order_id", "status")),
        list(StockRecord.objects.order_by("pk").values_list("on_hand", "reserved")),
        StockMovement.objects.count(),
    )


@pytest.mark.parametrize(("route", "method"), WRITES, ids=lambda v: str(v))
def test_every_write_refuses_an_unknown_body_field_and_changes_nothing(api, request, route, method):
    url = concrete(route, request.getfixturevalue("world"))
    before = snapshot()

    response = api.generic(method, url, '{"unexpected": 1}', content_type="application/json")

    assert response.status_code == 400, response.content
    assert "Field 'unexpected' is not allowed" in response.json()["details"]
    assert snapshot() == before
