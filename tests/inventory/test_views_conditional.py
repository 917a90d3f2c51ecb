"""Inventory reads carry tags that follow their bodies, per integrator where bodies differ."""

import pytest

from inventory.models import StockRecord
from inventory.services import stock_set, stock_threshold_set
from techparts.actors import Actor
from techparts.api.conditional import body_etag
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

SKU = "GPU-NV-4090-MSI-001"
RECORD = f"/v1/inventory/{SKU}"
MOVEMENTS = f"/v1/inventory/{SKU}/movements"


@pytest.fixture
def rtx():
    return ProductFactory(public_id="PROD-4090-MSI-001", sku=SKU, stock=23)


@pytest.mark.parametrize("url", [RECORD, MOVEMENTS])
def test_inventory_reads_answer_304_to_their_current_tag(api, rtx, url):
    first = api.get(url)
    assert first["ETag"] == body_etag(first.content)

    response = api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == first["ETag"]


@pytest.mark.parametrize("url", [RECORD, MOVEMENTS])
def test_a_stock_change_changes_the_inventory_tags(api, rtx, url):
    etag = api.get(url)["ETag"]

    stock_set(product_id=rtx.pk, quantity=22, actor=Actor.system())

    response = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_a_threshold_change_changes_the_inventory_tag(api, rtx):
    before = api.get(RECORD)

    stock_threshold_set(product_id=rtx.pk, low_stock_threshold=7)

    response = api.get(RECORD, HTTP_IF_NONE_MATCH=before["ETag"])
    assert response.status_code == 200
    assert response.json()["low_stock_threshold"] == 7
    assert response["ETag"] != before["ETag"]


def test_a_threshold_change_saved_on_the_record_changes_the_inventory_tag(api, rtx):
    # The admin path: StockRecord.save() with only the threshold changed.
    before = api.get(RECORD)["ETag"]
    record = StockRecord.objects.get(product=rtx)
    record.low_stock_threshold = 3
    record.save(update_fields=["low_stock_threshold"])

    response = api.get(RECORD, HTTP_IF_NONE_MATCH=before)

    assert response.status_code == 200
    assert response.json()["low_stock_threshold"] == 3
    assert response["ETag"] != before


def test_movement_tags_differ_per_integrator_when_what_they_may_see_differs(client_for, rtx):
    shop_a = client_for("inventory:read", "inventory:write", owner="shop_a")
    shop_b = client_for("inventory:read", owner="shop_b")
    shop_a.patch(RECORD, {"quantity": 30, "reference": "DN-77"}, format="json")

    seen_by_a, seen_by_b = shop_a.get(MOVEMENTS), shop_b.get(MOVEMENTS)

    assert seen_by_a.json()["results"][0]["reference"] == "DN-77"
    assert seen_by_b.json()["results"][0]["reference"] == ""
    assert seen_by_a["ETag"] != seen_by_b["ETag"]
    # B holding A's tag learns nothing about A's rows: the tag names a body B does not get.
    assert shop_b.get(MOVEMENTS, HTTP_IF_NONE_MATCH=seen_by_a["ETag"]).status_code == 200
    assert "Authorization" in seen_by_b["Vary"]


def test_integrators_with_the_same_view_share_a_tag(client_for, rtx):
    etags = {client_for("inventory:read", owner=o).get(RECORD)["ETag"] for o in ("a", "b")}

    assert len(etags) == 1


def test_an_unknown_sku_is_a_404_without_a_tag(api, db):
    response = api.get("/v1/inventory/NO-SUCH-SKU", HTTP_IF_NONE_MATCH="*")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "ETag" not in response
