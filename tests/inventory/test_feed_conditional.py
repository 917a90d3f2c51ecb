"""Polling the stock list and the change feed with If-None-Match.

Transactional tests: on PostgreSQL the feed serves only rows of ended transactions. The tags
must follow the stock, not the database's transaction counter: writes elsewhere (here a new
category, as a rate-limit counter or an idempotency record would be) leave them alone.
"""

import pytest

from inventory.services import stock_set
from techparts.actors import Actor
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)

FEED = "/v1/inventory/changes"
LIST = "/v1/inventory"


@pytest.fixture
def reader(client_for):
    return client_for("inventory:read")


@pytest.fixture
def gpu():
    return ProductFactory(sku="GPU-1", stock=10)


@pytest.mark.parametrize("url", [FEED, LIST])
def test_unrelated_writes_keep_the_tag_so_a_poll_answers_304(reader, gpu, url):
    first = reader.get(url)
    assert first.status_code == 200

    for _ in range(3):
        CategoryFactory()  # each its own writing transaction

    response = reader.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert response.status_code == 304
    assert response.content == b""


@pytest.mark.parametrize("url", [FEED, LIST])
def test_a_stock_change_changes_the_tag(reader, gpu, url):
    first = reader.get(url)

    stock_set(product_id=gpu.pk, quantity=4, actor=Actor.system())

    response = reader.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert response.status_code == 200
    assert response["ETag"] != first["ETag"]


def test_a_caught_up_feed_cursor_polls_304_until_a_change_arrives(reader, gpu):
    caught_up = reader.get(FEED).json()["next_cursor"]
    empty = reader.get(FEED, {"after": caught_up})
    assert empty.json()["results"] == []
    CategoryFactory()

    assert (
        reader.get(FEED, {"after": caught_up}, HTTP_IF_NONE_MATCH=empty["ETag"]).status_code == 304
    )

    stock_set(product_id=gpu.pk, quantity=4, actor=Actor.system())
    arrived = reader.get(FEED, {"after": caught_up}, HTTP_IF_NONE_MATCH=empty["ETag"])
    assert arrived.status_code == 200
    assert [row["quantity_after"] for row in arrived.json()["results"]] == [4]
