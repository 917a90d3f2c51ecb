"""The back office of two-person approval: the policy page, corrections that wait, the requests'
list and their decision page."""

from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.approvals import approval_policy
from inventory.models import ApprovalRequest, StockMovement
from inventory.roles import CLERKS, MANAGERS
from inventory.services import stock_set
from techparts.actors import Actor
from techparts.apikeys.services import api_key_create
from tests.conftest import stock_of
from tests.factories import ProductFactory, UserFactory
from tests.inventory.test_admin import client_as, correct_url

pytestmark = pytest.mark.django_db

REQUESTS = "/admin/inventory/approvalrequest/"
POLICY = "/admin/inventory/approvalpolicy/"


@pytest.fixture
def policy():
    row = approval_policy()
    row.min_units = 20
    row.save()
    return row


@pytest.fixture
def gpu():
    return ProductFactory(sku="GPU-NV-4090-MSI-001", stock=100, unit_cost=Decimal("900.00"))


@pytest.fixture
def other_manager(inventory_groups):
    user = UserFactory(username="manager2")
    user.groups.add(inventory_groups[MANAGERS])
    return user


def correct(client, product, **fields):
    data = {"reason_code": "damaged", "note": "", "reference": "", **fields}
    data.setdefault("expected_on_hand", stock_of(product).on_hand)
    return client.post(correct_url(product), data, follow=True)


def decide(client, approval, button, comment=""):
    return client.post(
        f"{REQUESTS}{approval.pk}/decide/", {button: "1", "comment": comment}, follow=True
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_a_large_correction_waits_with_a_clear_message_and_holds_its_units(policy, gpu, clerk):
    response = correct(client_as(clerk), gpu, adjustment=-25, note="Forklift")

    approval = ApprovalRequest.objects.get()
    assert response.redirect_chain[-1][0] == f"{REQUESTS}{approval.pk}/change/"
    assert messages_of(response) == [
        "This correction (-25) needs a second person's approval: 25 units is at least the "
        f"20-unit limit. It waits as {approval.public_id}; nothing was applied yet. Its 25 "
        "units are held out of available stock meanwhile."
    ]
    assert b"another manager must approve or reject it" in response.content
    stock = stock_of(gpu)
    assert (stock.on_hand, stock.reserved) == (100, 25)
    assert (approval.requested_by, approval.reason, approval.on_hand_delta) == (
        clerk,
        "Forklift",
        -25,
    )


def test_a_new_count_over_the_threshold_waits_too_and_a_small_one_applies(policy, gpu, clerk):
    client = client_as(clerk)
    correct(client, gpu, new_on_hand=130, reason_code="returned")
    assert ApprovalRequest.objects.get().on_hand_delta == 30

    response = correct(client, gpu, new_on_hand=90, reason_code="correction")
    assert "corrected: on hand 100 → 90 (-10)" in messages_of(response)[0]
    assert ApprovalRequest.objects.count() == 1


def test_another_manager_approves_with_a_comment_and_the_ledger_points_at_it(
    policy, gpu, clerk, manager
):
    correct(client_as(clerk), gpu, adjustment=-25)
    approval = ApprovalRequest.objects.get()

    page = client_as(manager).get(f"{REQUESTS}{approval.pk}/change/")
    assert b'name="_approve"' in page.content and b'id="approval-decision-form"' in page.content
    response = decide(client_as(manager), approval, "_approve", comment="Photos checked")

    assert messages_of(response) == [
        f"Request {approval.public_id} approved: the change of -25 to GPU-NV-4090-MSI-001 was applied. "
        "Its 25 held units left the stock with it."
    ]
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by, approval.comment) == (
        "approved",
        manager,
        "Photos checked",
    )
    applied = StockMovement.objects.filter(approval_request=approval).order_by("id").last()
    assert (applied.kind, applied.on_hand_delta, applied.actor_name) == ("correction", -25, "clerk")
    stock = stock_of(gpu)
    assert (stock.on_hand, stock.reserved) == (75, 0)


def test_the_requester_sees_no_decision_buttons_and_cannot_post_one(
    policy, gpu, manager, inventory_groups
):
    manager.groups.add(inventory_groups[CLERKS])  # a manager who also corrects stock
    correct(client_as(manager), gpu, adjustment=-25)
    approval = ApprovalRequest.objects.get()

    page = client_as(manager).get(f"{REQUESTS}{approval.pk}/change/")
    assert b'name="_approve"' not in page.content
    assert b"another manager must approve or reject it" in page.content
    response = decide(client_as(manager), approval, "_approve")

    assert messages_of(response) == [
        f"You made the correction {approval.public_id}: another person must approve or reject it."
    ]
    assert ApprovalRequest.objects.get().status == "pending"


