"""The stock overview: exact numbers on a known ledger, unknown costs, periods, CSV, queries."""

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.services import product_cost_set
from inventory.counts import CountSelection, count_session_create
from inventory.dashboard import Amount, period_between, period_of, stock_overview
from inventory.services import stock_adjust, stock_reserve, stock_set, stock_ship
from techparts.actors import Actor
from tests.conftest import stock_of
from tests.factories import CategoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

OVERVIEW = "/admin/inventory/stockoverview/"
NOON = datetime(2024, 12, 15, 12, 0, tzinfo=UTC)
SYSTEM = Actor.system()


def client_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def clock(monkeypatch):
    """Django's clock (timezone.now), which stamps ledger rows, set by the test: clock.at(t)."""

    class Clock:
        now = NOON

        def at(self, moment: datetime) -> None:
            self.now = moment

    fixed = Clock()
    monkeypatch.setattr(timezone, "now", lambda: fixed.now)
    return fixed


def product(sku: str, *, category, cost: str | None):
    """A product with no units yet and the given unit cost (None: unknown)."""
    made = ProductFactory(sku=sku, name=f"Product {sku}", category=category, stock=0)
    if cost is not None:
        product_cost_set(product=made, unit_cost=Decimal(cost), actor=SYSTEM)
    return made


def receive(item, units: int) -> None:
    stock_set(
        product_id=item.pk,
        quantity=units,
        actor=SYSTEM,
        kind="restock",
        reason_code="received",
    )


def lose(item, units: int, reason_code: str) -> None:
    stock_adjust(product_id=item.pk, delta=-units, actor=SYSTEM, reason_code=reason_code)


@pytest.fixture
def ledger(clock):
    """A known day (2024-12-15, UTC):

    A (GPU, 100.00 then 120.00): +10 received; -2 damaged, -1 cycle count at 100; -1 theft at 120
    B (GPU, cost unknown): +20 received; -3 shrinkage
    C (CPU, 50.00): +5 received; 2 reserved then shipped; +1 returned
    """
    gpus, cpus = (
        CategoryFactory(slug="gpus", name="GPUs"),
        CategoryFactory(slug="cpus", name="CPUs"),
    )
    a = product("GPU-A-001", category=gpus, cost="100.00")
    b = product("GPU-B-001", category=gpus, cost=None)
    c = product("CPU-C-001", category=cpus, cost="50.00")
    clock.at(datetime(2024, 12, 15, 9, 0, tzinfo=UTC))
    receive(a, 10)
    receive(b, 20)
    receive(c, 5)
    clock.at(datetime(2024, 12, 15, 10, 0, tzinfo=UTC))
    lose(a, 2, "damaged")
    stock_set(product_id=a.pk, quantity=7, actor=SYSTEM, reason_code="cycle_count")
    product_cost_set(product=a, unit_cost=Decimal("120.00"), actor=SYSTEM)
    lose(a, 1, "theft")
    lose(b, 3, "shrinkage")
    stock_reserve(quantities={c.pk: 2}, actor=SYSTEM, reference="ORD-2024-00001")
    stock_ship(quantities={c.pk: 2}, actor=SYSTEM, reference="ORD-2024-00001")
    stock_adjust(product_id=c.pk, delta=1, actor=SYSTEM, reason_code="returned")
    clock.at(NOON)
    return {"a": a, "b": b, "c": c, "gpus": gpus, "cpus": cpus}


def today():
    return period_between(date(2024, 12, 15), date(2024, 12, 15))


def amount(units, value, unknown=0, movements=None) -> tuple:
    return (units, Decimal(value), unknown) + (() if movements is None else (movements,))


def as_tuple(item: Amount, with_movements=False) -> tuple:
    base = (item.units, item.value, item.units_unknown)
    return base + ((item.movements,) if with_movements else ())


# The numbers


