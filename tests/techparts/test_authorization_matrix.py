"""Every /v1/ route declares the scope it needs, and keys are checked the same way on all."""

import re
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.approvals import approval_policy
from techparts.api.permissions import PUBLIC
from techparts.api.views import UnknownEndpoint
from techparts.apikeys.scopes import ALL_SCOPES
from techparts.apikeys.services import api_key_create, api_key_revoke
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    TaxRateFactory,
    WebhookEndpointFactory,
)

pytestmark = pytest.mark.django_db


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + _plain(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + _plain(entry.pattern), entry.callback


def _plain(pattern) -> str:
    return str(pattern).removeprefix("^").removesuffix("$")


def api_routes() -> list[tuple[str, str, str | None]]:
    """(route, HTTP method, declared scope) for every method of every /v1/ view."""
    routes = []
    for route, callback in _walk(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        if not route.startswith("v1") or view is None or view is UnknownEndpoint:
            continue
        declared = getattr(view, "required_scopes", {})
        actions = getattr(callback, "actions", None)
        if actions:  # a viewset route: method -> action
            for method, action in actions.items():
                routes.append((route, method.upper(), declared.get(action)))
        else:
            for method in view.http_method_names:
                if method not in ("options", "head") and hasattr(view, method):
                    routes.append((route, method.upper(), declared.get(method)))
    return routes


ROUTES = api_routes()
SCOPED = [(r, m, s) for r, m, s in ROUTES if s != PUBLIC]


def test_the_walk_finds_the_seed_routes():
    seen = {(r, m) for r, m, _ in ROUTES}
    assert ("v1/products/(?P<id>[^/]+)", "GET") in seen
    assert any(m == "POST" and "orders" in r for r, m in seen)
    assert any(m == "PATCH" and "inventory" in r for r, m in seen)


@pytest.mark.parametrize(("route", "method", "scope"), ROUTES, ids=lambda v: str(v))
def test_every_route_declares_a_known_scope_or_public(route, method, scope):
    # A tuple: any one of its scopes allows (GET /v1/events).
    scopes = scope if isinstance(scope, tuple) else (scope,)
    assert scope == PUBLIC or (scopes and set(scopes) <= set(ALL_SCOPES)), (
        f"{method} {route} declares no scope"
    )


@pytest.fixture
def world(client_for):
    """A product, a customer, an order and a webhook endpoint of integrator A, to fill in
    route parameters."""
    TaxRateFactory(state="CA")
    product = ProductFactory(public_id="PROD-MATRIX-001", sku="SKU-MATRIX-001", stock=50)
    customer = CustomerFactory()
    owner = client_for(owner="integrator_a")
    response = owner.post(
        "/v1/orders",
        {
            "customer_id": customer.customer_id,
            "items": [{"product_id": product.public_id, "quantity": 1}],
            "shipping_address": {
                "street": "1 Main St",
                "city": "San Francisco",
                "state": "CA",
                "zip": "94105",
                "country": "US",
            },
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    endpoint = WebhookEndpointFactory(owner="integrator_a")
    # A correction of A's waiting for two-person approval.
    policy = approval_policy()
    policy.min_units = 1
    policy.save()
    _, raw = api_key_create(
        name="w", owner="integrator_a", scopes=ALL_SCOPES, corrections_need_approval=True
    )
    waiting = client_with(f"Bearer {raw}").patch(
        f"/v1/inventory/{product.sku}", {"quantity": 40}, format="json"
    )
    assert waiting.status_code == 202, waiting.content
    return {
        "id": product.public_id,
        "sku": product.sku,
        "order_id": response.json()["order_id"],
        "endpoint_id": endpoint.public_id,
        "public_id": waiting.json()["id"],
    }


def concrete(route: str, world: dict) -> str:
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: world[m.group(1)], route)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: world[m.group(1)], path)
    return "/" + path


def call(client: APIClient, method: str, url: str):
    return client.generic(method, url, "{}", content_type="application/json")


def client_with(header: str | None) -> APIClient:
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client


@pytest.mark.parametrize(("route", "method", "scope"), SCOPED, ids=lambda v: str(v))
def test_keys_are_checked_on_every_route(route, method, scope, world):
    url = concrete(route, world)
    _, valid = api_key_create(name="v", owner="integrator_a", scopes=ALL_SCOPES)
    revoked_key, revoked = api_key_create(name="r", owner="integrator_a", scopes=ALL_SCOPES)
    api_key_revoke(key=revoked_key)
    _, expired = api_key_create(
        name="e",
        owner="integrator_a",
        scopes=ALL_SCOPES,
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    needed = scope if isinstance(scope, tuple) else (scope,)
    _, lacking = api_key_create(
        name="l", owner="integrator_a", scopes=[s for s in ALL_SCOPES if s not in needed]
    )

    for header in [
        None,
        "Bearer",
        "Bearer garbage",
        f"Bearer {valid[:-2]}xx",  # right prefix, wrong secret
        f"Bearer {revoked}",
        f"Bearer {expired}",
    ]:
        response = call(client_with(header), method, url)
        assert response.status_code == 401, (header, response.content)
        assert response.json()["error"] == "unauthorized"

    denied = call(client_with(f"Bearer {lacking}"), method, url)
    assert denied.status_code == 403
    names = " or ".join(f"'{each}'" for each in needed)
    assert denied.json()["message"].endswith(f"Requires {names} scope.")

    allowed = call(client_with(f"Bearer {valid}"), method, url)
    assert allowed.status_code not in (401, 403), allowed.content
