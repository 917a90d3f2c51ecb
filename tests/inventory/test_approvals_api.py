"""Two-person approval in the API: PATCH's 202, GET /v1/inventory/approvals/{id}, bulk items
`pending_approval`, the `inventory.approval_decided` event and the change feed."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from inventory.approvals import APPROVE, REJECT, approval_decide, approval_policy
from inventory.models import ApprovalRequest, StockMovement
from tests.conftest import stock_of
from tests.factories import ProductFactory, WebhookEndpointFactory
from tests.inventory.test_views import PATCH_QUERIES
from tests.webhooks.receivers import Receiver, verified
from webhooks.delivery import deliveries_run

pytestmark = pytest.mark.django_db

SKU = "GPU-NV-4090-MSI-001"


@pytest.fixture(autouse=True)
def policy_20_units(db):
    policy = approval_policy()
    policy.min_units = 20
    policy.save()


@pytest.fixture
def gpu():
    return ProductFactory(
        public_id="PROD-4090-MSI-001", sku=SKU, stock=45, unit_cost=Decimal("1200.00")
    )


@pytest.fixture
def erp(make_api_key):
    """A client whose key's corrections need approval (owner erp_sync)."""
    return _client(make_api_key, owner="erp_sync", corrections_need_approval=True)


def _client(make_api_key, *, owner: str, corrections_need_approval: bool) -> APIClient:
    key, raw = make_api_key(owner=owner, corrections_need_approval=corrections_need_approval)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.api_key = key
    return client


def patch(client, body, **headers):
    return client.patch(f"/v1/inventory/{SKU}", body, format="json", **headers)


def damaged(client):
    return patch(
        client,
        {"quantity": 20, "reason_code": "damaged", "reason": "flooded", "reference": "DMG-1"},
    )


def test_a_key_without_the_setting_keeps_the_seed_contract_whatever_the_policy(api, gpu):
    response = patch(api, {"quantity": 5})

    assert response.status_code == 200
    assert (response.json()["previous_quantity"], response.json()["change"]) == (45, -40)
    assert stock_of(gpu).on_hand == 5
    assert not ApprovalRequest.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_policy_costs_no_query_for_a_key_without_the_setting(
    api, gpu, django_assert_num_queries
):
    api.get(f"/v1/inventory/{SKU}")  # warms the key

    with django_assert_num_queries(PATCH_QUERIES):
        assert patch(api, {"quantity": 5}).status_code == 200


def test_over_a_threshold_the_answer_is_202_with_the_pending_request(erp, gpu):
    response = damaged(erp)

    assert response.status_code == 202
    body = response.json()
    request = ApprovalRequest.objects.get()
    assert body == {
        "id": request.public_id,
        "status": "pending",
        "sku": SKU,
        "product_id": "PROD-4090-MSI-001",
        "change": -25,
        "quantity_at_request": 45,
        "held": 25,
        "reason_code": "damaged",
        "reason": "flooded",
        "reference": "DMG-1",
        "thresholds": "25 units is at least the 20-unit limit",
        "created_at": body["created_at"],
        "decided_at": None,
        "comment": "",
        "ledger_id": None,
        "links": {
            "self": f"http://testserver/v1/inventory/approvals/{request.public_id}",
            "inventory": f"http://testserver/v1/inventory/{SKU}",
        },
    }
    stock = stock_of(gpu)
    assert (stock.on_hand, stock.reserved, stock.available) == (45, 25, 20)
    assert erp.get(f"/v1/inventory/{SKU}").json()["available"] == 20


def test_below_the_thresholds_the_key_with_the_setting_gets_the_normal_answer(erp, gpu):
    response = patch(erp, {"quantity": 30})

    assert response.status_code == 200 and response.json()["change"] == -15