def test_overview_adds_units_and_value_in_and_out_by_kind(ledger):
    overview = stock_overview(period=today())

    kinds = {g.name: g for g in overview.by_kind}
    assert list(kinds) == ["correction", "restock", "shipment"]  # the kinds' table order
    assert as_tuple(kinds["restock"].incoming, True) == amount(35, "1250.00", 20, 3)
    assert as_tuple(kinds["restock"].outgoing, True) == amount(0, "0.00", 0, 0)
    assert as_tuple(kinds["correction"].incoming, True) == amount(1, "50.00", 0, 1)
    # 2 x 100 + 1 x 100 + 1 x 120 known, 3 units of B unknown
    assert as_tuple(kinds["correction"].outgoing, True) == amount(7, "420.00", 3, 4)
    assert as_tuple(kinds["shipment"].outgoing, True) == amount(2, "100.00", 0, 1)
    assert as_tuple(overview.total.incoming) == amount(36, "1300.00", 20)
    assert as_tuple(overview.total.outgoing) == amount(9, "520.00", 3)


def test_overview_adds_units_and_value_by_reason_code(ledger):
    overview = stock_overview(period=today())

    reasons = {g.name: (as_tuple(g.incoming), as_tuple(g.outgoing)) for g in overview.by_reason}
    zero = amount(0, "0.00")
    assert reasons == {
        "received": (amount(35, "1250.00", 20), zero),
        "cycle_count": (zero, amount(1, "100.00")),
        "damaged": (zero, amount(2, "200.00")),
        "shrinkage": (zero, amount(3, "0.00", 3)),
        "returned": (amount(1, "50.00"), zero),
        "theft": (zero, amount(1, "120.00")),
        "order": (zero, amount(2, "100.00")),
    }
    assert [g.name for g in overview.by_reason] == [
        "received",
        "cycle_count",
        "damaged",
        "shrinkage",
        "returned",
        "theft",
        "order",
    ]


def test_loss_is_lowering_corrections_by_reason_valued_at_the_cost_of_the_time(ledger):
    overview = stock_overview(period=today())

    loss = {g.name: as_tuple(g.outgoing, True) for g in overview.loss_by_reason}
    assert loss == {
        "cycle_count": amount(1, "100.00", 0, 1),
        "damaged": amount(2, "200.00", 0, 1),
        "shrinkage": amount(3, "0.00", 3, 1),
        "theft": amount(1, "120.00", 0, 1),  # after the cost went up to 120
    }
    assert as_tuple(overview.loss_total) == amount(7, "420.00", 3)
    # Shipments are sales, not loss; a raising correction (returned) is no loss either.
    assert "order" not in loss and "returned" not in loss


def test_unknown_cost_is_said_never_shown_as_zero(ledger):
    overview = stock_overview(period=today())
    shrinkage = next(g for g in overview.loss_by_reason if g.name == "shrinkage").outgoing

    assert shrinkage.value_or_none is None
    assert shrinkage.value_text == "value unknown"
    assert overview.loss_total.value_text == "$420.00 + 3 units of unknown value"
    theft = next(g for g in overview.loss_by_reason if g.name == "theft").outgoing
    assert theft.value_text == "$120.00"
    assert Amount().value_text == "$0.00"  # nothing moved: nothing to be unknown
    assert Amount().text == "0 units"
    assert Amount(units=1, units_unknown=1).text == "1 unit · value unknown"
    assert Amount(units=2, value=Decimal("5.00"), units_unknown=1).text == (
        "2 units · $5.00 + 1 unit of unknown value"
    )


def test_top_products_by_loss_value_and_by_movements(ledger):
    overview = stock_overview(period=today())

    assert [(p.sku, p.amount.units, p.amount.value_or_none) for p in overview.top_loss] == [
        ("GPU-A-001", 4, Decimal("420.00")),
        ("GPU-B-001", 3, None),  # unknown value after every known one
    ]
    # A: receive, damaged, count, theft; C: receive, reserve, ship, return; B: receive, shrinkage
    assert [(p.sku, p.movements, p.units_in, p.units_out) for p in overview.top_moves] == [
        ("GPU-A-001", 4, 10, 4),
        ("CPU-C-001", 4, 6, 2),
        ("GPU-B-001", 2, 20, 3),
    ]