def test_reject_releases_the_held_units(policy, gpu, clerk, manager):
    correct(client_as(clerk), gpu, adjustment=-25)
    approval = ApprovalRequest.objects.get()

    response = decide(client_as(manager), approval, "_reject", comment="Count again")

    assert messages_of(response) == [
        f"Request {approval.public_id} rejected: nothing was applied. The 25 held units are available "
        "again."
    ]
    stock = stock_of(gpu)
    assert (stock.on_hand, stock.reserved) == (100, 0)


def test_a_refused_approval_shows_why_and_the_request_stays_pending(policy, clerk, manager):
    product = ProductFactory(stock=9950)
    correct(client_as(clerk), product, adjustment=40, reason_code="returned")
    approval = ApprovalRequest.objects.get()
    stock_set(product_id=product.pk, quantity=9980, actor=Actor.system())

    response = decide(client_as(manager), approval, "_approve")

    assert messages_of(response)[0].startswith(f"Cannot approve {approval.public_id} now: ")
    assert "it must stay between 0 and 9999 units" in messages_of(response)[0]
    assert ApprovalRequest.objects.get().status == "pending"


def test_clerks_see_only_their_own_requests_and_managers_see_all_with_filters(
    policy, gpu, clerk, manager, inventory_groups
):
    other_clerk = UserFactory(username="clerk2")
    other_clerk.groups.add(*clerk.groups.all())
    correct(client_as(clerk), gpu, adjustment=-25)
    correct(client_as(other_clerk), gpu, adjustment=-30)
    mine, theirs = ApprovalRequest.objects.order_by("id")

    own_list = client_as(clerk).get(REQUESTS)
    assert [row.pk for row in own_list.context["cl"].result_list] == [mine.pk]
    assert client_as(clerk).get(f"{REQUESTS}{theirs.pk}/change/").status_code == 302
    assert client_as(clerk).post(f"{REQUESTS}{mine.pk}/decide/").status_code == 403

    client = client_as(manager)
    assert len(client.get(REQUESTS).context["cl"].result_list) == 2
    for query, expected in [
        ("?status__exact=pending", [theirs.pk, mine.pk]),
        ("?actor_name=clerk2", [theirs.pk]),
        (f"?product={gpu.pk}", [theirs.pk, mine.pk]),
        ("?product=999999", []),
        (f"?created_at__year={timezone.now().year}", [theirs.pk, mine.pk]),
        (f"?created_at__year={timezone.now().year - 1}", []),
    ]:
        rows = client.get(REQUESTS + query).context["cl"].result_list
        assert [row.pk for row in rows] == expected, query
    decide(client, mine, "_reject")
    rows = client.get(REQUESTS + "?status__exact=rejected").context["cl"].result_list
    assert [row.pk for row in rows] == [mine.pk]


def test_staff_without_stock_roles_see_no_requests(policy, gpu):
    outsider = UserFactory(username="outsider")
    assert client_as(outsider).get(REQUESTS).status_code == 403


def test_managers_edit_the_policy_and_clerks_cannot(clerk, manager):
    response = client_as(manager).get(POLICY, follow=True)
    assert response.redirect_chain[-1][0] == f"{POLICY}1/change/"

    response = client_as(manager).post(
        f"{POLICY}1/change/", {"min_units": "15", "min_value": "2500.00", "min_percent": ""}
    )
    assert response.status_code == 302
    policy = approval_policy()
    assert (policy.min_units, policy.min_value, policy.min_percent) == (
        15,
        Decimal("2500.00"),
        None,
    )
    assert policy.updated_by == manager

    assert client_as(clerk).get(f"{POLICY}1/change/").status_code == 403
    response = client_as(manager).post(f"{POLICY}1/change/", {"min_units": "0"})
    assert response.status_code == 200 and approval_policy().min_units == 15


def test_the_api_key_admin_edits_the_per_key_setting(make_api_key):
    admin_user = UserFactory(username="root", is_superuser=True)
    key, _ = make_api_key(owner="erp")
    response = client_as(admin_user).post(
        f"/admin/apikeys/apikey/{key.pk}/change/",
        {
            "name": key.name,
            "owner": "erp",
            "scopes": ["inventory:write"],
            "corrections_need_approval": "on",
        },
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.corrections_need_approval is True


def test_the_creator_of_the_requesting_key_sees_no_decision_buttons(policy, gpu, manager):
    key, _ = api_key_create(
        name="ERP sync",
        owner="erp",
        scopes=[],
        corrections_need_approval=True,
        created_by=manager,
    )
    stock_set(
        product_id=gpu.pk,
        quantity=70,
        actor=Actor.api(key),
        reason_code="damaged",
        approvals=True,
    )
    approval = ApprovalRequest.objects.get()

    page = client_as(manager).get(f"{REQUESTS}{approval.pk}/change/")
    assert b'name="_approve"' not in page.content
    assert b"You created the API key that made this correction" in page.content
    response = decide(client_as(manager), approval, "_approve")
    assert messages_of(response) == [
        f"You created the API key 'ERP sync' that made the correction {approval.public_id}: "
        "another person must approve or reject it."
    ]
    assert ApprovalRequest.objects.get().status == "pending"
