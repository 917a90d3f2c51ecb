"""Products saved before the catalog rules existed are brought within them by migration."""

from decimal import Decimal

import pytest

from catalog.models import Product
from tests.migrations import migrate_to_latest, migrated_back_to

BEFORE = [("catalog", "0001_initial")]


@pytest.fixture
def legacy_catalog(transactional_db):
    """Migrate catalog back to before the rules and yield its models of that time."""
    with migrated_back_to(BEFORE) as apps:
        yield apps


def test_legacy_specifications_and_currency_are_fixed_and_the_api_answers(legacy_catalog, api):
    OldCategory = legacy_catalog.get_model("catalog", "Category")
    OldProduct = legacy_catalog.get_model("catalog", "Product")
    category = OldCategory.objects.create(slug="gpus", name="GPUs")
    rows = {
        "PROD-LIST-001": ([1, 2, 3], "USD"),
        "PROD-TEXT-001": ("text", "USD"),
        "PROD-NEST-001": ({"a": {"b": 1}, "ports": ["HDMI", "DP"], "gone": None, "": 3}, "USD"),
        "PROD-EURO-001": ({"memory": "8GB"}, "EUR"),
    }
    for public_id, (specifications, currency) in rows.items():
        OldProduct.objects.create(
            public_id=public_id,
            sku=public_id.replace("PROD", "SKU"),
            name=public_id,
            category=category,
            manufacturer="Acme",
            price=Decimal("10.00"),
            currency=currency,
            specifications=specifications,
        )

    # Through 0003 (the fix) to the latest: the API below reads the current model.
    migrate_to_latest()

    fixed = {p.public_id: (p.specifications, p.currency) for p in Product.objects.all()}
    assert fixed == {
        "PROD-LIST-001": ({"legacy_specifications": "[1, 2, 3]"}, "USD"),
        "PROD-TEXT-001": ({"legacy_specifications": "text"}, "USD"),
        "PROD-NEST-001": (
            {"a": '{"b": 1}', "ports": '["HDMI", "DP"]', "unnamed": 3},
            "USD",
        ),
        "PROD-EURO-001": ({"memory": "8GB"}, "USD"),
    }
    assert api.get("/v1/products").status_code == 200
    for public_id in rows:
        assert api.get(f"/v1/products/{public_id}").status_code == 200
    for product in Product.objects.all():
        product.full_clean()  # every fixed row passes the model's own rules
