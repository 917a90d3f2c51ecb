import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db.models import Prefetch

from catalog.models import Product
from inventory.rules import available_expression
from inventory.services import stock_reserve
from shop.serializers import ProductOutputSerializer
from techparts.actors import Actor
from techparts.api.renderers import JSONRenderer
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

SEED_PRODUCT = {
    "id": "PROD-4090-MSI-001",
    "sku": "GPU-NV-4090-MSI-001",
    "name": "NVIDIA GeForce RTX 4090 MSI Gaming X Trio",
    "category": "graphics-cards",
    "manufacturer": "MSI",
    "price": 1599.99,
    "currency": "USD",
    "stock": 23,
    "in_stock": True,
    "specifications": {
        "memory": "24GB GDDR6X",
        "cuda_cores": 16384,
        "boost_clock": "2520 MHz",
        "power_consumption": "450W",
    },
    "warranty": "3 years",
    "created_at": "2024-01-15T10:30:00Z",
    "updated_at": "2024-12-28T14:22:00Z",
}


def make_seed_product() -> Product:
    product = ProductFactory(
        public_id="PROD-4090-MSI-001",
        sku="GPU-NV-4090-MSI-001",
        name="NVIDIA GeForce RTX 4090 MSI Gaming X Trio",
        category=CategoryFactory(slug="graphics-cards", name="Graphics cards"),
        manufacturer="MSI",
        price=Decimal("1599.99"),
        specifications=SEED_PRODUCT["specifications"],
        warranty="3 years",
        stock=23,
    )
    Product.objects.filter(pk=product.pk).update(
        created_at=datetime(2024, 1, 15, 10, 30, tzinfo=UTC),
        updated_at=datetime(2024, 12, 28, 14, 22, tzinfo=UTC),
    )
    return product


def test_product_detail_matches_the_seed_field_for_field(api):
    make_seed_product()

    response = api.get("/v1/products/PROD-4090-MSI-001")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body.pop("related_products") == []
    assert body == SEED_PRODUCT
    assert list(body) == list(SEED_PRODUCT)  # same field order as the seed
    assert type(body["price"]) is float and type(body["stock"]) is int


def test_money_is_rendered_as_a_number_with_two_decimals(api):
    ProductFactory(public_id="PROD-CHEAP-001", price=Decimal("5.00"))

    raw = api.get("/v1/products/PROD-CHEAP-001").content.decode()

    assert '"price":5.00' in raw


def test_stock_is_available_units_and_in_stock_follows_it(api):
    product = ProductFactory(stock=3)
    stock_reserve(quantities={product.pk: 3}, actor=Actor.system(), reference="ORD-TEST-1")

    body = api.get(f"/v1/products/{product.public_id}").json()

    assert body["stock"] == 0
    assert body["in_stock"] is False


def test_related_products_list_id_sku_name_price_and_stock_flag(api):
    product = ProductFactory()
    in_stock = ProductFactory(public_id="PROD-REL-001", price=Decimal("10.50"), stock=2)
    sold_out = ProductFactory(public_id="PROD-REL-002", stock=0)
    product.related_products.set([in_stock, sold_out])

    body = api.get(f"/v1/products/{product.public_id}").json()

    assert body["related_products"] == [
        {
            "id": "PROD-REL-001",
            "sku": in_stock.sku,
            "name": in_stock.name,
            "price": 10.5,
            "in_stock": True,
        },
        {
            "id": "PROD-REL-002",
            "sku": sold_out.sku,
            "name": sold_out.name,
            "price": 100.0,
            "in_stock": False,
        },
    ]


@pytest.mark.parametrize("product_id", ["PROD-0000-NONE-001", "prod-4090-msi-001", "'; DROP"])
def test_unknown_or_malformed_product_id_is_not_found_with_the_seed_message(api, product_id):
    make_seed_product()

    response = api.get(f"/v1/products/{product_id}")

    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "message": f"Product with ID '{product_id}' does not exist",
    }


def test_inactive_products_are_hidden(api):
    product = ProductFactory(is_active=False)

    assert api.get(f"/v1/products/{product.public_id}").status_code == 404
    assert api.get("/v1/products").json()["count"] == 0