def test_top_lists_hold_ten_products(clock):
    category = CategoryFactory()
    for n in range(12):
        item = product(f"GPU-T-{n:03d}", category=category, cost=f"{n + 1}.00")
        receive(item, 5)
        lose(item, 1, "damaged")
    overview = stock_overview(period=today())

    assert len(overview.top_loss) == 10
    assert overview.top_loss[0].sku == "GPU-T-011"  # 1 unit x 12.00, the largest
    assert [p.amount.value for p in overview.top_loss] == [
        Decimal(f"{n}.00") for n in range(12, 2, -1)
    ]
    assert len(overview.top_moves) == 10


def test_category_filter_keeps_that_categorys_products_only(ledger):
    overview = stock_overview(period=today(), category_id=ledger["cpus"].pk)

    assert [g.name for g in overview.by_kind] == ["correction", "restock", "shipment"]
    assert as_tuple(overview.total.incoming) == amount(6, "300.00")
    assert as_tuple(overview.total.outgoing) == amount(2, "100.00")
    assert overview.loss_by_reason == []
    assert overview.top_loss == []
    assert [p.sku for p in overview.top_moves] == ["CPU-C-001"]


def test_low_stock_count_follows_the_category(ledger):
    # Thresholds are 5 (factory): A has 6, B 17, C 4 on hand.
    assert stock_overview(period=today()).low_stock_count == 1
    assert stock_overview(period=today(), category_id=ledger["gpus"].pk).low_stock_count == 0


# Periods


def test_presets_count_back_from_the_store_day():
    day = date(2024, 3, 15)
    spans = {
        preset: (p.first_day, p.last_day)
        for preset in ("today", "7d", "30d", "this_month", "last_month")
        for p in [period_of(preset, today=day)]
    }
    assert spans == {
        "today": (day, day),
        "7d": (date(2024, 3, 9), day),
        "30d": (date(2024, 2, 15), day),
        "this_month": (date(2024, 3, 1), day),
        "last_month": (date(2024, 2, 1), date(2024, 2, 29)),
    }
    assert period_of("last_month", today=date(2025, 1, 3)).first_day == date(2024, 12, 1)
    custom = period_of("custom", today=day, first_day=date(2024, 1, 1), last_day=date(2024, 1, 31))
    assert (custom.first_day, custom.last_day) == (date(2024, 1, 1), date(2024, 1, 31))


def test_period_bounds_are_the_store_midnights(settings):
    settings.STORE_TIME_ZONE = "America/New_York"
    period = period_between(date(2024, 3, 10), date(2024, 3, 10))  # DST starts that day

    assert period.start.astimezone(UTC) == datetime(2024, 3, 10, 5, 0, tzinfo=UTC)
    assert period.end.astimezone(UTC) == datetime(2024, 3, 11, 4, 0, tzinfo=UTC)  # a 23-hour day


def test_a_movement_belongs_to_the_store_day_it_happened_on(clock, settings):
    item = product("GPU-TZ-001", category=CategoryFactory(), cost="10.00")
    clock.at(datetime(2024, 12, 15, 3, 0, tzinfo=UTC))  # still Dec 14, 22:00 in New York
    receive(item, 4)
    clock.at(datetime(2024, 12, 15, 16, 0, tzinfo=UTC))
    lose(item, 1, "damaged")

    settings.STORE_TIME_ZONE = "UTC"
    utc_today = stock_overview(period=period_of("today", today=date(2024, 12, 15)))
    settings.STORE_TIME_ZONE = "America/New_York"
    ny_today = stock_overview(period=period_of("today", today=date(2024, 12, 15)))
    ny_yesterday = stock_overview(period=period_of("today", today=date(2024, 12, 14)))

    assert (utc_today.total.incoming.units, utc_today.total.outgoing.units) == (4, 1)
    assert (ny_today.total.incoming.units, ny_today.total.outgoing.units) == (0, 1)
    assert (ny_yesterday.total.incoming.units, ny_yesterday.total.outgoing.units) == (4, 0)


