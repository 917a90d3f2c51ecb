import csv
import io
import re

import pytest
from playwright.sync_api import expect

from inventory.models import StockMovement, StockRecord
from inventory.services import stock_reserve, stock_set
from techparts.actors import Actor
from tests.factories import ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clerk_corrects_stock_with_a_reason_and_sees_the_ledger_row(
    page, live_server, clerk, log_in
):
    product = ProductFactory(sku="GPU-NV-4090-MSI-001", name="RTX 4090 Gaming X", stock=23)
    ProductFactory(sku="CPU-AMD-5950X", name="Ryzen 9 5950X", stock=4)
    log_in("clerk")

    page.goto(f"{live_server.url}/admin/inventory/stockrecord/")
    page.locator("#searchbar").fill("4090")
    page.locator("#searchbar").press("Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.get_by_role("link", name="RTX 4090 Gaming X").click()
    expect(page.locator(".field-on_hand .readonly")).to_have_text("23")
    page.get_by_role("link", name="Correct stock").click()

    page.get_by_label("New on-hand count").fill("20")
    page.get_by_label("Reason:", exact=True).select_option(label="Cycle count")
    page.get_by_label("Note").fill("Shelf B3 recount")
    page.get_by_label("Reference").fill("COUNT-2024-12")
    page.get_by_role("button", name="Record correction").click()

    expect(page.locator(".messagelist")).to_contain_text("on hand 23 → 20 (-3)")
    expect(page.locator(".field-on_hand .readonly")).to_have_text("20")
    latest = page.locator("tr.movement-row").first
    expect(latest).to_contain_text("Cycle count")
    expect(latest).to_contain_text("Shelf B3 recount")
    expect(latest).to_contain_text("COUNT-2024-12")
    expect(latest).to_contain_text("clerk")
    expect(latest).to_contain_text("-3")
    assert StockRecord.objects.get(product=product).on_hand == 20
    row = StockMovement.objects.filter(product=product).first()
    assert (row.actor_name, row.source, row.on_hand_delta) == ("clerk", "admin", -3)


def test_clerk_sees_the_error_and_nothing_is_saved_for_an_invalid_correction(
    page, live_server, clerk, log_in
):
    product = ProductFactory(name="RTX 4070", stock=10)
    log_in("clerk")
    record = StockRecord.objects.get(product=product)

    page.goto(f"{live_server.url}/admin/inventory/stockrecord/{record.pk}/correct/")
    page.get_by_label("New on-hand count").fill("8")
    page.get_by_label("Or adjust by").fill("-2")
    page.get_by_label("Reason:", exact=True).select_option(label="Damaged")
    page.get_by_role("button", name="Record correction").click()

    expect(page.locator(".errornote")).to_contain_text("not both")
    assert StockRecord.objects.get(product=product).on_hand == 10
    assert StockMovement.objects.filter(product=product).count() == 1


def test_manager_filters_history_exports_csv_and_opens_the_chart(
    page, live_server, manager, clerk, log_in
):
    gpu = ProductFactory(sku="GPU-NV-4090-MSI-001", name="RTX 4090 Gaming X", stock=23)
    cpu = ProductFactory(sku="CPU-AMD-5950X", name="Ryzen 9 5950X", stock=10)
    stock_set(
        product_id=gpu.pk,
        quantity=45,
        actor=Actor.staff(clerk),
        kind="restock",
        reason="Received shipment: pallet 4",
        reference="DN-100",
    )
    stock_reserve(quantities={gpu.pk: 2, cpu.pk: 1}, actor=Actor.system(), reference="ORD-9")
    stock_set(product_id=cpu.pk, quantity=12, actor=Actor.staff(clerk), kind="restock")
    log_in("manager")

    page.goto(f"{live_server.url}/admin/inventory/stockmovement/")
    expect(page.locator("#result_list tbody tr")).to_have_count(6)
    page.locator("#changelist-filter").get_by_role("link", name="Restock", exact=True).click()
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    page.locator("#searchbar").fill("GPU-NV")
    page.locator("#searchbar").press("Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("DN-100")

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Export CSV")).click()
    download = download_info.value
    assert download.suggested_filename.startswith("stock-history-")
    with open(download.path(), encoding="utf-8") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    assert [
        (r["sku"], r["kind"], r["on_hand_change"], r["reference"], r["actor"]) for r in rows
    ] == [("GPU-NV-4090-MSI-001", "restock", "22", "DN-100", "clerk")]

    page.goto(f"{live_server.url}/admin/inventory/stockrecord/")
    page.locator("#result_list tbody tr", has_text="GPU-NV-4090-MSI-001").get_by_role(
        "link", name="Chart & history"
    ).click()
    chart = page.locator("svg.stock-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("path.series-on_hand")).to_have_count(1)
    expect(chart.locator("path.series-available")).to_have_count(1)
    expect(chart.locator("circle.point")).to_have_count(3)
    expect(page.locator("tr.movement-row")).to_have_count(3)
