import json

import pytest

from catalog.models import Product
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_superuser=True))
    return client


def test_product_page_shows_stock_read_only_with_links_to_correct_and_history(admin_client):
    product = ProductFactory(stock=7)

    page = admin_client.get(f"/admin/catalog/product/{product.pk}/change/").content.decode()

    assert f"/admin/inventory/stockrecord/{product.stock.pk}/correct/" in page
    assert f"/admin/inventory/stockrecord/{product.stock.pk}/movements/" in page
    assert 'name="stock-0-on_hand"' not in page  # never an editable field


def test_a_product_added_in_the_admin_gets_an_empty_stock_record(admin_client):
    category = ProductFactory().category

    response = admin_client.post(
        "/admin/catalog/product/add/",
        {
            "public_id": "PROD-NEW-001",
            "sku": "SKU-NEW-001",
            "name": "New part",
            "category": category.pk,
            "manufacturer": "Acme",
            "is_active": "on",
            "price": "12.50",
            "currency": "USD",
            "specifications": "{}",
            "warranty": "1 year",
            "stock-TOTAL_FORMS": "0",
            "stock-INITIAL_FORMS": "0",
            "stock-MIN_NUM_FORMS": "0",
            "stock-MAX_NUM_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    product = Product.objects.get(public_id="PROD-NEW-001")
    assert (product.stock.on_hand, product.stock.reserved) == (0, 0)


def test_ids_must_be_upper_case_groups(admin_client):
    category = ProductFactory().category

    response = admin_client.post(
        "/admin/catalog/product/add/",
        {
            "public_id": "prod 1",
            "sku": "SKU-NEW-002",
            "name": "Bad id",
            "category": category.pk,
            "manufacturer": "Acme",
            "price": "1.00",
            "currency": "USD",
            "specifications": "{}",
            "stock-TOTAL_FORMS": "0",
            "stock-INITIAL_FORMS": "0",
            "stock-MIN_NUM_FORMS": "0",
            "stock-MAX_NUM_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "Use upper-case letters and digits" in response.content.decode()


# Product rules hold in the admin: a bad product is a form error, nothing is saved, the API
# keeps answering.

BAD_SPECIFICATIONS = {
    "a list": ("[1, 2, 3]", "must be a JSON object"),
    "a nested object": ('{"a": {"b": 1}}', "is an object; values must be"),
    "a string": ('"text"', "must be a JSON object"),
    "null": ("null", "must be a JSON object"),
    "a null value": ('{"memory": null}', "is null"),
    "a list value": ('{"ports": ["HDMI", "DP"]}', "is a list"),
    "an empty name": ('{"": "x"}', "must be non-empty text"),
    "an infinite number": ('{"tdp": 1e400}', "is not a finite number"),
    "a NaN": ('{"tdp": NaN}', "is not a finite number"),
    "a NUL character": ('{"memory": "8GB\\u0000"}', "contains a NUL character"),
    "a lone surrogate": ('{"memory": "\\ud800"}', "is not valid Unicode text"),
    "a huge integer": ('{"cores": 1' + "0" * 20 + "}", "is an integer beyond"),
    "thousands of digits": ('{"cores": 1' + "0" * 5000 + "}", "Enter a valid JSON"),
    "deep nesting": ("[" * 100_000 + "]" * 100_000, "Enter a valid JSON"),
    "too many entries": (
        json.dumps({f"spec_{n}": n for n in range(51)}),
        "at most 50 are allowed",
    ),
    "a long text": (json.dumps({"notes": "x" * 501}), "is longer than 500 characters"),
}


def product_form(category, **overrides) -> dict[str, str]:
    return {
        "public_id": "PROD-NEW-001",
        "sku": "SKU-NEW-001",
        "name": "New part",
        "category": str(category.pk),
        "manufacturer": "Acme",
        "is_active": "on",
        "price": "12.50",
        "currency": "USD",
        "specifications": '{"memory": "8GB"}',
        "warranty": "1 year",
        "stock-TOTAL_FORMS": "0",
        "stock-INITIAL_FORMS": "0",
        "stock-MIN_NUM_FORMS": "0",
        "stock-MAX_NUM_FORMS": "0",
        **overrides,
    }


def errors_of(response) -> str:
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    return json.dumps(form.errors)


@pytest.mark.parametrize("case", BAD_SPECIFICATIONS)
def test_adding_a_product_with_bad_specifications_is_a_form_error(admin_client, api, case):
    existing = ProductFactory()
    text, expected = BAD_SPECIFICATIONS[case]

    response = admin_client.post(
        "/admin/catalog/product/add/", product_form(existing.category, specifications=text)
    )

    assert expected in errors_of(response)
    assert not Product.objects.filter(public_id="PROD-NEW-001").exists()
    assert api.get("/v1/products").status_code == 200


@pytest.mark.parametrize("case", BAD_SPECIFICATIONS)
def test_editing_a_product_to_bad_specifications_is_a_form_error(admin_client, api, case):
    product = ProductFactory(public_id="PROD-OLD-001", sku="SKU-OLD-001")
    name = product.name
    text, expected = BAD_SPECIFICATIONS[case]
    data = product_form(product.category, public_id="PROD-OLD-001", sku="SKU-OLD-001")
    data.update(specifications=text, name="Renamed", **{"stock-INITIAL_FORMS": "1"})
    data.update({"stock-TOTAL_FORMS": "1", "stock-0-id": str(product.stock.pk)})
    data["stock-0-product"] = str(product.pk)

    response = admin_client.post(f"/admin/catalog/product/{product.pk}/change/", data)

    assert expected in errors_of(response)
    product.refresh_from_db()
    assert (product.name, product.specifications) == (name, {"memory": "8GB"})
    assert api.get(f"/v1/products/{product.public_id}").status_code == 200
    assert api.get("/v1/products").status_code == 200


@pytest.mark.parametrize("currency", ["EUR", "usd", ""])
def test_a_currency_other_than_usd_is_a_form_error(admin_client, currency):
    category = ProductFactory().category

    response = admin_client.post(
        "/admin/catalog/product/add/", product_form(category, currency=currency)
    )

    assert "currency" in response.context["adminform"].form.errors
    assert not Product.objects.filter(public_id="PROD-NEW-001").exists()


def test_an_empty_specifications_box_means_none(admin_client):
    category = ProductFactory().category

    response = admin_client.post(
        "/admin/catalog/product/add/", product_form(category, specifications="")
    )

    assert response.status_code == 302
    assert Product.objects.get(public_id="PROD-NEW-001").specifications == {}


def test_a_valid_product_added_in_the_admin_is_saved_with_its_related_products(admin_client, api):
    other = ProductFactory(public_id="PROD-OTHER-001")
    specifications = {"memory": "8GB", "cores": 8, "boost_ghz": 4.9, "rgb": False}

    response = admin_client.post(
        "/admin/catalog/product/add/",
        product_form(
            other.category,
            specifications=json.dumps(specifications),
            related_products=[str(other.pk)],
        ),
    )

    assert response.status_code == 302
    product = Product.objects.get(public_id="PROD-NEW-001")
    assert response["Location"].endswith("/admin/catalog/product/")
    assert list(product.related_products.all()) == [other]
    body = api.get("/v1/products/PROD-NEW-001").json()
    assert body["specifications"] == specifications
    assert body["currency"] == "USD"
    assert [r["id"] for r in body["related_products"]] == ["PROD-OTHER-001"]


def test_a_valid_edit_in_the_admin_saves_the_changed_fields(admin_client, api):
    product = ProductFactory(public_id="PROD-OLD-001", sku="SKU-OLD-001")
    data = product_form(product.category, public_id="PROD-OLD-001", sku="SKU-OLD-001")
    data.update(
        {
            "name": product.name,
            "price": "99.99",
            "specifications": '{"memory": "16GB", "ecc": true}',
            "stock-TOTAL_FORMS": "1",
            "stock-INITIAL_FORMS": "1",
            "stock-0-id": str(product.stock.pk),
            "stock-0-product": str(product.pk),
        }
    )

    response = admin_client.post(f"/admin/catalog/product/{product.pk}/change/", data)

    assert response.status_code == 302, errors_of(response)
    body = api.get("/v1/products/PROD-OLD-001").json()
    assert (body["price"], body["specifications"]) == (99.99, {"memory": "16GB", "ecc": True})
