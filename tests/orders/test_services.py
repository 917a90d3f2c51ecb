from decimal import Decimal

import pytest

from catalog.models import Product
from inventory.errors import InsufficientStock
from inventory.models import StockMovement
from orders.errors import OrderInvalid, OrderStatusConflict
from orders.models import Order, OrderLine
from orders.services import order_cancel, order_deliver, order_ship
from techparts.actors import Actor
from tests.conftest import stock_of
from tests.factories import CategoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_order_create_prices_the_order_and_copies_product_data(place_order):
    gpu = ProductFactory(price=Decimal("1599.99"), stock=5)
    cpu = ProductFactory(price=Decimal("549.99"), stock=5)

    order = place_order((gpu, 1), (cpu, 1))

    order.refresh_from_db()
    assert order.order_id == f"ORD-{order.created_at.year}-{order.pk:05d}"
    assert (order.subtotal, order.tax, order.shipping, order.total) == (
        Decimal("2149.98"),
        Decimal("171.99"),
        Decimal("0.00"),
        Decimal("2321.97"),
    )
    assert order.status == Order.Status.PENDING
    lines = list(order.lines.order_by("position"))
    assert [(line.sku, line.unit_price, line.quantity) for line in lines] == [
        (gpu.sku, Decimal("1599.99"), 1),
        (cpu.sku, Decimal("549.99"), 1),
    ]
    gpu.price = Decimal("1.00")
    gpu.save()
    assert order.lines.get(position=1).unit_price == Decimal("1599.99")


def test_small_order_pays_the_flat_shipping_fee(place_order, settings):
    settings.FREE_SHIPPING_THRESHOLD = Decimal("100.00")
    settings.FLAT_SHIPPING_FEE = Decimal("9.99")
    cable = ProductFactory(price=Decimal("12.50"), stock=10)

    order = place_order((cable, 2), state="OR")  # Oregon: no rate in the table

    assert (order.subtotal, order.tax, order.shipping, order.total) == (
        Decimal("25.00"),
        Decimal("0.00"),
        Decimal("9.99"),
        Decimal("34.99"),
    )


def test_order_create_reserves_stock_with_one_ledger_row_per_product(place_order):
    gpu = ProductFactory(stock=5)
    cpu = ProductFactory(stock=5)

    order = place_order((gpu, 2), (cpu, 1), (gpu, 1))

    assert (stock_of(gpu).on_hand, stock_of(gpu).reserved) == (5, 3)
    assert (stock_of(cpu).on_hand, stock_of(cpu).reserved) == (5, 1)
    rows = StockMovement.objects.filter(reference=order.order_id).order_by("product_id")
    assert [(r.product_id, r.kind, r.reserved_delta) for r in rows] == [
        (gpu.pk, "reservation", 3),
        (cpu.pk, "reservation", 1),
    ]


def test_the_same_product_on_several_lines_is_checked_as_one_total(place_order):
    gpu = ProductFactory(public_id="PROD-GPU-0001", stock=3)

    with pytest.raises(InsufficientStock) as caught:
        place_order((gpu, 2), (gpu, 2))

    assert (
        caught.value.message == "Product 'PROD-GPU-0001' has only 3 units available. Requested: 4"
    )
    assert Order.objects.count() == 0
    assert stock_of(gpu).reserved == 0


def test_a_short_line_reserves_nothing_and_names_every_short_product(place_order):
    plenty = ProductFactory(stock=100)
    short_a = ProductFactory(public_id="PROD-SHORT-A", stock=1)
    short_b = ProductFactory(public_id="PROD-SHORT-B", stock=0)

    with pytest.raises(InsufficientStock) as caught:
        place_order((plenty, 5), (short_a, 2), (short_b, 1))

    assert caught.value.as_body() == {
        "error": "insufficient_stock",
        "message": "Product 'PROD-SHORT-A' has only 1 unit available. Requested: 2",
        "available_quantity": 1,
        "details": [
            "Product 'PROD-SHORT-A' has only 1 unit available. Requested: 2",
            "Product 'PROD-SHORT-B' has only 0 units available. Requested: 1",
        ],
    }
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    assert stock_of(plenty).reserved == 0
    assert not StockMovement.objects.filter(kind="reservation").exists()


