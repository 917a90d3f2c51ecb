import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from orders.demo import load_demo_orders_data
from orders.models import Customer, TaxRate

pytestmark = pytest.mark.django_db


def test_demo_data_has_the_seed_customer_and_california_at_8_percent():
    load_demo_orders_data()

    assert Customer.objects.filter(customer_id="CUST-789012").exists()
    assert TaxRate.objects.get(state="CA").rate == Decimal("0.08")
    assert TaxRate.objects.count() >= 3


def test_loading_demo_data_twice_changes_nothing_and_keeps_staff_edits():
    load_demo_orders_data()
    TaxRate.objects.filter(state="CA").update(rate=Decimal("0.0725"))

    assert load_demo_orders_data() == (0, 0)
    assert TaxRate.objects.get(state="CA").rate == Decimal("0.0725")


def test_seed_demo_loads_the_orders_demo_data():
    call_command("seed_demo", stdout=io.StringIO())

    assert Customer.objects.filter(customer_id="CUST-789012").exists()
    assert TaxRate.objects.filter(state="CA").exists()
