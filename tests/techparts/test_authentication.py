from datetime import timedelta

import pytest
from django.utils import timezone

from techparts.apikeys.services import api_key_revoke
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

UNAUTHORIZED = {
    "error": "unauthorized",
    "message": "Valid API key required. Include 'Authorization: Bearer YOUR_API_KEY' header.",
}


@pytest.fixture
def product():
    return ProductFactory(public_id="PROD-4090-MSI-001")


def get(api_client, authorization=None):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    return api_client.get("/v1/products/PROD-4090-MSI-001", **headers)


def assert_unauthorized(response):
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Bearer realm="techparts"'


def test_valid_key_reads_the_product(api_client, make_api_key, product):
    _, raw = make_api_key(scopes=["products:read"])

    assert get(api_client, f"Bearer {raw}").status_code == 200


def test_scheme_is_case_insensitive(api_client, make_api_key, product):
    _, raw = make_api_key(scopes=["products:read"])

    assert get(api_client, f"bearer {raw}").status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token tp_abcd1234_secret",
        "Bearer not-a-key",
        "Bearer tp_abcd1234",
        "Bearer tp__secret",
        "Bearer tp_abcd1234_secret extra",
    ],
)
def test_missing_or_malformed_key_is_unauthorized(api_client, product, authorization):
    assert_unauthorized(get(api_client, authorization))


def test_unknown_prefix_is_unauthorized(api_client, product):
    assert_unauthorized(get(api_client, "Bearer tp_00000000_" + "x" * 43))


def test_right_prefix_with_wrong_secret_is_unauthorized(api_client, make_api_key, product):
    key, raw = make_api_key(scopes=["products:read"])
    tampered = raw[:-1] + ("A" if raw[-1] != "A" else "B")

    assert_unauthorized(get(api_client, f"Bearer {tampered}"))


def test_revoked_key_is_unauthorized(api_client, make_api_key, product):
    key, raw = make_api_key(scopes=["products:read"])
    api_key_revoke(key=key)

    assert_unauthorized(get(api_client, f"Bearer {raw}"))


def test_expired_key_is_unauthorized(api_client, make_api_key, product):
    _, raw = make_api_key(
        scopes=["products:read"], expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert_unauthorized(get(api_client, f"Bearer {raw}"))


def test_key_before_its_expiry_works(api_client, make_api_key, product):
    _, raw = make_api_key(scopes=["products:read"], expires_at=timezone.now() + timedelta(hours=1))

    assert get(api_client, f"Bearer {raw}").status_code == 200


def test_non_ascii_authorization_header_is_unauthorized(api_client, product):
    assert_unauthorized(get(api_client, "Bearer tp_ü_é"))


def test_key_without_the_scope_is_forbidden_naming_the_scope(api_client, make_api_key, product):
    _, raw = make_api_key(scopes=["orders:read", "inventory:write"])

    response = get(api_client, f"Bearer {raw}")

    assert response.status_code == 403
    assert response.json() == {
        "error": "forbidden",
        "message": "Insufficient permissions to read products. Requires 'products:read' scope.",
    }


def test_unauthenticated_request_is_401_before_any_scope_check(api_client, product):
    # No key at all is "who are you" (401), not "you may not" (403).
    assert get(api_client).status_code == 401


def test_last_used_time_is_recorded(api_client, make_api_key, product):
    key, raw = make_api_key(scopes=["products:read"])
    assert key.last_used_at is None

    get(api_client, f"Bearer {raw}")

    key.refresh_from_db()
    assert key.last_used_at is not None
    assert timezone.now() - key.last_used_at < timedelta(minutes=1)


def test_last_used_time_is_not_rewritten_within_the_interval(api_client, make_api_key, product):
    key, raw = make_api_key(scopes=["products:read"])
    get(api_client, f"Bearer {raw}")
    key.refresh_from_db()
    first = key.last_used_at

    get(api_client, f"Bearer {raw}")

    key.refresh_from_db()
    assert key.last_used_at == first


def test_last_used_time_is_rewritten_after_the_interval(api_client, make_api_key, product):
    key, raw = make_api_key(scopes=["products:read"])
    stale = timezone.now() - timedelta(minutes=5)
    type(key).objects.filter(pk=key.pk).update(last_used_at=stale)

    get(api_client, f"Bearer {raw}")

    key.refresh_from_db()
    assert key.last_used_at > stale