class TestProductList:
    @pytest.fixture
    def catalog(self):
        gpus = CategoryFactory(slug="graphics-cards")
        cpus = CategoryFactory(slug="processors")
        return {
            "gpu_cheap": ProductFactory(
                public_id="PROD-A-001",
                name="Radeon RX 7600",
                category=gpus,
                manufacturer="Sapphire",
                price=Decimal("269.99"),
                stock=4,
            ),
            "gpu_dear": ProductFactory(
                public_id="PROD-B-001",
                name="GeForce RTX 4090",
                category=gpus,
                manufacturer="MSI",
                price=Decimal("1599.99"),
                stock=0,
            ),
            "cpu": ProductFactory(
                public_id="PROD-C-001",
                sku="CPU-AMD-5950X-001",
                name="Ryzen 9 5950X",
                category=cpus,
                manufacturer="AMD",
                price=Decimal("549.99"),
                stock=40,
            ),
        }

    def ids(self, api, query=""):
        response = api.get(f"/v1/products{query}")
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["results"]]

    def test_lists_all_active_products_in_id_order(self, api, catalog):
        assert self.ids(api) == ["PROD-A-001", "PROD-B-001", "PROD-C-001"]

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("?category=graphics-cards", ["PROD-A-001", "PROD-B-001"]),
            ("?manufacturer=msi", ["PROD-B-001"]),
            ("?min_price=500", ["PROD-B-001", "PROD-C-001"]),
            ("?max_price=549.99", ["PROD-A-001", "PROD-C-001"]),
            ("?min_price=300&max_price=1000", ["PROD-C-001"]),
            ("?in_stock=true", ["PROD-A-001", "PROD-C-001"]),
            ("?in_stock=false", ["PROD-B-001"]),
            ("?category=graphics-cards&in_stock=true", ["PROD-A-001"]),
            ("?category=no-such-category", []),
        ],
    )
    def test_filters(self, api, catalog, query, expected):
        assert self.ids(api, query) == expected

    @pytest.mark.parametrize(
        ("term", "expected"),
        [
            ("rtx", ["PROD-B-001"]),  # name
            ("5950X-001", ["PROD-C-001"]),  # SKU
            ("sapphire", ["PROD-A-001"]),  # manufacturer
        ],
    )
    def test_search_over_name_sku_and_manufacturer(self, api, catalog, term, expected):
        assert self.ids(api, f"?search={term}") == expected

    @pytest.mark.parametrize(
        ("ordering", "expected"),
        [
            ("price", ["PROD-A-001", "PROD-C-001", "PROD-B-001"]),
            ("-price", ["PROD-B-001", "PROD-C-001", "PROD-A-001"]),
            ("name", ["PROD-B-001", "PROD-A-001", "PROD-C-001"]),
        ],
    )
    def test_ordering(self, api, catalog, ordering, expected):
        assert self.ids(api, f"?ordering={ordering}") == expected

    def test_newest_first(self, api, catalog):
        Product.objects.filter(public_id="PROD-A-001").update(
            created_at=datetime(2030, 1, 1, tzinfo=UTC)
        )
        assert self.ids(api, "?ordering=-created_at")[0] == "PROD-A-001"

    def test_pagination(self, api, catalog):
        first = api.get("/v1/products?page_size=2").json()
        second = api.get("/v1/products?page_size=2&page=2").json()

        assert first["count"] == 3
        assert [p["id"] for p in first["results"]] == ["PROD-A-001", "PROD-B-001"]
        assert [p["id"] for p in second["results"]] == ["PROD-C-001"]
        assert second["next"] is None and first["next"].endswith("page=2&page_size=2")

    def test_page_size_is_capped_at_100(self, api):
        ProductFactory.create_batch(105)

        body = api.get("/v1/products?page_size=1000").json()

        assert body["count"] == 105
        assert len(body["results"]) == 100

    def test_page_past_the_end_is_not_found(self, api, catalog):
        response = api.get("/v1/products?page=99")

        assert response.status_code == 404
        assert response.json()["error"] == "not_found"

    def test_bad_filter_value_is_a_validation_error(self, api, catalog):
        response = api.get("/v1/products?min_price=cheap")

        assert response.status_code == 400
        assert response.json() == {
            "error": "validation_error",
            "message": "Invalid query parameters",
            "details": ["Field 'min_price' must be a number"],
        }


