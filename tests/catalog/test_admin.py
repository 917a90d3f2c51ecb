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