def test_get_answers_the_state_for_its_owner_only(erp, gpu, make_api_key, manager):
    request_id = damaged(erp).json()["id"]
    same_owner = _client(make_api_key, owner="erp_sync", corrections_need_approval=False)
    other = _client(make_api_key, owner="other_shop", corrections_need_approval=True)
    url = f"/v1/inventory/approvals/{request_id}"

    assert erp.get(url).json()["status"] == "pending"
    assert same_owner.get(url).status_code == 200
    for response in (other.get(url), erp.get("/v1/inventory/approvals/apr_00000000000000000000")):
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
    assert other.get(url).json() == {
        "error": "not_found",
        "message": f"No approval request '{request_id}'.",
    }

    approval_decide(
        request_id=ApprovalRequest.objects.get().pk,
        decision=APPROVE,
        user=manager,
        comment="Checked the photos",
    )

    body = erp.get(url).json()
    applied = (
        StockMovement.objects.filter(approval_request__public_id=request_id).order_by("id").last()
    )
    assert (body["status"], body["held"], body["ledger_id"]) == ("approved", 0, applied.pk)
    assert body["decided_at"] is not None
    assert body["comment"] == "Checked the photos"  # written for the requester
    assert stock_of(gpu).on_hand == 20


# The feed and the events serve only committed transactions (on PostgreSQL).
@pytest.mark.django_db(transaction=True)
def test_the_decision_is_an_event_for_the_requesting_owner_and_the_change_is_in_the_feed(
    erp, gpu, client_for, manager
):
    other = client_for("inventory:read", owner="other_shop")
    request_id = damaged(erp).json()["id"]
    approval_decide(
        request_id=ApprovalRequest.objects.get().pk,
        decision=REJECT,
        user=manager,
        comment="Count the pallet again first",
    )

    events = erp.get("/v1/events", {"type": "inventory.approval_decided"}).json()["results"]
    assert [event["data"] for event in events] == [
        {
            "approval_request_id": request_id,
            "sku": SKU,
            "product_id": "PROD-4090-MSI-001",
            "status": "rejected",
            "change": -25,
            "ledger_id": None,
            # The version of the hold's release, the row the rejection wrote.
            "version": stock_of(gpu).version,
            "reason": "flooded",
            "reference": "DMG-1",
            "comment": "Count the pallet again first",
        }
    ]
    # The owner's GET says the same.
    decided = erp.get(f"/v1/inventory/approvals/{request_id}").json()
    assert (decided["status"], decided["comment"]) == ("rejected", "Count the pallet again first")
    assert other.get("/v1/events", {"type": "inventory.approval_decided"}).json()["results"] == []
    assert "inventory.approval_decided" not in {
        event["type"] for event in other.get("/v1/events").json()["results"]
    }
    # The hold and its release are in the feed as ledger rows; nothing of on-hand moved.
    kinds = [row["kind"] for row in erp.get("/v1/inventory/changes").json()["results"]]
    assert kinds[-2:] == ["hold", "unhold"]
    assert stock_of(gpu).on_hand == 45


# The feed, the events and the fan-out serve only committed transactions (on PostgreSQL).
@pytest.mark.django_db(transaction=True)
def test_an_approval_is_one_change_in_the_feed_the_events_and_the_webhooks(
    erp, gpu, manager, settings
):
    """Approving a held decrease never shows its units available again in between: the hold's
    release and the change are one row, one inventory.changed event, one delivery."""
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    with Receiver() as receiver:
        endpoint = WebhookEndpointFactory(
            owner="erp_sync", url=receiver.url, event_types=["inventory.changed"]
        )
        damaged(erp)  # 45 -> 20 waits: 25 units held, available 45 -> 20
        approval_decide(request_id=ApprovalRequest.objects.get().pk, decision=APPROVE, user=manager)
        deliveries_run(concurrency=1)

    *_, hold, applied = erp.get("/v1/inventory/changes").json()["results"]
    assert hold["kind"] == "hold"
    assert (
        applied["kind"],
        applied["quantity_change"],
        applied["quantity_after"],
        applied["reserved_change"],
        applied["reserved_after"],
        applied["available_after"],
    ) == ("correction", -25, 20, -25, 0, 20)
    assert (applied["actor"], applied["reason"], applied["reference"]) == (
        "erp_sync",
        "flooded",
        "DMG-1",
    )
    changed = erp.get("/v1/events", {"type": "inventory.changed"}).json()["results"]
    availables = [
        (event["data"]["available_before"], event["data"]["available_after"]) for event in changed
    ]
    assert availables[-2:] == [(45, 20), (20, 20)]
    delivered = [verified(request, endpoint.plain_secret) for request in receiver.requests]
    assert [(body["data"]["kind"], body["data"]["available_after"]) for body in delivered] == [
        ("hold", 20),
        ("correction", 20),
    ]


