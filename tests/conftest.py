import pytest
import yaml
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from inventory.models import StockRecord
from inventory.roles import CLERKS, GROUP_PERMISSIONS, MANAGERS
from inventory.selectors import stock_record_get
from techparts.apikeys.scopes import ALL_SCOPES
from techparts.apikeys.services import api_key_create
from techparts.roles import ensure_groups
from tests.factories import UserFactory
from tests.servers import redis_server
from webhooks.triggers import forget_endpoints_exist

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config, items):
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (row locks, triggers, or a database shared with other "
        "processes, none of which SQLite's in-memory test database has); runs in the "
        "PostgreSQL pass of `make test`"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_endpoints_exist_cache():
    """Each test starts without the process's cached "an enabled webhook endpoint exists".

    The cache (webhooks.triggers) lives 10 s and forgets itself on endpoint saves and deletes,
    but a test database flush deletes without signals: a test that made an endpoint would
    otherwise make the next tests enqueue the delivery task (one INSERT more per change).
    """
    forget_endpoints_exist()
    yield
    forget_endpoints_exist()


def stock_of(product) -> StockRecord:
    """Return the product's stock record as the database holds it now, read by its selector."""
    return stock_record_get(sku=product.sku)


@pytest.fixture
def schema(client) -> dict:
    """The OpenAPI document the API publishes at /v1/schema/."""
    response = client.get("/v1/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_api_key(db):
    """Create an API key: make_api_key(scopes=[...], owner=...) -> (ApiKey, full key text)."""

    def make(scopes=None, owner="api_user_12345", name="test key", **kwargs):
        return api_key_create(
            name=name, owner=owner, scopes=ALL_SCOPES if scopes is None else scopes, **kwargs
        )

    return make


@pytest.fixture
def client_for(make_api_key):
    """An APIClient sending a fresh key: client_for("products:read") or client_for() for all."""

    def make(*scopes, owner="api_user_12345"):
        key, raw = make_api_key(scopes=list(scopes) or ALL_SCOPES, owner=owner)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        client.api_key = key
        client.raw_key = raw
        return client

    return make


@pytest.fixture
def api(client_for):
    """A client whose key holds every scope (owner api_user_12345)."""
    return client_for()


@pytest.fixture
def inventory_groups(db):
    # The data migration makes them, but transactional tests (browser, concurrency) flush
    # tables between tests, so make sure they exist. `db` follows the test's own marker.
    ensure_groups(Group, Permission, GROUP_PERMISSIONS)
    return {name: Group.objects.get(name=name) for name in (CLERKS, MANAGERS)}


@pytest.fixture
def clerk(inventory_groups):
    user = UserFactory(username="clerk")
    user.groups.add(inventory_groups[CLERKS])
    return user


@pytest.fixture
def manager(inventory_groups):
    user = UserFactory(username="manager")
    user.groups.add(inventory_groups[MANAGERS])
    return user


@pytest.fixture
def redis_url(tmp_path):
    """A throwaway redis-server's URL (tests using it skip when redis-server is missing)."""
    with redis_server(tmp_path) as url:
        yield url