def test_the_page_uses_the_store_day_for_today(clock, settings, manager):
    settings.STORE_TIME_ZONE = "Pacific/Auckland"  # UTC+13 in December
    item = product("GPU-NZ-001", category=CategoryFactory(), cost="10.00")
    clock.at(datetime(2024, 12, 15, 12, 0, tzinfo=UTC))  # Dec 16, 01:00 in Auckland
    receive(item, 3)

    content = client_as(manager).get(OVERVIEW, {"period": "today"}).content.decode()

    assert "2024-12-16" in content
    assert re.search(r'id="total-in">3 units · \$30.00<', content)


# The page


def test_managers_see_the_overview_with_its_numbers(ledger, manager):
    response = client_as(manager).get(OVERVIEW, {"period": "today"})

    assert response.status_code == 200
    content = response.content.decode()
    assert re.search(r'id="total-in">36 units · \$1,300.00 \+ 20 units of unknown value<', content)
    assert re.search(r'id="total-loss">7 units · \$420.00 \+ 3 units of unknown value<', content)
    loss_rows = re.findall(r'<tr class="loss-row">(.*?)</tr>', content)
    assert any("Shrinkage" in row and "value unknown" in row for row in loss_rows)
    assert any("Theft" in row and "$120.00" in row for row in loss_rows)
    assert content.count('class="bar-chart"') == 5
    assert content.count('class="csv-link"') == 5


def test_the_overview_is_linked_from_the_admin_index_for_managers_only(manager, clerk):
    assert OVERVIEW in client_as(manager).get("/admin/").content.decode()
    assert OVERVIEW not in client_as(clerk).get("/admin/").content.decode()


@pytest.mark.parametrize("path", [OVERVIEW, OVERVIEW + "csv/loss/"])
def test_the_overview_and_its_csv_are_for_managers_and_superusers(
    ledger, path, manager, clerk, staff, superuser
):
    assert client_as(clerk).get(path).status_code == 403
    assert client_as(staff).get(path).status_code == 403
    assert client_as(manager).get(path).status_code == 200
    assert client_as(superuser).get(path).status_code == 200
    assert Client().get(path).status_code == 302  # to the login page


def test_the_permission_alone_opens_the_page(ledger, staff):
    staff.user_permissions.add(Permission.objects.get(codename="view_stockoverview"))

    assert client_as(staff).get(OVERVIEW).status_code == 200


def test_inventory_managers_hold_the_overview_permission(db):
    group = Group.objects.get(name="Inventory managers")
    assert group.permissions.filter(codename="view_stockoverview").exists()
    assert (
        not Group.objects.get(name="Inventory clerks")
        .permissions.filter(codename="view_stockoverview")
        .exists()
    )


def test_low_stock_link_opens_the_stock_list_with_exactly_those_records(ledger, manager):
    client = client_as(manager)
    category = ledger["cpus"].pk
    content = client.get(OVERVIEW, {"period": "today", "category": category}).content.decode()
    link = re.search(r'id="low-stock-link" href="([^"]+)">1 product at or below', content)

    assert link, content
    listing = client.get(link.group(1).replace("&amp;", "&"))
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 1
    assert [r.product.sku for r in listing.context["cl"].result_list] == ["CPU-C-001"]