def test_a_retried_patch_replays_the_202_and_asks_for_approval_once(erp, gpu):
    body = {"quantity": 20, "reason_code": "damaged"}
    first = patch(erp, body, HTTP_IDEMPOTENCY_KEY="dmg-1")
    again = patch(erp, body, HTTP_IDEMPOTENCY_KEY="dmg-1")

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert ApprovalRequest.objects.count() == 1


@pytest.mark.parametrize("error_policy", ["all_or_nothing", "reject_failed_items"])
def test_bulk_items_over_a_threshold_are_pending_approval_under_both_policies(
    erp, gpu, error_policy
):
    small = ProductFactory(sku="SSD-SAM-990-2TB", stock=10)
    response = erp.post(
        "/v1/inventory/bulk",
        {
            "error_policy": error_policy,
            "reference": "wms://count/7",
            "items": [
                {"sku": SKU, "quantity": 10, "reason_code": "shrinkage"},
                {"sku": "SSD-SAM-990-2TB", "adjust_by": -2},
            ],
        },
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    request = ApprovalRequest.objects.get()
    assert body["summary"] == {"applied": 1, "unchanged": 0, "pending_approval": 1, "failed": 0}
    waiting, applied = body["items"]
    assert waiting == {
        "index": 0,
        "sku": SKU,
        "outcome": "pending_approval",
        "product_id": "PROD-4090-MSI-001",
        "quantity": 45,
        "previous_quantity": 45,
        "change": 0,
        "reserved": 35,
        "available": 10,
        "error": None,
        "message": "Waits for approval: 35 units is at least the 20-unit limit. The change of "
        f"-35 is applied once another person approves {request.public_id}.",
        "approval_request_id": request.public_id,
    }
    assert (applied["outcome"], "approval_request_id" in applied) == ("applied", False)
    assert stock_of(small).on_hand == 8
    assert erp.get(f"/v1/inventory/approvals/{request.public_id}").json()["reference"] == (
        "wms://count/7"
    )


def test_bulk_for_a_key_without_the_setting_applies_everything(api, gpu):
    response = api.post(
        "/v1/inventory/bulk", {"items": [{"sku": SKU, "quantity": 10}]}, format="json"
    )

    assert response.json()["summary"]["applied"] == 1
    assert not ApprovalRequest.objects.exists()


def test_the_schema_documents_the_202_and_the_approval_request(schema):
    patch_op = schema["paths"]["/v1/inventory/{sku}"]["patch"]
    assert patch_op["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ApprovalRequest"
    }
    get_op = schema["paths"]["/v1/inventory/approvals/{public_id}"]["get"]
    assert set(get_op["responses"]) >= {"200", "401", "403", "404"}
    outcome = schema["components"]["schemas"]["BulkStockItemResult"]["properties"]["outcome"]
    assert "pending_approval" in str(schema["components"]["schemas"]) and outcome


@pytest.mark.parametrize("quantity", [20, 70], ids=["decrease", "increase"])
def test_a_patch_sent_again_without_a_key_answers_the_same_waiting_request(erp, gpu, quantity):
    body = {"quantity": quantity, "reason_code": "damaged" if quantity < 45 else "returned"}
    first = patch(erp, body)
    again = patch(erp, body)

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert ApprovalRequest.objects.count() == 1
