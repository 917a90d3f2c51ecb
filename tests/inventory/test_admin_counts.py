"""Cycle counts in the admin: sessions, the blind count screen, blindness on every stock page,
review and posting, permissions, and the stock list's "last counted"."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.approvals import approval_policy
from inventory.counts import (
    CountSelection,
    count_lines_record,
    count_session_cancel,
    count_session_create,
    count_session_submit,
)
from inventory.models import CountSession, StockMovement, StockRecord
from inventory.services import stock_reserve, stock_set
from techparts.actors import Actor
from tests.conftest import stock_of
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

SESSIONS = "/admin/inventory/countsession/"
ADD = SESSIONS + "add/"
STOCK_LIST = "/admin/inventory/stockrecord/"
HISTORY = "/admin/inventory/stockmovement/"
PRODUCTS = "/admin/catalog/product/"
REQUESTS = "/admin/inventory/approvalrequest/"
# The counted product's counts: numbers no other part of these pages shows.
ON_HAND, RESERVED = 7351, 1234
AVAILABLE = ON_HAND - RESERVED


def client_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def shows(content: bytes | str, number: int) -> bool:
    text = content.decode() if isinstance(content, bytes) else content
    return re.search(rf"(?<!\w){number}(?!\w)", text) is not None


def shows_counts(content) -> bool:
    return any(shows(content, n) for n in (ON_HAND, RESERVED, AVAILABLE))


def session_url(session, step: str = "change") -> str:
    return f"{SESSIONS}{session.pk}/{step}/"


@pytest.fixture
def counted():
    """The product being counted: 7351 on hand, 1234 reserved."""
    product = ProductFactory(
        sku="GPU-NV-4090-MSI-001", name="RTX 4090", stock=ON_HAND, unit_cost=Decimal("1500.00")
    )
    stock_reserve(quantities={product.pk: RESERVED}, actor=Actor.system(), reference="ORD-1")
    return product


@pytest.fixture
def other():
    return ProductFactory(sku="CPU-AMD-5950X", name="Ryzen 9", stock=42)


@pytest.fixture
def session(manager, clerk, counted):
    return count_session_create(
        name="Aisle 7",
        selection=CountSelection(skus=(counted.sku,)),
        assignees=[clerk],
        actor=manager,
    ).session


@pytest.fixture
def clerk_manager(inventory_groups):
    """A clerk who is also a manager (reaches the history and chart), assigned to a count."""
    user = UserFactory(username="lead-clerk")
    user.groups.add(*inventory_groups.values())
    return user


# Creating a session


def test_manager_creates_a_session_from_the_add_form(manager, clerk, counted, other):
    client = client_as(manager)
    response = client.post(
        ADD,
        {"name": "Aisle 7", "skus": f"{counted.sku}\n{other.sku.lower()}", "assignees": [clerk.pk]},
    )

    session = CountSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == session_url(session)
    assert sorted(session.lines.values_list("product__sku", flat=True)) == [
        other.sku,
        counted.sku,
    ]
    assert list(session.assignees.all()) == [clerk]
    page = client.get(response["Location"])
    assert "created with 2 products" in page.content.decode()


def test_the_add_form_lists_only_users_who_may_count(manager, clerk, staff):
    content = client_as(manager).get(ADD).content.decode()

    assert f'value="{clerk.pk}"' in content
    assert f'value="{staff.pk}"' not in content
    assert f'value="{manager.pk}"' not in content


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": "A"}, "Pick the products"),
        ({"name": "A", "skus": "NOPE-1"}, "Unknown SKUs: NOPE-1"),
        ({"name": "A", "skus": " ".join(f"X-{n}" for n in range(501))}, "at most 500 SKUs"),
        ({"name": "A", "not_counted_days": "-1"}, "greater than or equal to 0"),
    ],
)
def test_the_add_form_shows_errors_and_creates_nothing(manager, clerk, counted, data, error):
    response = client_as(manager).post(ADD, {**data, "assignees": [clerk.pk]})

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not CountSession.objects.exists()


def test_a_selection_beyond_500_products_is_refused_in_plain_words(manager, clerk):
    from tests.inventory.test_bulk import open_products

    products = open_products(501)

    response = client_as(manager).post(
        ADD, {"name": "All", "category": products[0].category_id, "assignees": [clerk.pk]}
    )

    assert "The selection has 501 products; a count session holds at most 500." in (
        response.content.decode()
    )
    assert not CountSession.objects.exists()


def test_clerks_and_other_staff_cannot_create_sessions(clerk, staff, counted):
    for user in (clerk, staff):
        client = client_as(user)
        assert client.get(ADD).status_code == 403
        assert client.post(ADD, {"name": "A", "skus": counted.sku}).status_code == 403
    assert not CountSession.objects.exists()


# The count screen


def test_the_assigned_clerk_counts_on_a_screen_without_the_system_quantity(session, clerk, counted):
    client = client_as(clerk)

    page = client.get(session_url(session))

    assert page.status_code == 200
    content = page.content.decode()
    assert 'id="count-entry-form"' in content
    assert counted.sku in content
    assert not shows_counts(content)
    line = session.lines.get()
    response = client.post(session_url(session, "count"), {f"line_{line.pk}": "7340"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.counted_quantity, line.on_hand_at_count, line.counted_by) == (7340, ON_HAND, clerk)
    after = client.get(session_url(session)).content.decode()
    assert "1 counts recorded." in after
    assert 'value="7340"' in after  # the clerk's own entry, never the system's
    assert not shows_counts(after)


def test_a_bad_count_rerenders_the_screen_and_saves_nothing(session, clerk):
    line = session.lines.get()

    response = client_as(clerk).post(session_url(session, "count"), {f"line_{line.pk}": "-3"})

    assert response.status_code == 400
    assert "greater than or equal to 0" in response.content.decode()
    assert not shows_counts(response.content)
    line.refresh_from_db()
    assert line.counted_quantity is None


def test_the_clerk_saves_and_submits_for_review_in_one_step(session, clerk):
    line = session.lines.get()

    client_as(clerk).post(
        session_url(session, "count"), {f"line_{line.pk}": "7351", "_submit": "1"}
    )

    session.refresh_from_db()
    assert (session.state, session.submitted_by) == (CountSession.State.IN_REVIEW, clerk)


def test_a_clerk_not_assigned_does_not_reach_the_session(session, inventory_groups):
    outsider = UserFactory(username="clerk2")
    outsider.groups.add(inventory_groups["Inventory clerks"])
    client = client_as(outsider)
    line = session.lines.get()

    assert client.get(session_url(session)).status_code == 404
    assert client.post(session_url(session, "count"), {f"line_{line.pk}": "1"}).status_code == 404
    assert session.id not in [s.id for s in client.get(SESSIONS).context["cl"].result_list]
    line.refresh_from_db()
    assert line.counted_quantity is None


# Blind on every page that shows stock


def test_stock_list_hides_the_counted_products_counts_only(session, clerk, counted, other):
    content = client_as(clerk).get(STOCK_LIST).content.decode()

    assert counted.sku in content
    assert not shows_counts(content)
    assert "hidden while you count" in content
    assert shows(content, 42)  # the other product's counts stay


@pytest.mark.parametrize(
    "query", ["o=3", "o=-3", "o=4", "o=5", "level=low", "level=ok", "level=out"]
)
def test_stock_list_sorting_and_level_filter_reveal_nothing(session, clerk, counted, query):
    response = client_as(clerk).get(f"{STOCK_LIST}?{query}")

    assert response.status_code == 200
    assert not shows_counts(response.content)
    rows = response.context["cl"].result_list
    hidden = [r for r in rows if r.product_id == counted.pk]
    if query.startswith("level"):
        assert hidden == []  # neither low, nor out, nor above the threshold
    else:
        assert [r.on_hand_units for r in hidden] == [None]


def test_stock_page_hides_the_counts_and_recent_movements(session, clerk, counted):
    record = stock_of(counted)

    content = client_as(clerk).get(f"{STOCK_LIST}{record.pk}/change/").content.decode()

    assert counted.sku in content
    assert not shows_counts(content)
    assert "Hidden while you count this product" in content
    assert "/correct/" not in content


def test_correction_form_shows_no_count_and_refuses_a_correction(session, clerk, counted):
    url = f"{STOCK_LIST}{stock_of(counted).pk}/correct/"
    client = client_as(clerk)

    page = client.get(url)
    refused = client.post(url, {"adjustment": "-1", "reason_code": "damaged"})

    assert page.status_code == 200
    assert "You are counting" in page.content.decode()
    assert not shows_counts(page.content)
    assert 'name="expected_on_hand"' not in page.content.decode()
    assert refused.status_code == 403
    assert not shows_counts(refused.content)
    assert stock_of(counted).on_hand == ON_HAND


def test_chart_and_history_are_hidden_from_a_clerk_who_can_reach_them(
    manager, clerk_manager, counted, other
):
    count_session_create(
        name="Aisle 7",
        selection=CountSelection(skus=(counted.sku,)),
        assignees=[clerk_manager],
        actor=manager,
    )
    client = client_as(clerk_manager)

    chart = client.get(f"{STOCK_LIST}{stock_of(counted).pk}/movements/")
    history = client.get(HISTORY)
    export = client.get(HISTORY + "export/")

    assert chart.status_code == 200
    assert "stock-chart" not in chart.content.decode()
    assert not shows_counts(chart.content)
    assert history.status_code == 200
    assert {m.product_id for m in history.context["cl"].result_list} == {other.pk}
    assert not shows_counts(history.content)
    csv_text = b"".join(export.streaming_content).decode()
    assert counted.sku not in csv_text and other.sku in csv_text
    row = StockMovement.objects.filter(product=counted).first()
    assert client.get(f"{HISTORY}{row.pk}/change/").status_code == 302  # "does not exist"


def test_product_list_and_page_hide_the_counts(session, clerk, counted):
    listing = client_as(clerk).get(PRODUCTS).content.decode()
    page = client_as(clerk).get(f"{PRODUCTS}{counted.pk}/change/").content.decode()

    assert counted.sku in listing
    assert not shows_counts(listing)
    assert "hidden while you count" in listing
    assert counted.name in page
    assert not shows_counts(page)
    assert "hidden while you count" in page


def test_counts_show_again_once_counting_ends_and_never_hide_from_others(
    session, clerk, manager, counted
):
    url = f"{STOCK_LIST}{stock_of(counted).pk}/change/"
    assert shows(client_as(manager).get(url).content, ON_HAND)
    assert not shows(client_as(clerk).get(url).content, ON_HAND)

    count_session_submit(session_id=session.pk, actor=clerk)

    assert shows(client_as(clerk).get(url).content, ON_HAND)
    assert shows(client_as(clerk).get(STOCK_LIST).content, AVAILABLE)


# Review and posting


def counted_and_submitted(session, clerk, quantity: int) -> None:
    line = session.lines.get()
    count_lines_record(session_id=session.pk, counts={line.product_id: quantity}, actor=clerk)
    count_session_submit(session_id=session.pk, actor=clerk)


def test_manager_reviews_variance_in_units_and_value_and_posts_it(session, clerk, manager, counted):
    counted_and_submitted(session, clerk, ON_HAND - 2)
    client = client_as(manager)

    review = client.get(session_url(session)).content.decode()
    response = client.post(session_url(session, "post"))

    assert '<td class="variance">-2</td>' in review
    assert '<td class="value">-3000.00</td>' in review
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.state == CountSession.State.POSTED
    row = StockMovement.objects.filter(product=counted).first()
    assert (row.on_hand_delta, row.reason_code, row.adjustment_group) == (
        -2,
        "cycle_count",
        session.adjustment_group,
    )
    page = client.get(session_url(session)).content.decode()
    assert "Posted: 1 of 1 counted products adjusted" in page
    assert f"?adjustment_group={session.adjustment_group}" in page


def test_unknown_cost_shows_as_unknown(manager, clerk):
    product = ProductFactory(sku="GPU-NO-COST", stock=5)
    session = count_session_create(
        name="A", selection=CountSelection(skus=(product.sku,)), assignees=[clerk], actor=manager
    ).session
    counted_and_submitted(session, clerk, 4)

    review = client_as(manager).get(session_url(session)).content.decode()

    assert '<td class="value">unknown</td>' in review


def test_a_posting_that_breaks_a_rule_shows_the_failing_line_and_posts_nothing(
    session, clerk, manager, counted
):
    counted_and_submitted(session, clerk, RESERVED - 1)  # fewer than the reserved units

    response = client_as(manager).post(session_url(session, "post"), follow=True)

    content = response.content.decode()
    assert "1 of 1 variances cannot be applied to the current stock; nothing was posted." in content
    assert "1233: 1234 units are reserved by open orders" in content
    assert stock_of(counted).on_hand == ON_HAND
    session.refresh_from_db()
    assert session.state == CountSession.State.IN_REVIEW


def test_clerks_may_not_post_cancel_or_reopen(session, clerk):
    counted_and_submitted(session, clerk, 1)
    client = client_as(clerk)

    for step in ("post", "cancel", "reopen", "approve"):
        assert client.post(session_url(session, step)).status_code == 403, step
    session.refresh_from_db()
    assert session.state == CountSession.State.IN_REVIEW


def test_steps_take_only_post_and_need_the_csrf_token(session, clerk, manager):
    counted_and_submitted(session, clerk, 1)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(manager)

    assert client_as(manager).get(session_url(session, "post")).status_code == 405
    assert strict.post(session_url(session, "post")).status_code == 403
    session.refresh_from_db()
    assert session.state == CountSession.State.IN_REVIEW


def test_staff_without_count_permissions_see_no_sessions(session, staff):
    client = client_as(staff)

    assert client.get(SESSIONS).status_code == 403
    assert client.get(session_url(session)).status_code == 403


def test_manager_cancels_and_reopens(session, clerk, manager):
    client = client_as(manager)
    counted_and_submitted(session, clerk, 1)

    client.post(session_url(session, "reopen"))
    session.refresh_from_db()
    assert session.state == CountSession.State.OPEN
    client.post(session_url(session, "cancel"))
    session.refresh_from_db()
    assert (session.state, session.cancelled_by) == (CountSession.State.CANCELLED, manager)


# Last counted


def test_stock_list_shows_and_filters_last_counted(manager, clerk):
    now = timezone.now()
    ages = {"GPU-NEVER-1": None, "GPU-DAYS-10": 10, "GPU-DAYS-45": 45, "GPU-DAYS-120": 120}
    for sku, days in ages.items():
        product = ProductFactory(sku=sku)
        if days is not None:
            StockRecord.objects.filter(product=product).update(
                last_counted_at=now - timedelta(days=days)
            )
    client = client_as(clerk)

    def skus(query: str) -> list[str]:
        rows = client.get(f"{STOCK_LIST}?{query}").context["cl"].result_list
        return sorted(r.product.sku for r in rows)

    assert skus("counted=never") == ["GPU-NEVER-1"]
    assert skus("counted=over30") == ["GPU-DAYS-120", "GPU-DAYS-45", "GPU-NEVER-1"]
    assert skus("counted=over90") == ["GPU-DAYS-120", "GPU-NEVER-1"]
    assert skus("counted=within30") == ["GPU-DAYS-10"]
    listing = client.get(STOCK_LIST).content.decode()
    assert f"{timezone.localtime(now - timedelta(days=10)):%Y-%m-%d}" in listing
    assert "never" in listing
    record = StockRecord.objects.get(product__sku="GPU-DAYS-10")
    page = client.get(f"{STOCK_LIST}{record.pk}/change/").content.decode()
    assert "Last counted at" in page


def test_session_pages_cost_the_same_queries_for_more_lines(manager, clerk):
    few = open_session(manager, clerk, ProductFactory.create_batch(2, stock=5))
    many = open_session(manager, clerk, ProductFactory.create_batch(20, stock=5))

    def queries(user, session) -> int:
        client = client_as(user)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(session_url(session)).status_code == 200
        return len(captured)

    assert queries(clerk, few) == queries(clerk, many)  # the count screen
    for session in (few, many):
        line_ids = dict(session.lines.values_list("product_id", "product_id"))
        count_lines_record(session_id=session.pk, counts=dict.fromkeys(line_ids, 3), actor=clerk)
        count_session_submit(session_id=session.pk, actor=clerk)
    approval_policy()  # made on its first read (a few statements, once)
    assert queries(manager, few) == queries(manager, many)  # the review
    assert client_as(manager).get(SESSIONS).status_code == 200


def open_session(manager, clerk, products):
    return count_session_create(
        name="Q",
        selection=CountSelection(skus=tuple(p.sku for p in products)),
        assignees=[clerk],
        actor=manager,
    ).session


def test_review_warns_of_a_correction_since_the_count(session, clerk, manager, counted):
    from inventory.services import stock_adjust

    line = session.lines.get()
    count_lines_record(session_id=session.pk, counts={line.product_id: 7000}, actor=clerk)
    stock_adjust(product_id=counted.pk, delta=-5, actor=Actor.staff(manager), reason_code="theft")

    review = client_as(manager).get(session_url(session)).content.decode()

    assert "Stock was corrected by -5 since this count" in review


def test_a_corrections_file_naming_a_counted_product_is_refused_to_its_counter(
    session, clerk, counted, other
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from inventory.models import StockImport

    client = client_as(clerk)
    text = f"sku,quantity,adjust_by,reason_code,note,reference\n{counted.sku},,-1,damaged,,\n"
    client.post(
        STOCK_LIST + "import/",
        {"file": SimpleUploadedFile("c.csv", text.encode(), content_type="text/csv")},
    )
    stock_import = StockImport.objects.get()
    url = f"{STOCK_LIST}import/{stock_import.id}/"

    review = client.get(url, follow=True)
    applied = client.post(url, {"error_policy": "all_or_nothing", "reviewed": "0" * 64})

    assert f"This file corrects {counted.sku}, which you are counting" in review.content.decode()
    assert not shows_counts(review.content)
    assert applied.status_code == 302
    assert stock_of(counted).on_hand == ON_HAND
    count_session_submit(session_id=session.pk, actor=clerk)
    assert shows(client.get(url).content, ON_HAND)  # once counting ends: "7351 → 7350 (-1)"


def test_a_flagged_line_is_approved_in_review_before_posting(
    session, clerk, manager, counted, inventory_groups
):
    policy = approval_policy()
    policy.min_units = 2
    policy.save()
    counted_and_submitted(session, clerk, ON_HAND - 2)
    line = session.lines.get()
    client = client_as(manager)

    review = client.get(session_url(session)).content.decode()
    refused = client.post(session_url(session, "post"), follow=True).content.decode()
    client.post(session_url(session, "approve"), {"line": str(line.pk)})
    client.post(session_url(session, "post"))

    assert "2 units is at least the 2-unit limit" in review
    assert 'class="approve-line"' in review
    assert "1 line needs approval before cycle count" in refused
    line.refresh_from_db()
    assert line.approved_by == manager
    session.refresh_from_db()
    assert session.state == CountSession.State.POSTED
    assert stock_of(counted).on_hand == ON_HAND - 2
    assert client.post(session_url(session, "approve"), {"line": "abc"}).status_code == 302


# Blindness reaches filters in the query string and the approval requests too


@pytest.mark.parametrize(
    "query",
    [
        f"on_hand={ON_HAND}",
        f"on_hand__gte={ON_HAND}",
        f"reserved={RESERVED}",
        f"reserved__lt={RESERVED + 1}",
        "updated_at__isnull=False",
    ],
)
def test_stock_list_query_filters_on_counts_are_refused_to_a_counting_clerk(
    session, clerk, manager, counted, other, query
):
    refused = client_as(clerk).get(f"{STOCK_LIST}?{query}")
    allowed = client_as(manager).get(f"{STOCK_LIST}?{query}")

    # A filter on the real column would list the hidden product or not, and so tell its count.
    assert refused.status_code == 400
    assert counted.sku not in refused.content.decode()
    assert allowed.status_code == 200  # whoever sees the counts still filters on them


def test_approval_requests_of_a_product_counted_blind_are_hidden_from_its_counter(
    manager, clerk_manager, counted, other
):
    policy = approval_policy()
    policy.min_units = 20
    policy.save()
    count_session_create(
        name="Aisle 7",
        selection=CountSelection(skus=(counted.sku,)),
        assignees=[clerk_manager],
        actor=manager,
    )
    # Another manager's large correction of the counted product waits for approval: its page
    # shows the on-hand at request time and the threshold's words name it.
    waiting = stock_set(
        product_id=counted.pk,
        quantity=ON_HAND - 100,
        reason_code="damaged",
        actor=Actor.staff(manager),
        approvals=True,
    ).approval_request
    visible = stock_set(
        product_id=other.pk,
        quantity=10,
        reason_code="damaged",
        actor=Actor.staff(manager),
        approvals=True,
    ).approval_request
    client = client_as(clerk_manager)

    listing = client.get(REQUESTS)
    searched = client.get(f"{REQUESTS}?q={counted.sku}")
    filtered = client.get(f"{REQUESTS}?on_hand_at_request={ON_HAND}")
    page = client.get(f"{REQUESTS}{waiting.pk}/change/")
    decided = client.post(f"{REQUESTS}{waiting.pk}/decide/", {"_approve": "1", "comment": ""})

    assert [r.pk for r in listing.context["cl"].result_list] == [visible.pk]
    assert not shows_counts(listing.content)
    assert list(searched.context["cl"].result_list) == []
    assert list(filtered.context["cl"].result_list) == []
    assert page.status_code == 302  # "does not exist", like the product's ledger rows
    assert decided.status_code == 404
    waiting.refresh_from_db()
    assert waiting.is_pending
    # Once counting ends the request is back, for its decision.
    count_session_submit(session_id=CountSession.objects.get().pk, actor=clerk_manager)
    assert client.get(f"{REQUESTS}{waiting.pk}/change/").status_code == 200


def test_an_earlier_sessions_review_is_hidden_from_a_manager_counting_its_product_blind(
    manager, clerk, clerk_manager, counted, other
):
    earlier = count_session_create(
        name="Last month",
        selection=CountSelection(skus=(counted.sku, other.sku)),
        assignees=[clerk],
        actor=manager,
    ).session
    count_lines_record(
        session_id=earlier.pk, counts={counted.pk: ON_HAND - 1, other.pk: 42}, actor=clerk
    )
    count_session_submit(session_id=earlier.pk, actor=clerk)
    # Corrected since: the review would show the on-hand at that count and the change since.
    stock_set(
        product_id=counted.pk, quantity=ON_HAND + 5, reason_code="received", actor=Actor.system()
    )
    count_session_cancel(session_id=earlier.pk, actor=manager)
    count_session_create(
        name="Now",
        selection=CountSelection(skus=(counted.sku,)),
        assignees=[clerk_manager],
        actor=manager,
    )

    hidden = client_as(clerk_manager).get(session_url(earlier))
    shown = client_as(manager).get(session_url(earlier))

    assert hidden.status_code == 200
    assert "its review is hidden" in hidden.content.decode()
    assert not shows_counts(hidden.content)
    assert not shows(hidden.content, ON_HAND - 1)
    assert shows(shown.content, ON_HAND)
