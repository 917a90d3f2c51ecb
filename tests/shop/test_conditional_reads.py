"""Product reads: their tags follow every change of the body; `updated_since` walks by cursor."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from catalog.models import Product
from catalog.services import product_update
from inventory.models import StockRecord
from inventory.services import stock_set
from techparts.actors import Actor
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def tag_of(api, url: str) -> str:
    response = api.get(url)
    assert response.status_code == 200
    return response["ETag"]


def still_current(api, url: str, etag: str) -> bool:
    status = api.get(url, HTTP_IF_NONE_MATCH=etag).status_code
    assert status in (200, 304)
    return status == 304


@pytest.fixture
def product():
    product = ProductFactory(public_id="PROD-TAG-001", stock=5)
    product.related_products.set([ProductFactory(public_id="PROD-TAG-002", stock=1)])
    return product


DETAIL = "/v1/products/PROD-TAG-001"
LIST = "/v1/products?page_size=10"


@pytest.mark.parametrize("url", [DETAIL, LIST])
class TestProductTags:
    def test_an_unchanged_product_keeps_its_tag(self, api, product, url):
        etag = tag_of(api, url)

        assert still_current(api, url, etag)
        assert tag_of(api, url) == etag

    def test_a_stock_change_changes_the_tag(self, api, product, url):
        etag = tag_of(api, url)

        stock_set(product_id=product.pk, quantity=4, actor=Actor.system())

        assert not still_current(api, url, etag)

    def test_a_related_product_running_out_changes_the_tag(self, api, product, url):
        etag = tag_of(api, url)
        related = Product.objects.get(public_id="PROD-TAG-002")
        # Only the related product's row moves, and only its in_stock shows in this body.
        updated_at = Product.objects.get(pk=product.pk).updated_at

        stock_set(product_id=related.pk, quantity=0, actor=Actor.system())

        assert Product.objects.get(pk=product.pk).updated_at == updated_at
        response = api.get(url, HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 200
        assert response["ETag"] != etag

    def test_a_name_change_changes_the_tag(self, api, product, url):
        etag = tag_of(api, url)

        product_update(product=product, name="Renamed card")

        assert not still_current(api, url, etag)

    def test_a_related_product_set_change_changes_the_tag(self, api, product, url):
        etag = tag_of(api, url)

        product_update(product=product, related_products=[])

        assert not still_current(api, url, etag)


def test_a_list_tag_covers_the_whole_page(api, product):
    ProductFactory(public_id="PROD-TAG-003", stock=2)
    etag = tag_of(api, LIST)
    other_page = tag_of(api, "/v1/products?page_size=1&page=2")

    stock_set(
        product_id=Product.objects.get(public_id="PROD-TAG-003").pk,
        quantity=7,
        actor=Actor.system(),
    )

    assert not still_current(api, LIST, etag)
    # page 2 of one holds PROD-TAG-002, which did not change
    assert still_current(api, "/v1/products?page_size=1&page=2", other_page)


def test_a_conditional_detail_read_costs_the_same_one_query(
    api, product, django_assert_num_queries
):
    etag = tag_of(api, DETAIL)

    with django_assert_num_queries(1):
        assert api.get(DETAIL, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_conditional_list_read_costs_the_same_three_queries(
    api, product, django_assert_num_queries
):
    etag = tag_of(api, LIST)

    with django_assert_num_queries(3):
        assert api.get(LIST, HTTP_IF_NONE_MATCH=etag).status_code == 304


# updated_since

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def age(*products, at: datetime = T0) -> None:
    """Make products (and their stock) look last changed at `at`."""
    ids = [p.pk for p in products]
    Product.objects.filter(pk__in=ids).update(updated_at=at)
    StockRecord.objects.filter(product_id__in=ids).update(updated_at=at)


def ids_of(response) -> list[str]:
    return [row["id"] for row in response.json()["results"]]


def since(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_updated_since_covers_product_and_stock_changes(api):
    old, renamed, restocked = (ProductFactory(public_id=f"PROD-SNC-00{n}") for n in (1, 2, 3))
    age(old, renamed, restocked)
    Product.objects.filter(pk=renamed.pk).update(updated_at=T0 + timedelta(hours=2))
    StockRecord.objects.filter(product=restocked).update(updated_at=T0 + timedelta(hours=2))

    response = api.get(f"/v1/products?updated_since={since(T0 + timedelta(hours=1))}")

    assert response.status_code == 200
    assert ids_of(response) == ["PROD-SNC-002", "PROD-SNC-003"]
    assert response.json()["count"] == 2
    assert response.json()["next"] is None
    assert response.json()["previous"] is None


def test_updated_since_is_inclusive_and_takes_offsets(api):
    product = ProductFactory(public_id="PROD-SNC-001")
    age(product)

    at = api.get("/v1/products?updated_since=2026-01-01T02:00:00%2B02:00")
    after = api.get("/v1/products?updated_since=2026-01-01T00:00:01Z")

    assert ids_of(at) == ["PROD-SNC-001"]
    assert ids_of(after) == []


@pytest.mark.parametrize(
    ("query", "details"),
    [
        ("updated_since=yesterday", ["Field 'updated_since' must be an ISO 8601 date-time"]),
        (
            "updated_since=2026-01-01T00:00:00Z&page=1",
            ["Field 'page' cannot be combined with updated_since"],
        ),
        (
            "updated_since=2026-01-01T00:00:00Z&ordering=name",
            ["Field 'ordering' cannot be combined with updated_since"],
        ),
        (
            "updated_since=2026-01-01T00:00:00Z&cursor=abc",
            ["Field 'cursor' must be the cursor of a `next` link"],
        ),
        (
            "updated_since=2026-01-01T00:00:00Z&cursor=1234567890123456789",
            ["Field 'cursor' must be the cursor of a `next` link"],
        ),
        ("cursor=12", ["Field 'cursor' is only valid together with updated_since"]),
    ],
)
def test_bad_updated_since_queries_are_refused(api, query, details):
    ProductFactory()

    response = api.get(f"/v1/products?{query}")

    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"
    assert response.json()["details"] == details


def walk(api, url: str, between_pages=lambda page: None) -> list[str]:
    seen: list[str] = []
    page = 0
    while url:
        response = api.get(url)
        assert response.status_code == 200
        seen += ids_of(response)
        url = response.json()["next"]
        page += 1
        assert page < 50
        between_pages(page)
    return seen


def test_an_updated_since_walk_neither_skips_nor_repeats_while_products_change(api):
    products = [ProductFactory(public_id=f"PROD-WLK-{n:03}") for n in range(10)]
    age(*products)
    start = T0 + timedelta(hours=1)
    changed = products[1::2]  # five products changed after `start`
    Product.objects.filter(pk__in=[p.pk for p in changed]).update(updated_at=start)
    expected = [p.public_id for p in changed]

    def meanwhile(page: int) -> None:
        if page == 1:
            # Behind the cursor a product newly matches, and one already served leaves the
            # list: with page numbers the next page would shift by one.
            product_update(product=products[0], name="Changed during the walk")
            product_update(product=products[1], is_active=False)
        if page == 2:
            stock_set(product_id=products[2].pk, quantity=1, actor=Actor.system())

    seen = walk(api, f"/v1/products?updated_since={since(start)}&page_size=2", meanwhile)

    assert seen == expected
    # The changes made during the walk are found by the next walk, started from its start.
    again = walk(api, f"/v1/products?updated_since={since(timezone.now() - timedelta(minutes=1))}")
    assert again == ["PROD-WLK-000", "PROD-WLK-002"]


def test_page_numbers_over_a_changing_set_would_have_repeated_a_row(api):
    # Why the cursor: the same scenario walked with page numbers (no updated_since).
    products = [ProductFactory(public_id=f"PROD-PGS-{n:03}") for n in range(4)]

    first = ids_of(api.get("/v1/products?page_size=2&page=1"))
    product_update(product=products[0], is_active=False)
    second = ids_of(api.get("/v1/products?page_size=2&page=2"))

    assert first == ["PROD-PGS-000", "PROD-PGS-001"]
    assert second == ["PROD-PGS-003"]  # PROD-PGS-002 was skipped


def test_the_next_link_carries_the_filter_and_the_cursor(api):
    products = [ProductFactory(public_id=f"PROD-NXT-{n:03}") for n in range(3)]
    age(*products)

    response = api.get(f"/v1/products?updated_since={since(T0)}&page_size=2")

    query = parse_qs(urlparse(response.json()["next"]).query)
    assert query == {
        "updated_since": [since(T0)],
        "page_size": ["2"],
        "cursor": [str(products[1].pk)],
    }
    assert response.json()["count"] == 3


def test_an_updated_since_page_costs_the_same_three_queries(api, django_assert_num_queries):
    for product in ProductFactory.create_batch(30):
        product.related_products.set(ProductFactory.create_batch(2))
    url = f"/v1/products?updated_since={since(T0)}&page_size=5"
    cursor = parse_qs(urlparse(api.get(url).json()["next"]).query)["cursor"][0]

    with django_assert_num_queries(3):
        response = api.get(f"{url}&cursor={cursor}")

    assert len(response.json()["results"]) == 5
