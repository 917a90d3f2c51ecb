from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orders.pricing import order_estimated_delivery, order_shipping, order_tax, tax_rate_for
from tests.factories import TaxRateFactory

pytestmark = pytest.mark.django_db


def test_tax_is_rounded_down_to_the_cent():
    # 2149.98 * 0.08 = 171.9984: half-up rounding would say 172.00
    assert order_tax(subtotal=Decimal("2149.98"), rate=Decimal("0.08")) == Decimal("171.99")
    assert order_tax(subtotal=Decimal("10.99"), rate=Decimal("0.0625")) == Decimal("0.68")


def test_a_state_without_a_tax_rate_pays_no_tax():
    TaxRateFactory(state="CA", rate=Decimal("0.08"))
    assert tax_rate_for(state="CA") == Decimal("0.08")
    assert tax_rate_for(state="OR") == Decimal("0")


def test_shipping_is_free_from_the_threshold_and_flat_below(settings):
    settings.FREE_SHIPPING_THRESHOLD = Decimal("100.00")
    settings.FLAT_SHIPPING_FEE = Decimal("9.99")
    assert order_shipping(subtotal=Decimal("100.00")) == Decimal("0.00")
    assert order_shipping(subtotal=Decimal("2149.98")) == Decimal("0.00")
    assert order_shipping(subtotal=Decimal("99.99")) == Decimal("9.99")


def test_estimated_delivery_is_transit_days_later_at_end_of_day_utc(settings):
    settings.DELIVERY_TRANSIT_DAYS = 3
    placed = datetime(2024, 12, 28, 15, 30, tzinfo=UTC)
    assert order_estimated_delivery(placed_at=placed) == datetime(2024, 12, 31, 23, 59, tzinfo=UTC)
