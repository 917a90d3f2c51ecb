"""A clerk imports stock corrections from a CSV file: upload, dry run, apply (in Chromium)."""

import pytest
from playwright.sync_api import expect

from inventory.models import StockImport, StockMovement, StockRecord
from tests.browser.conftest import _artifacts_dir
from tests.factories import ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILE = (
    "\ufeffsku;quantity;adjust_by;reason_code;note;reference\r\n"
    "GPU-NV-4090-MSI-001;20;;cycle_count;Shelf B3 recount;COUNT-2024-12\r\n"
    "CPU-AMD-5950X;;-2;damaged;Dropped in aisle 4;\r\n"
    "RAM-DDR5-32GB;8;;correction;;\r\n"
    "SSD-NOPE-1;5;;correction;;\r\n"
)


def test_clerk_uploads_a_csv_reviews_the_dry_run_and_applies_it(
    page, live_server, clerk, log_in, tmp_path
):
    gpu = ProductFactory(sku="GPU-NV-4090-MSI-001", name="RTX 4090 Gaming X", stock=23)
    cpu = ProductFactory(sku="CPU-AMD-5950X", name="Ryzen 9 5950X", stock=4)
    ram = ProductFactory(sku="RAM-DDR5-32GB", name="DDR5 32 GB", stock=8)
    path = tmp_path / "count.csv"
    path.write_text(FILE, encoding="utf-8")
    log_in("clerk")

    page.goto(f"{live_server.url}/admin/inventory/stockrecord/")
    page.get_by_role("link", name="Import corrections (CSV)").click()
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and review").click()

    expect(page.locator("#import-state")).to_contain_text("Nothing has been changed.")
    rows = page.locator("tr.import-row")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("23 → 20 (-3)")
    expect(rows.nth(1)).to_contain_text("4 → 2 (-2)")
    expect(rows.nth(2)).to_contain_text("unchanged (8)")
    expect(rows.nth(3)).to_contain_text("SKU 'SSD-NOPE-1' does not exist in inventory system")
    expect(page.locator("#import-summary")).to_contain_text("COUNT-2024-12")
    assert [StockRecord.objects.get(product=p).on_hand for p in (gpu, cpu, ram)] == [23, 4, 8]
    folder = _artifacts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "csv-corrections-dry-run.png"), full_page=True)

    # All or nothing (the default) refuses the file because of the unknown SKU.
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#import-error")).to_contain_text("Nothing was applied: 1 of 4 rows fail")
    assert StockMovement.objects.filter(adjustment_group__isnull=False).count() == 0

    page.get_by_label("Apply the rows that pass and skip the failing ones").check()
    page.get_by_role("button", name="Apply").click()

    expect(page.locator(".messagelist")).to_contain_text(
        "2 rows changed stock, 1 unchanged, 1 failed"
    )
    expect(page.locator("#import-state")).to_contain_text("Applied")
    expect(page.get_by_role("button", name="Apply")).to_have_count(0)
    page.screenshot(path=str(folder / "csv-corrections-applied.png"), full_page=True)
    assert [StockRecord.objects.get(product=p).on_hand for p in (gpu, cpu, ram)] == [20, 2, 8]
    group = StockImport.objects.get().adjustment_group
    written = StockMovement.objects.filter(adjustment_group=group).order_by("id")
    assert [
        (m.product_id, m.reason_code, m.reason, m.reference, m.actor_name) for m in written
    ] == [
        (gpu.pk, "cycle_count", "Shelf B3 recount", "COUNT-2024-12", "clerk"),
        (cpu.pk, "damaged", "Dropped in aisle 4", "COUNT-2024-12", "clerk"),
    ]