class TestQueryCounts:
    """Reads cost a fixed number of queries however much data there is."""

    # the product with its category, stock and related products (with theirs), in one row
    DETAIL_QUERIES = 1
    # count, page of products, the related products of the whole page
    LIST_QUERIES = 3
    # a key's first use in a process: key lookup and last-used write
    COLD_KEY_QUERIES = 2

    @pytest.mark.parametrize("related", [0, 20])
    def test_product_detail_is_one_query_with_a_warm_key(
        self, api, django_assert_num_queries, related
    ):
        product = ProductFactory()
        product.related_products.set(ProductFactory.create_batch(related, stock=1))
        assert api.get(f"/v1/products/{ProductFactory().public_id}").status_code == 200

        with django_assert_num_queries(self.DETAIL_QUERIES):
            response = api.get(f"/v1/products/{product.public_id}")

        assert response.status_code == 200
        assert len(response.json()["related_products"]) == related

    def test_product_list_query_count_does_not_grow_with_page_size(
        self, api, django_assert_num_queries
    ):
        for product in ProductFactory.create_batch(60):
            product.related_products.set(ProductFactory.create_batch(2))
        api.get("/v1/products?page_size=1")

        with django_assert_num_queries(self.LIST_QUERIES):
            assert api.get("/v1/products?page_size=1").status_code == 200
        with django_assert_num_queries(self.LIST_QUERIES):
            response = api.get("/v1/products?page_size=100")
        assert len(response.json()["results"]) == 100
        assert sum(len(p["related_products"]) for p in response.json()["results"]) > 0

    def test_a_keys_first_use_reads_and_stamps_it_then_never_again(
        self, api, django_assert_num_queries
    ):
        product = ProductFactory()

        with django_assert_num_queries(self.COLD_KEY_QUERIES + self.DETAIL_QUERIES):
            api.get(f"/v1/products/{product.public_id}")
        with django_assert_num_queries(self.DETAIL_QUERIES):
            api.get(f"/v1/products/{product.public_id}")


def test_bodies_are_the_documented_serializers_output_byte_for_byte(api):
    # The views build plain dicts; ProductOutputSerializer (the schema's source) must agree.
    product = make_seed_product()
    related = [
        ProductFactory(public_id=f"PROD-REL-{n}", price=Decimal(price), stock=stock)
        for n, price, stock in [("003", "99999999.99", 0), ("001", "10.50", 2), ("002", "7", 1)]
    ]
    related.append(ProductFactory(public_id="PROD-REL-000", is_active=False))
    product.related_products.set(related)
    available = available_expression(via="stock__")
    products = (
        Product.objects.active()
        .annotate(available=available)
        .prefetch_related(
            Prefetch(
                "related_products",
                queryset=Product.objects.active()
                .annotate(available=available)
                .order_by("public_id"),
            )
        )
    )
    render = JSONRenderer().render

    detail = api.get(f"/v1/products/{product.public_id}")
    listed = api.get("/v1/products?page_size=100")

    expected = ProductOutputSerializer(products.get(pk=product.pk)).data
    assert detail.content == render(expected)
    assert [r["id"] for r in expected["related_products"]] == [
        "PROD-REL-001",
        "PROD-REL-002",
        "PROD-REL-003",
    ]
    page = ProductOutputSerializer(products.order_by("public_id"), many=True).data
    assert listed.content == render(
        {"count": len(page), "next": None, "previous": None, "results": page}
    )


def test_api_never_answers_html_even_when_html_is_asked_for(api):
    product = ProductFactory()

    response = api.get(f"/v1/products/{product.public_id}", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    json.loads(response.content)


@pytest.mark.parametrize("query", ["page=0", "page=-1", "page=abc", "page_size=0", "page_size=x"])
def test_malformed_paging_is_a_validation_error(api, query):
    ProductFactory()

    response = api.get(f"/v1/products?{query}")

    assert response.status_code == 400
    name = query.split("=")[0]
    assert response.json()["details"] == [f"Field '{name}' must be a positive integer"]