@pytest.mark.parametrize(
    "params, error",
    [
        ({"period": "custom"}, "Custom dates need both a From and a To date."),
        (
            {"period": "custom", "date_from": "2024-12-20", "date_to": "2024-12-01"},
            "The From date must be on or before the To date.",
        ),
        ({"period": "custom", "date_from": "0001-01-01", "date_to": "2024-12-01"}, "between"),
        ({"period": "custom", "date_from": "2024-13-01", "date_to": "2024-12-01"}, "valid date"),
        ({"period": "yesterday"}, "Select a valid choice"),
        ({"category": "99999999999999999999"}, "Select a valid choice"),
    ],
)
def test_bad_period_or_category_is_a_plain_error_on_the_page_and_for_the_csv(
    manager, params, error
):
    client = client_as(manager)
    page = client.get(OVERVIEW, params)
    assert page.status_code == 200
    assert error in page.content.decode()
    assert 'class="bar-chart"' not in page.content.decode()
    export = client.get(OVERVIEW + "csv/kinds/", params)
    assert export.status_code == 400
    assert error in export.content.decode()


def test_custom_dates_are_inclusive_store_days(ledger, manager):
    client = client_as(manager)
    params = {"period": "custom", "date_from": "2024-12-15", "date_to": "2024-12-15"}
    content = client.get(OVERVIEW, params).content.decode()
    assert re.search(r'id="total-out">9 units', content)

    before = {"period": "custom", "date_from": "2024-12-01", "date_to": "2024-12-14"}
    content = client.get(OVERVIEW, before).content.decode()
    assert re.search(r'id="total-out">0 units<', content)


def test_an_unknown_chart_is_404(manager):
    assert client_as(manager).get(OVERVIEW + "csv/pie/").status_code == 404


# CSV


