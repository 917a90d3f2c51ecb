"""Two-person approval in the admin, in a real browser: a clerk's large damaged correction waits,
the requester cannot decide their own request, another manager approves it, and the stock
overview counts its loss at the unit cost of its moment."""

from decimal import Decimal

import pytest
from django.db import connection
from playwright.sync_api import expect

from inventory.approvals import approval_policy
from inventory.models import ApprovalRequest, StockMovement, StockRecord
from inventory.roles import CLERKS, MANAGERS
from tests.browser.conftest import ARTIFACTS
from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def screenshot(page, name: str) -> None:
    folder = ARTIFACTS / f"browser-{connection.vendor}"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def switch_user(page, log_in, username: str) -> None:
    page.context.clear_cookies()
    log_in(username)


def correct(page, live_server, record: StockRecord, *, adjust_by: str, note: str) -> None:
    page.goto(f"{live_server.url}/admin/inventory/stockrecord/{record.pk}/correct/")
    page.get_by_label("Or adjust by").fill(adjust_by)
    page.get_by_label("Reason:", exact=True).select_option(label="Damaged")
    page.get_by_label("Note").fill(note)
    page.get_by_role("button", name="Record correction").click()


def test_a_clerks_large_damaged_correction_waits_and_another_manager_approves_it(
    page, live_server, clerk, manager, inventory_groups, log_in
):
    policy = approval_policy()
    policy.min_units = 20
    policy.save()
    product = ProductFactory(
        sku="GPU-NV-4090-MSI-001", name="RTX 4090 Gaming X", stock=100, unit_cost=Decimal("900")
    )
    record = StockRecord.objects.get(product=product)
    # A manager who also corrects stock: their own request needs someone else.
    lead = UserFactory(username="lead")
    lead.groups.add(inventory_groups[MANAGERS], inventory_groups[CLERKS])

    log_in("clerk")
    correct(page, live_server, record, adjust_by="-30", note="Water damage, pallet 4")
    expect(page.locator(".messagelist")).to_contain_text(
        "needs a second person's approval: 30 units is at least the 20-unit limit"
    )
    expect(page.locator(".messagelist")).to_contain_text("held out of available stock")
    expect(page.locator(".field-status .readonly")).to_have_text("Pending")
    expect(page.locator("#approval-own-request")).to_be_visible()
    screenshot(page, "approval-correction-waits.png")
    waiting = ApprovalRequest.objects.get()
    stock = StockRecord.objects.get(pk=record.pk)
    assert (stock.on_hand, stock.reserved, stock.available) == (100, 30, 70)

    switch_user(page, log_in, "lead")
    correct(page, live_server, record, adjust_by="-25", note="Dropped box")
    own = ApprovalRequest.objects.exclude(pk=waiting.pk).get()
    expect(page.locator("#approval-own-request")).to_contain_text(
        "another manager must approve or reject it"
    )
    expect(page.get_by_role("button", name="Approve and apply")).to_have_count(0)

    switch_user(page, log_in, "manager")
    page.goto(f"{live_server.url}/admin/inventory/approvalrequest/?status__exact=pending")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    page.get_by_role("link", name="clerk").first.click()  # the requester filter
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    screenshot(page, "approval-requests-list.png")
    page.get_by_role("link", name=waiting.public_id).click()
    page.get_by_label("Comment").fill("Photos checked")
    page.get_by_role("button", name="Approve and apply").click()

    expect(page.locator(".messagelist")).to_contain_text(
        f"Request {waiting.public_id} approved: the change of -30 to GPU-NV-4090-MSI-001 was applied."
    )
    expect(page.locator(".field-status .readonly")).to_have_text("Approved")
    expect(page.locator(".field-comment .readonly")).to_have_text("Photos checked")
    screenshot(page, "approval-approved.png")
    stock = StockRecord.objects.get(pk=record.pk)
    # The clerk's 30 are gone; the lead's 25 are still held, waiting.
    assert (stock.on_hand, stock.reserved, stock.available) == (70, 25, 45)
    applied = StockMovement.objects.filter(approval_request=waiting).order_by("id").last()
    assert (applied.kind, applied.on_hand_delta, applied.actor_name, applied.reason_code) == (
        "correction",
        -30,
        "clerk",
        "damaged",
    )
    own.refresh_from_db()
    assert own.status == "pending"

    # The approved write-off is a loss on the overview, valued at the card's cost; the lead's
    # request still waits, so its held units are no loss (yet).
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Stock overview").click()
    page.get_by_label("Period").select_option(label="Today")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#total-loss")).to_have_text("30 units · $27,000.00")
    expect(page.locator("tr.loss-row").filter(has_text="Damaged")).to_contain_text("$27,000.00")
    expect(page.locator("tr.top-loss-row").first).to_contain_text("GPU-NV-4090-MSI-001")
    screenshot(page, "approval-loss-on-overview.png")
