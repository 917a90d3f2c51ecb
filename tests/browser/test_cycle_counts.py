from decimal import Decimal

import pytest
from django.db import connection
from playwright.sync_api import expect

from inventory.models import CountSession, StockMovement
from inventory.services import stock_reserve, stock_ship
from techparts.actors import Actor
from tests.browser.conftest import ARTIFACTS
from tests.conftest import stock_of
from tests.factories import ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GPU = "GPU-NV-4090-MSI-001"


def test_manager_creates_a_count_clerk_counts_blind_manager_posts_the_variance(
    page, live_server, manager, clerk, log_in
):
    gpu = ProductFactory(sku=GPU, name="RTX 4090 Gaming X", stock=23, unit_cost=Decimal("1500.00"))
    ProductFactory(sku="CPU-AMD-5950X", name="Ryzen 9 5950X", stock=4)

    # The manager picks the product by SKU and assigns the clerk.
    log_in("manager")
    page.goto(f"{live_server.url}/admin/inventory/countsession/add/")
    page.get_by_label("Name").fill("Aisle 7 graphics cards")
    page.get_by_label("SKUs").fill(GPU)
    page.get_by_label("clerk").check()
    page.get_by_role("button", name="Create cycle count").click()
    expect(page.locator(".messagelist")).to_contain_text("created with 1 product.")
    session = CountSession.objects.get()

    # The clerk counts 20 without seeing the system's 23, here or on the stock list.
    page.context.clear_cookies()
    log_in("clerk")
    page.goto(f"{live_server.url}/admin/inventory/stockrecord/")
    row = page.locator("#result_list tbody tr", has_text=GPU)
    expect(row).to_contain_text("hidden while you count")
    expect(row).not_to_contain_text("23")
    page.goto(f"{live_server.url}/admin/inventory/countsession/")
    page.get_by_role("link", name=f"#{session.pk} Aisle 7 graphics cards").click()
    line = page.locator(f'tr.count-line[data-sku="{GPU}"]')
    expect(line).to_contain_text("RTX 4090 Gaming X")
    expect(page.locator("#content-main")).not_to_contain_text("23")
    line.locator("input").fill("20")
    page.get_by_role("button", name="Save and submit for review").click()
    expect(page.locator(".messagelist")).to_contain_text("the session is in review")

    # A sale after the count: 1 unit leaves the shelf before the posting.
    stock_reserve(quantities={gpu.pk: 1}, actor=Actor.system(), reference="ORD-1")
    stock_ship(quantities={gpu.pk: 1}, actor=Actor.system(), reference="ORD-1")

    # The manager reviews -3 units (-4500.00 at cost) and posts them.
    page.context.clear_cookies()
    log_in("manager")
    page.goto(f"{live_server.url}/admin/inventory/countsession/{session.pk}/change/")
    review = page.locator(f'tr.review-line[data-sku="{GPU}"]')
    expect(review.locator("td.variance")).to_have_text("-3")
    expect(review.locator("td.value")).to_have_text("-4500.00")
    page.get_by_role("button", name="Post variances").click()
    expect(page.locator(".messagelist")).to_contain_text("Posted: 1 of 1 counted products adjusted")
    expect(page.locator(".session-state")).to_have_text("Posted")
    folder = ARTIFACTS / f"browser-{connection.vendor}"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "cycle-count-posted.png"), full_page=True)

    assert stock_of(gpu).on_hand == 19  # 23 - 1 sold - 3 missing, not the 20 counted
    row = StockMovement.objects.filter(product=gpu).first()
    assert (row.reason_code, row.on_hand_delta, row.actor_name) == ("cycle_count", -3, "manager")
    page.locator("a.posted-group").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text(f"Cycle count #{session.pk}")