def test_a_product_without_a_stock_record_is_out_of_stock(place_order):
    bare = Product.objects.create(
        public_id="PROD-BARE-001",
        sku="BARE-001",
        name="Bare",
        category=CategoryFactory(),
        manufacturer="Acme",
        price=Decimal("5.00"),
    )

    with pytest.raises(InsufficientStock) as caught:
        place_order((bare, 1))

    assert caught.value.extra == {"available_quantity": 0}
    assert not Order.objects.exists()


def test_an_inactive_product_cannot_be_ordered(place_order):
    retired = ProductFactory(stock=5, is_active=False)

    with pytest.raises(OrderInvalid):
        place_order((retired, 1))

    assert stock_of(retired).reserved == 0


def test_cancel_releases_the_reservation(place_order):
    gpu = ProductFactory(stock=5)
    order = place_order((gpu, 2), (gpu, 1))
    clerk = UserFactory(username="clerk")

    cancelled = order_cancel(order=order, actor=Actor.staff(clerk))

    assert cancelled.status == Order.Status.CANCELLED
    assert cancelled.cancelled_at is not None
    assert cancelled.status_changed_by == "clerk"
    assert (stock_of(gpu).on_hand, stock_of(gpu).reserved) == (5, 0)
    release = StockMovement.objects.get(reference=order.order_id, kind="release")
    assert (release.reserved_delta, release.on_hand_delta, release.actor_user) == (-3, 0, clerk)


def test_ship_takes_reserved_units_out_of_on_hand_then_deliver(place_order):
    gpu = ProductFactory(stock=5)
    order = place_order((gpu, 2))
    clerk = UserFactory(username="clerk")

    shipped = order_ship(order=order, actor=Actor.staff(clerk))

    assert shipped.status == Order.Status.SHIPPED
    assert (stock_of(gpu).on_hand, stock_of(gpu).reserved) == (3, 0)
    shipment = StockMovement.objects.get(reference=order.order_id, kind="shipment")
    assert (shipment.on_hand_delta, shipment.reserved_delta) == (-2, -2)

    delivered = order_deliver(order=shipped, actor=Actor.staff(clerk))

    assert delivered.status == Order.Status.DELIVERED
    assert delivered.delivered_at is not None
    assert StockMovement.objects.filter(reference=order.order_id).count() == 2


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        ([order_cancel], order_cancel),
        ([order_cancel], order_ship),
        ([order_ship], order_cancel),
        ([order_ship], order_ship),
        ([], order_deliver),
        ([order_ship, order_deliver], order_cancel),
        ([order_ship, order_deliver], order_deliver),
    ],
)
def test_transitions_from_the_wrong_status_are_conflicts(place_order, steps, refused):
    gpu = ProductFactory(stock=5)
    order = place_order((gpu, 1))
    for step in steps:
        order = step(order=order, actor=Actor.system())
    before = (stock_of(gpu).on_hand, stock_of(gpu).reserved, StockMovement.objects.count())

    with pytest.raises(OrderStatusConflict):
        refused(order=order, actor=Actor.system())

    assert (stock_of(gpu).on_hand, stock_of(gpu).reserved, StockMovement.objects.count()) == before


def test_a_stale_order_object_cannot_be_cancelled_twice(place_order):
    gpu = ProductFactory(stock=5)
    order = place_order((gpu, 1))
    stale = Order.objects.get(pk=order.pk)
    order_cancel(order=order, actor=Actor.system())

    with pytest.raises(OrderStatusConflict):
        order_cancel(order=stale, actor=Actor.system())

    assert StockMovement.objects.filter(reference=order.order_id, kind="release").count() == 1
