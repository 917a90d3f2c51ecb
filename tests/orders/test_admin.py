import pytest
from django.conf import settings
from django.contrib.messages import get_messages

from inventory.models import StockMovement, StockRecord
from orders.models import Order
from orders.services import order_cancel
from techparts.actors import Actor
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/order/"


@pytest.fixture
def manager(client):
    user = UserFactory(username="manager", is_superuser=True)
    client.force_login(user)
    return user


def run_action(client, action, *orders):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [order.pk for order in orders]},
        follow=True,
    )


def test_mark_shipped_moves_stock_and_records_the_staff_user(client, manager, place_order):
    gpu = ProductFactory(stock=5)
    order = place_order((gpu, 2))

    response = run_action(client, "mark_shipped", order)

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert order.status_changed_by == "manager"
    record = StockRecord.objects.get(product=gpu)
    assert (record.on_hand, record.reserved) == (3, 0)
    shipment = StockMovement.objects.get(reference=order.order_id, kind="shipment")
    assert (shipment.source, shipment.actor_user) == ("admin", manager)


def test_mark_delivered_and_cancelled_go_through_the_lifecycle(client, manager, place_order):
    shipped = place_order((ProductFactory(stock=5), 1))
    pending = place_order((ProductFactory(stock=5), 1))
    run_action(client, "mark_shipped", shipped)

    run_action(client, "mark_delivered", shipped)
    run_action(client, "mark_cancelled", pending)

    shipped.refresh_from_db()
    pending.refresh_from_db()
    assert shipped.status == Order.Status.DELIVERED
    assert pending.status == Order.Status.CANCELLED
    release = StockMovement.objects.get(reference=pending.order_id, kind="release")
    assert release.actor_user == manager


def test_an_action_reports_each_order_it_could_not_change(client, manager, place_order):
    pending = place_order((ProductFactory(stock=5), 1))
    cancelled = place_order((ProductFactory(stock=5), 1))
    order_cancel(order=cancelled, actor=Actor.system())

    response = run_action(client, "mark_shipped", pending, cancelled)

    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert f"Shipped 1 order(s): {pending.order_id}." in texts
    assert (
        f"{cancelled.order_id}: Order '{cancelled.order_id}' is cancelled; only pending orders "
        "can be shipped." in texts
    )
    cancelled.refresh_from_db()
    assert cancelled.status == Order.Status.CANCELLED


def test_order_pages_show_lines_and_search_finds_by_id_customer_and_sku(
    client, manager, place_order
):
    gpu = ProductFactory(sku="GPU-FIND-ME-001", stock=5)
    order = place_order((gpu, 1))
    other = place_order((ProductFactory(stock=5), 1))

    page = client.get(f"/admin/orders/order/{order.pk}/change/")
    assert page.status_code == 200
    assert "GPU-FIND-ME-001" in page.content.decode()

    for term in [order.order_id, "GPU-FIND-ME-001"]:
        listing = client.get(CHANGELIST, {"q": term}).content.decode()
        assert order.order_id in listing
        assert other.order_id not in listing
    by_customer = client.get(CHANGELIST, {"q": "CUST-789012"}).content.decode()
    assert order.order_id in by_customer and other.order_id in by_customer
    assert client.get(CHANGELIST, {"status__exact": "pending"}).status_code == 200


def test_the_order_page_shows_the_working_tracking_link(client, manager, place_order):
    order = place_order((ProductFactory(stock=5), 1))

    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()

    assert f'href="{order.tracking_url}"' in page
    path = order.tracking_url.removeprefix(settings.PUBLIC_BASE_URL)
    assert client.get(path).status_code == 200


def test_money_and_status_cannot_be_edited_in_the_admin(client, manager, place_order):
    order = place_order((ProductFactory(stock=5), 1))

    client.post(
        f"/admin/orders/order/{order.pk}/change/",
        {"status": "delivered", "total": "0.00", "lines-TOTAL_FORMS": "0"},
    )

    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert order.total == order.subtotal + order.tax + order.shipping


def test_tax_rates_and_customers_are_editable(client, manager):
    response = client.post("/admin/orders/taxrate/add/", {"state": "NV", "rate": "0.0685"})
    assert response.status_code == 302
    response = client.post(
        "/admin/orders/customer/add/",
        {"customer_id": "CUST-555001", "name": "Sam Doe", "email": "sam@example.com"},
    )
    assert response.status_code == 302
    assert client.get("/admin/orders/taxrate/").status_code == 200
    assert client.get("/admin/orders/customer/").status_code == 200


def test_an_order_clerk_can_ship_but_not_edit_money_or_delete(client, place_order):
    from django.contrib.auth.models import Group, Permission

    from orders.roles import GROUP_PERMISSIONS, ORDER_CLERKS
    from techparts.roles import ensure_groups

    ensure_groups(Group, Permission, GROUP_PERMISSIONS)  # flushed by transactional tests
    clerk = UserFactory(username="orderclerk")
    clerk.groups.add(Group.objects.get(name=ORDER_CLERKS))
    client.force_login(clerk)
    order = place_order((ProductFactory(stock=5), 1))

    run_action(client, "mark_shipped", order)

    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert order.status_changed_by == "orderclerk"
    assert client.post(f"{CHANGELIST}{order.pk}/delete/", {"post": "yes"}).status_code == 403
    from orders.models import TaxRate

    rate = TaxRate.objects.first()
    response = client.post(
        f"/admin/orders/taxrate/{rate.pk}/change/", {"state": rate.state, "rate": "0"}
    )
    assert response.status_code == 403  # tax rates are for managers and admins to change


def test_staff_without_the_role_cannot_ship(client, place_order):
    client.force_login(UserFactory(username="someone"))
    order = place_order((ProductFactory(stock=5), 1))

    response = run_action(client, "mark_shipped", order)

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
