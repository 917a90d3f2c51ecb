import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from playwright.sync_api import expect

from catalog.models import Product
from catalog.roles import GROUP_PERMISSIONS, MANAGERS
from inventory.services import stock_adjust
from techparts.actors import Actor
from techparts.roles import ensure_groups
from tests.browser.conftest import ARTIFACTS
from tests.factories import CategoryFactory, ProductFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalog_manager(db):
    ensure_groups(Group, Permission, GROUP_PERMISSIONS)
    user = UserFactory(username="buyer")
    user.groups.add(Group.objects.get(name=MANAGERS))
    return user


def test_a_manager_reads_the_loss_on_the_stock_overview(
    page, live_server, log_in, catalog_manager, clerk, manager
):
    gpus = CategoryFactory(slug="graphics-cards", name="Graphics cards")
    gpu = ProductFactory(sku="GPU-NV-4090-MSI-001", name="RTX 4090", category=gpus, stock=10)
    fan = ProductFactory(sku="FAN-NOC-A12-001", name="NF-A12 fan", category=gpus, stock=30)

    # The buyer gives the card its unit cost on the product page.
    log_in("buyer")
    page.goto(f"{live_server.url}/admin/catalog/product/{gpu.pk}/change/")
    page.get_by_label("Unit cost").fill("1450.00")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert Product.objects.get(pk=gpu.pk).unit_cost == Decimal("1450.00")
    page.goto(f"{live_server.url}/admin/catalog/product/{gpu.pk}/change/")
    expect(page.locator("tr.cost-change")).to_contain_text("buyer")
    page.get_by_role("button", name="Log out").click()

    # A clerk writes off two damaged cards; a fan (no cost known) goes missing.
    stock_adjust(product_id=gpu.pk, delta=-2, actor=Actor.staff(clerk), reason_code="damaged")
    stock_adjust(product_id=fan.pk, delta=-1, actor=Actor.staff(clerk), reason_code="theft")

    log_in("manager")
    page.get_by_role("link", name="Stock overview").click()
    page.get_by_label("Period").select_option(label="Today")
    page.get_by_label("Category").select_option(label="Graphics cards")
    page.get_by_role("button", name="Show").click()

    expect(page.locator("#total-loss")).to_have_text(
        "3 units · $2,900.00 + 1 unit of unknown value"
    )
    loss_rows = page.locator("tr.loss-row")
    expect(loss_rows).to_have_count(2)
    expect(loss_rows.filter(has_text="Damaged")).to_contain_text("$2,900.00")
    expect(loss_rows.filter(has_text="Theft")).to_contain_text("value unknown")
    expect(page.locator("tr.top-loss-row").first).to_contain_text("GPU-NV-4090-MSI-001")
    expect(page.locator("#chart-loss svg.bar-chart")).to_be_visible()
    folder = ARTIFACTS / f"browser-{connection.vendor}"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "stock-overview-loss.png"), full_page=True)

    with page.expect_download() as download_info:
        page.locator("#chart-loss").get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("stock-overview-loss-")
    with open(download.path(), encoding="utf-8") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    assert [(r["reason_code"], r["units"], r["value"], r["units_value_unknown"]) for r in rows] == [
        ("damaged", "2", "2900.00", "0"),
        ("theft", "1", "", "1"),
    ]