def csv_of(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_each_chart_downloads_the_numbers_behind_it(ledger, manager):
    client = client_as(manager)
    get = lambda chart: csv_of(client.get(f"{OVERVIEW}csv/{chart}/", {"period": "today"}))  # noqa: E731

    assert get("kinds") == [
        ["kind", "units_in", "value_in", "units_in_value_unknown", "units_out", "value_out",
         "units_out_value_unknown", "movements"],
        ["correction", "1", "50.00", "0", "7", "420.00", "3", "5"],
        ["restock", "35", "1250.00", "20", "0", "0.00", "0", "3"],
        ["shipment", "0", "0.00", "0", "2", "100.00", "0", "1"],
    ]  # fmt: skip
    assert get("loss") == [
        ["reason_code", "units", "value", "units_value_unknown", "movements"],
        ["cycle_count", "1", "100.00", "0", "1"],
        ["damaged", "2", "200.00", "0", "1"],
        ["shrinkage", "3", "", "3", "1"],  # unknown: empty, never 0
        ["theft", "1", "120.00", "0", "1"],
    ]
    assert get("top-loss") == [
        ["rank", "sku", "product_id", "product_name", "units", "value", "units_value_unknown"],
        ["1", "GPU-A-001", ledger["a"].public_id, "Product GPU-A-001", "4", "420.00", "0"],
        ["2", "GPU-B-001", ledger["b"].public_id, "Product GPU-B-001", "3", "", "3"],
    ]
    assert get("top-moves")[1] == [
        "1", "GPU-A-001", ledger["a"].public_id, "Product GPU-A-001", "4", "10", "4",
    ]  # fmt: skip
    reasons = get("reasons")
    assert reasons[0][0] == "reason_code"
    assert ["shrinkage", "0", "0.00", "0", "3", "", "3", "1"] in reasons


def test_csv_file_name_names_the_chart_and_period(ledger, manager):
    response = client_as(manager).get(
        OVERVIEW + "csv/loss/",
        {"period": "custom", "date_from": "2024-12-01", "date_to": "2024-12-15"},
    )
    assert response["Content-Disposition"] == (
        'attachment; filename="stock-overview-loss-20241201-20241215.csv"'
    )


def test_csv_defuses_formulas_in_product_names(clock, manager):
    item = ProductFactory(sku="GPU-F-001", name="=HYPERLINK(1)", stock=0)
    receive(item, 3)
    lose(item, 1, "damaged")

    rows = csv_of(client_as(manager).get(OVERVIEW + "csv/top-loss/", {"period": "today"}))
    assert rows[1][3] == "'=HYPERLINK(1)"


def test_page_links_each_csv_with_the_same_period_and_category(ledger, manager):
    params = {"period": "custom", "date_from": "2024-12-01", "date_to": "2024-12-15"}
    params["category"] = str(ledger["gpus"].pk)
    content = client_as(manager).get(OVERVIEW, params).content.decode()

    links = re.findall(r'class="csv-link" href="([^"]+)"', content)
    assert len(links) == 5
    for link in links:
        assert f"category={ledger['gpus'].pk}" in link
        assert "date_from=2024-12-01" in link and "period=custom" in link


# Cost of the page


def test_the_page_runs_the_same_queries_for_few_and_many_products(clock, manager):
    client = client_as(manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(OVERVIEW, {"period": "7d"})
        assert response.status_code == 200
        return len(captured)

    def add_products(count: int, category) -> None:
        for n in range(count):
            item = product(f"GPU-Q-{category.pk}-{n:03d}", category=category, cost="5.00")
            receive(item, 5)
            lose(item, 1, "theft")

    add_products(2, CategoryFactory())
    few = queries()
    add_products(25, CategoryFactory())
    many = queries()

    assert few == many
    # session, user, permissions (2), products counted blind, categories, grouped amounts, top
    # loss, top moves, low stock
    assert many <= 10


def test_the_csv_runs_the_same_queries_for_few_and_many_products(clock, manager):
    client = client_as(manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(OVERVIEW + "csv/top-moves/", {"period": "7d"})
            b"".join(response.streaming_content)
        return len(captured)

    category = CategoryFactory()
    receive(product("GPU-R-000", category=category, cost="1.00"), 2)
    few = queries()
    for n in range(1, 20):
        receive(product(f"GPU-R-{n:03d}", category=category, cost="1.00"), 2)
    assert queries() == few


def test_the_page_references_nothing_outside_the_site(ledger, manager):
    content = client_as(manager).get(OVERVIEW, {"period": "today"}).content.decode()

    # Anything that could load from elsewhere: src/href/xlink:href, CSS url() and @import.
    references = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']*)', content)
    references += re.findall(r"url\(\s*['\"]?([^'\")]*)", content)
    references += re.findall(r"@import\s+['\"]?([^'\";]*)", content)
    assert references
    outside = [ref for ref in references if re.match(r"(?i)\s*(?:[a-z][a-z0-9+.-]*:|//)", ref)]
    assert outside == []
    # The only absolute URL at all is the SVG namespace name (an identifier, never fetched).
    absolute = set(re.findall(r"(?i)(?:https?:)?//[^\s\"'<>)]+", content))
    assert absolute <= {"http://www.w3.org/2000/svg"}
    assert "<script" not in content.split('id="content-main"', 1)[1]


def test_products_a_manager_counts_blind_are_left_out_of_the_overview_and_its_csv(
    ledger, manager, inventory_groups
):
    # All of a product's ins minus its outs is its on-hand; "low stock" tells its available.
    counter = UserFactory(username="lead-clerk")
    counter.groups.add(*inventory_groups.values())
    a = ledger["a"]
    low = stock_of(a)
    low.low_stock_threshold = 50
    low.save()
    count_session_create(
        name="GPUs", selection=CountSelection(skus=(a.sku,)), assignees=[counter], actor=manager
    )
    query = {"period": "today", "category": ledger["gpus"].pk}

    page = client_as(counter).get(OVERVIEW, query)
    moves_csv = client_as(counter).get(OVERVIEW + "csv/top-moves/", query)
    seen_by_others = client_as(manager).get(OVERVIEW, query)

    overview = page.context["overview"]
    assert [p.sku for p in overview.top_moves] == [ledger["b"].sku]
    assert (overview.total.incoming.units, overview.low_stock_count) == (20, 0)
    assert "1 product you are counting" in page.content.decode()
    assert a.sku not in page.content.decode()
    assert a.sku not in b"".join(moves_csv.streaming_content).decode()
    others = seen_by_others.context["overview"]
    assert (others.total.incoming.units, others.low_stock_count) == (30, 1)
    assert a.sku in seen_by_others.content.decode()
