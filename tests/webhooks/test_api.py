"""/v1/webhook-endpoints: create, list, read, change, delete and rotate, owner by owner."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from techparts.apikeys.services import api_key_revoke
from techparts.idempotency.models import IdempotencyRecord
from tests.factories import WebhookEndpointFactory
from webhooks import crypto
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

URL = "/v1/webhook-endpoints"
HOOK = "https://hooks.example.com/techparts"
BODY_FIELDS = {
    "id",
    "url",
    "event_types",
    "enabled",
    "description",
    "disabled_reason",
    "failing_since",
    "previous_secret_expires_at",
    "created_at",
    "updated_at",
}


def create(client, **fields):
    body = {"url": HOOK, "event_types": ["inventory.changed"], **fields}
    return client.post(URL, body, format="json")


def test_creating_an_endpoint_shows_its_secret_once_and_stores_it_encrypted(api):
    response = create(
        api, event_types=["inventory.changed", "order.created"], description="ERP listener"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == BODY_FIELDS | {"secret"}
    assert body["id"].startswith("we_") and len(body["id"]) == 3 + 26
    assert body["secret"].startswith("whsec_")
    assert body["url"] == HOOK
    assert body["event_types"] == ["inventory.changed", "order.created"]
    assert (body["enabled"], body["description"], body["disabled_reason"]) == (
        True,
        "ERP listener",
        "",
    )
    assert response["Location"].endswith(f"{URL}/{body['id']}")
    endpoint = WebhookEndpoint.objects.get(public_id=body["id"])
    assert endpoint.owner == "api_user_12345"
    assert endpoint.created_by_key_id == api.api_key.pk
    assert body["secret"] not in endpoint.secret  # sealed, not the plaintext
    assert crypto.unseal(endpoint.secret) == body["secret"]
    assert endpoint.signing_secrets(timezone.now()) == [body["secret"]]

    again = api.get(f"{URL}/{body['id']}")
    listed = api.get(URL)
    assert again.status_code == 200
    assert "secret" not in again.json()
    assert set(again.json()) == BODY_FIELDS
    assert "secret" not in listed.json()["results"][0]


def test_a_retried_create_replays_the_same_endpoint_and_keeps_the_stored_answer_encrypted(api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "create-hook-1"}
    body = {"url": HOOK, "event_types": ["inventory.changed"]}

    first = api.post(URL, body, format="json", **headers)
    second = api.post(URL, body, format="json", **headers)

    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert WebhookEndpoint.objects.count() == 1
    stored = IdempotencyRecord.objects.get(key="create-hook-1").response_body
    assert first.json()["secret"] not in stored
    assert "whsec_" not in stored


def test_the_secret_is_standard_webhooks_shaped_with_32_random_bytes(api):
    import base64

    secrets = {create(api).json()["secret"] for _ in range(3)}

    assert len(secrets) == 3
    for secret in secrets:
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_list_shows_only_the_callers_owner_endpoints_newest_first_and_paginated(client_for):
    mine = client_for("webhooks:write", "inventory:read", owner="shop_a")
    other_key_same_owner = client_for("webhooks:write", owner="shop_a")
    theirs = client_for("webhooks:write", "inventory:read", owner="shop_b")
    first = create(mine).json()["id"]
    second = create(mine).json()["id"]
    create(theirs)

    response = other_key_same_owner.get(URL, {"page_size": 1})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [second]
    assert body["next"] is not None
    page_two = other_key_same_owner.get(URL, {"page_size": 1, "page": 2}).json()
    assert [row["id"] for row in page_two["results"]] == [first]


def test_another_owners_endpoint_is_not_found_for_every_operation(client_for):
    theirs = client_for("webhooks:write", "inventory:read", owner="shop_b")
    mine = client_for("webhooks:write", "inventory:read", owner="shop_a")
    endpoint_id = create(theirs).json()["id"]
    detail = f"{URL}/{endpoint_id}"

    answers = [
        mine.get(detail),
        mine.patch(detail, {"description": "mine now"}, format="json"),
        mine.delete(detail),
        mine.post(f"{detail}/rotate-secret"),
    ]

    for response in answers:
        assert response.status_code == 404
        assert response.json() == {
            "error": "not_found",
            "message": f"Webhook endpoint '{endpoint_id}' does not exist",
        }
    endpoint = WebhookEndpoint.objects.get(public_id=endpoint_id)
    assert endpoint.description == ""
    assert endpoint.previous_secret == ""


def test_a_key_without_webhooks_write_is_forbidden(client_for):
    reader = client_for("inventory:read", "orders:read")

    for response in (reader.get(URL), create(reader)):
        assert response.status_code == 403
        assert response.json() == {
            "error": "forbidden",
            "message": "Insufficient permissions to manage webhook endpoints. "
            "Requires 'webhooks:write' scope.",
        }
    assert not WebhookEndpoint.objects.exists()


def test_types_the_key_may_not_read_are_refused_with_the_envelope(client_for):
    stock_only = client_for("webhooks:write", "inventory:read")

    response = create(stock_only, event_types=["inventory.changed", "order.created"])

    assert response.status_code == 400
    assert response.json() == {
        "error": "validation_error",
        "message": "Invalid request body",
        "details": [
            "Field 'event_types' names order.created, which the API key 'test key' may not "
            "read (needs orders:read)"
        ],
    }
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("event_types", "detail"),
    [
        ([], "Field 'event_types' must name at least one event type"),
        (["inventory.changed", "inventory.changed"], "must not name an event type twice"),
        (["stock.moved"], "Field 'event_types[0]' must be one of"),
        ("inventory.changed", "Field 'event_types' must be a list"),
    ],
)
def test_event_types_must_be_known_present_and_unique(api, event_types, detail):
    response = create(api, event_types=event_types)

    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"
    assert any(detail in line for line in response.json()["details"]), response.json()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("http://hooks.example.com/x", "Field 'url' is refused: the URL must start with https://"),
        ("https://10.1.2.3/x", "Field 'url' is refused: 10.1.2.3 is a private address"),
        ("https://127.0.0.1/x", "Field 'url' is refused: 127.0.0.1 is a loopback address"),
        (
            "https://169.254.169.254/latest",
            "Field 'url' is refused: 169.254.169.254 is a cloud metadata address",
        ),
        (
            "https://user:pw@hooks.example.com/x",
            "Field 'url' is refused: the URL may not carry a user name or password",
        ),
        ("https://[::ffff:127.0.0.1]/x", "Field 'url' is refused: 127.0.0.1 is a loopback"),
        ("ftp://hooks.example.com/x", "Field 'url' must be an https:// URL"),
        ("https://hooks example.com/x", "Field 'url' must be an https:// URL"),
        ("https://hooks.example.com/x\n", "Field 'url' must be an https:// URL"),
    ],
)
def test_urls_that_could_reach_this_machine_or_the_private_network_are_refused(api, url, detail):
    response = create(api, url=url)

    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"
    assert any(line.startswith(detail) for line in response.json()["details"]), response.json()
    assert not WebhookEndpoint.objects.exists()


def test_loopback_http_urls_are_accepted_only_where_the_setting_allows(api, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True

    response = create(api, url="http://127.0.0.1:8123/hook")

    assert response.status_code == 201, response.json()
    assert WebhookEndpoint.objects.get().url == "http://127.0.0.1:8123/hook"


def test_unknown_fields_and_loose_types_are_refused(api):
    response = create(api, enabled="yes", secret="whsec_mine", owner="someone_else")

    assert response.status_code == 400
    assert response.json()["details"] == [
        "Field 'enabled' must be true or false",
        "Field 'secret' is not allowed",
        "Field 'owner' is not allowed",
    ]
    assert not WebhookEndpoint.objects.exists()


def test_an_owner_may_not_have_more_than_the_cap(api, settings):
    settings.WEBHOOK_ENDPOINTS_PER_OWNER = 2
    create(api)
    create(api)

    response = create(api)

    assert response.status_code == 409
    assert response.json() == {
        "error": "conflict",
        "message": "Owner 'api_user_12345' already has 2 webhook endpoints, the most allowed "
        "(2). Delete one you no longer use.",
        "limit": 2,
    }
    assert WebhookEndpoint.objects.count() == 2


def test_patch_changes_only_the_fields_sent(api):
    endpoint_id = create(api, description="first").json()["id"]

    response = api.patch(
        f"{URL}/{endpoint_id}",
        {"url": "https://new.example.com/hook", "event_types": ["order.shipped"]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["url"], body["event_types"], body["description"]) == (
        "https://new.example.com/hook",
        ["order.shipped"],
        "first",
    )
    endpoint = WebhookEndpoint.objects.get(public_id=endpoint_id)
    assert (endpoint.url, endpoint.event_types) == (
        "https://new.example.com/hook",
        ["order.shipped"],
    )


def test_patch_may_not_widen_types_beyond_what_the_creating_key_reads(client_for):
    creator = client_for("webhooks:write", "inventory:read", owner="shop_a")
    wider = client_for("webhooks:write", "inventory:read", "orders:read", owner="shop_a")
    endpoint_id = create(creator).json()["id"]

    response = wider.patch(
        f"{URL}/{endpoint_id}",
        {"event_types": ["inventory.changed", "order.created"]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["details"] == [
        "Field 'event_types' names order.created, which the API key 'test key' may not read "
        "(needs orders:read)"
    ]
    assert WebhookEndpoint.objects.get(public_id=endpoint_id).event_types == ["inventory.changed"]


def test_re_enabling_clears_why_the_system_disabled_it(api):
    endpoint = WebhookEndpointFactory(created_by_key=api.api_key, event_types=["inventory.changed"])
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False,
        disabled_reason="the endpoint answered 410 Gone",
        disabled_at=now,
        failing_since=now - timedelta(days=1),
    )

    shown = api.get(f"{URL}/{endpoint.public_id}").json()
    response = api.patch(f"{URL}/{endpoint.public_id}", {"enabled": True}, format="json")

    assert (shown["enabled"], shown["disabled_reason"]) == (False, "the endpoint answered 410 Gone")
    assert shown["failing_since"] is not None
    assert response.status_code == 200
    assert (response.json()["enabled"], response.json()["disabled_reason"]) == (True, "")
    assert response.json()["failing_since"] is None
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at) == (True, "", None)


def test_delete_removes_the_endpoint(api):
    endpoint_id = create(api).json()["id"]

    response = api.delete(f"{URL}/{endpoint_id}")

    assert response.status_code == 204
    assert response.content == b""
    assert not WebhookEndpoint.objects.filter(public_id=endpoint_id).exists()
    assert api.get(f"{URL}/{endpoint_id}").status_code == 404


def test_rotating_returns_a_new_secret_and_keeps_the_old_one_signing_for_the_overlap(api, settings):
    settings.WEBHOOK_SECRET_ROTATION_OVERLAP_HOURS = 24
    created = create(api).json()
    before = timezone.now()

    response = api.post(f"{URL}/{created['id']}/rotate-secret")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["secret"] != created["secret"]
    assert set(body) == BODY_FIELDS | {"secret"}
    endpoint = WebhookEndpoint.objects.get(public_id=created["id"])
    expires = endpoint.previous_secret_expires_at
    assert before + timedelta(hours=24) <= expires <= timezone.now() + timedelta(hours=24)
    assert body["previous_secret_expires_at"] is not None
    assert endpoint.signing_secrets(expires - timedelta(seconds=1)) == [
        body["secret"],
        created["secret"],
    ]
    assert endpoint.signing_secrets(expires) == [body["secret"]]
    assert created["secret"] not in endpoint.previous_secret


def test_rotate_takes_no_body(api):
    endpoint_id = create(api).json()["id"]

    response = api.post(f"{URL}/{endpoint_id}/rotate-secret", {"secret": "x"}, format="json")

    assert response.status_code == 400
    assert WebhookEndpoint.objects.get(public_id=endpoint_id).previous_secret == ""


def test_reads_carry_an_etag_and_answer_304_to_it(api):
    endpoint_id = create(api).json()["id"]
    first = api.get(f"{URL}/{endpoint_id}")

    again = api.get(f"{URL}/{endpoint_id}", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304


def test_unknown_query_parameters_are_refused(api):
    response = api.get(URL, {"enabled": "true"})

    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"


def test_the_schema_documents_every_operation_with_its_scope(schema):
    paths = schema["paths"]
    assert set(paths[URL]) >= {"get", "post"}
    assert set(paths[URL + "/{endpoint_id}"]) >= {"get", "patch", "delete"}
    rotate = paths[URL + "/{endpoint_id}/rotate-secret"]["post"]
    assert rotate["security"] == [{"bearerAuth": ["webhooks:write"]}]
    created = paths[URL]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created == {"$ref": "#/components/schemas/WebhookEndpointWithSecret"}
    assert "secret" not in schema["components"]["schemas"]["WebhookEndpoint"]["properties"]
    for status in ("400", "401", "403", "409", "422"):
        assert status in paths[URL]["post"]["responses"]


def test_an_endpoint_whose_key_was_revoked_shows_why_and_stays_disabled(client_for):
    creator = client_for("webhooks:write", "inventory:read", owner="shop_a")
    colleague = client_for("webhooks:write", "inventory:read", owner="shop_a")
    endpoint_id = create(creator).json()["id"]
    api_key_revoke(key=creator.api_key)

    shown = colleague.get(f"{URL}/{endpoint_id}").json()
    response = colleague.patch(f"{URL}/{endpoint_id}", {"enabled": True}, format="json")

    assert (shown["enabled"], shown["disabled_reason"]) == (
        False,
        "the API key that created it was revoked",
    )
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert "create a new endpoint" in response.json()["message"]
    assert not WebhookEndpoint.objects.get(public_id=endpoint_id).enabled


def test_the_list_costs_the_same_queries_whatever_the_page_holds(api):
    for _ in range(8):
        WebhookEndpointFactory(created_by_key=api.api_key)
    api.get(URL)  # the key is warm from here on

    with CaptureQueriesContext(connection) as few:
        assert len(api.get(URL, {"page_size": 2}).json()["results"]) == 2
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(URL, {"page_size": 8}).json()["results"]) == 8

    assert len(many) == len(few) == 2  # the count and the page


def test_the_list_takes_no_search_or_ordering(api):
    for name, value in (("search", "x"), ("ordering", "url")):
        response = api.get(URL, {name: value})

        assert response.status_code == 400
        assert response.json()["error"] == "validation_error"
