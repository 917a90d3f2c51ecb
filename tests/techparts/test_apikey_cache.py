"""A warm API key costs no query, and every change to it takes effect on the next request.

Keys are held in process (techparts.apikeys.cache); a per-key stamp in the shared cache tells
every process when its copy is stale. The in-process tests change a key the ways staff and
code do; the last one runs two gunicorn processes sharing Redis, as production does.
"""

import shutil
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from techparts.apikeys.models import ApiKey
from techparts.apikeys.services import api_key_revoke
from tests.factories import ProductFactory, UserFactory
from tests.servers import database_url, gunicorn_servers
from tests.techparts.test_production import PRODUCTION_ENV

pytestmark = pytest.mark.django_db


def _admin():
    from django.test import Client

    client = Client()
    client.force_login(UserFactory(is_superuser=True))
    return client


def revoke_by_service(key):
    api_key_revoke(key=key)


def revoke_in_admin(key):
    _admin().post("/admin/apikeys/apikey/", {"action": "revoke", "_selected_action": [key.pk]})


def drop_scope_in_admin(key):
    response = _admin().post(
        f"/admin/apikeys/apikey/{key.pk}/change/",
        {"name": key.name, "owner": key.owner, "scopes": ["orders:read"]},
    )
    assert response.status_code == 302


def expire_in_admin(key):
    past = timezone.now() - timedelta(minutes=1)
    response = _admin().post(
        f"/admin/apikeys/apikey/{key.pk}/change/",
        {
            "name": key.name,
            "owner": key.owner,
            "scopes": key.scopes,
            "expires_at_0": past.strftime("%Y-%m-%d"),
            "expires_at_1": past.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302


def revoke_by_queryset_update(key):
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())


def delete(key):
    key.delete()


@pytest.mark.parametrize(
    ("change", "status"),
    [
        (revoke_by_service, 401),
        (revoke_in_admin, 401),
        (drop_scope_in_admin, 403),
        (expire_in_admin, 401),
        (revoke_by_queryset_update, 401),
        (delete, 401),
    ],
)
def test_a_change_to_a_warm_key_takes_effect_on_the_next_request(
    client_for, django_assert_num_queries, change, status
):
    product = ProductFactory()
    api = client_for("products:read")
    url = f"/v1/products/{product.public_id}"
    assert api.get(url).status_code == 200
    with django_assert_num_queries(1):  # the key is warm: only the product is read
        assert api.get(url).status_code == 200

    change(api.api_key)

    assert api.get(url).status_code == status
    assert api.get(url).status_code == status


def test_a_warm_key_stops_working_when_it_expires(make_api_key, api_client):
    product = ProductFactory()
    expires_at = timezone.now() + timedelta(seconds=2)
    _, raw = make_api_key(scopes=["products:read"], expires_at=expires_at)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    url = f"/v1/products/{product.public_id}"
    assert api_client.get(url).status_code == 200

    time.sleep(max((expires_at - timezone.now()).total_seconds(), 0) + 0.05)

    assert api_client.get(url).status_code == 401


def test_a_wrong_secret_is_refused_with_a_warm_prefix(client_for):
    product = ProductFactory()
    api = client_for("products:read")
    url = f"/v1/products/{product.public_id}"
    assert api.get(url).status_code == 200

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api.raw_key[:-4]}AAAA")

    assert api.get(url).status_code == 401


def _status(port: int, path: str, key: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_made_up_keys_leave_nothing_in_the_shared_store(api_client):
    # Unauthenticated callers choose the prefixes: none may grow the store by a stamp.
    prefixes = [f"{n:08x}" for n in range(0xA0000000, 0xA0000000 + 50)]

    for prefix in prefixes:
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer tp_{prefix}_{'s' * 43}")
        assert api_client.get("/v1/products").status_code == 401

    assert cache.get_many([f"apikey:stamp:{prefix}" for prefix in prefixes]) == {}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
def test_processes_sharing_redis_see_a_change_at_once(make_api_key, redis_url):
    env = {
        **PRODUCTION_ENV,
        "HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": redis_url,
        "API_RATE_LIMIT_READ": "",
        # No time bound to fall back on: only the stamps can make the change visible.
        "API_KEY_CACHE_SECONDS": "3600",
    }
    path = f"/v1/products/{ProductFactory().public_id}"
    scoped, scoped_raw = make_api_key(scopes=["products:read", "orders:read"])
    revoked, revoked_raw = make_api_key(scopes=["products:read"])
    with gunicorn_servers(env, count=2) as ports:
        for port in ports * 2:  # warm both keys in both processes
            assert _status(port, path, scoped_raw) == 200
            assert _status(port, path, revoked_raw) == 200

        with override_settings(REDIS_URL=redis_url):
            api_key_revoke(key=revoked)
            scoped.scopes = ["orders:read"]
            scoped.save()

        assert [_status(port, path, revoked_raw) for port in ports] == [401, 401]
        assert [_status(port, path, scoped_raw) for port in ports] == [403, 403]
