import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from techparts.apikeys.models import ApiKey
from techparts.apikeys.scopes import ALL_SCOPES
from techparts.apikeys.services import api_key_authenticate, api_key_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_key_has_visible_prefix_and_secret():
    key, raw = api_key_create(name="ERP", owner="acme", scopes=["products:read"])

    assert raw.startswith(f"tp_{key.prefix}_")
    assert len(raw.split("_", 2)[2]) >= 40


def test_secret_is_nowhere_in_the_database():
    _, raw = api_key_create(name="ERP", owner="acme", scopes=["products:read"])
    secret = raw.split("_", 2)[2]

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM apikeys_apikey")
        rows = cursor.fetchall()
    dump = repr(rows)
    assert secret not in dump
    assert raw not in dump
    assert ApiKey.objects.get().secret_hash != secret


def test_keys_are_unique():
    raws = {api_key_create(name="k", owner="o", scopes=["products:read"])[1] for _ in range(20)}

    assert len(raws) == 20


def test_unknown_scope_is_refused():
    with pytest.raises(ValueError, match="Unknown scope"):
        api_key_create(name="k", owner="o", scopes=["products:write"])


def test_authenticate_returns_the_key_for_its_text():
    key, raw = api_key_create(name="k", owner="o", scopes=["products:read"])

    assert api_key_authenticate(raw=raw) == key
    assert api_key_authenticate(raw=raw + "x") is None


class TestCreateApiKeyCommand:
    def run(self, *args):
        out, err = io.StringIO(), io.StringIO()
        call_command("create_api_key", *args, stdout=out, stderr=err)
        return out.getvalue(), err.getvalue()

    def test_prints_the_full_key_alone_on_its_last_line(self):
        out, _ = self.run("--name", "warehouse", "--scopes", "products:read,orders:write")

        last_line = out.strip().splitlines()[-1]
        key = api_key_authenticate(raw=last_line)
        assert key is not None
        assert key.name == "warehouse" and key.owner == "warehouse"
        assert key.scopes == ["products:read", "orders:write"]

    def test_owner_and_expiry_can_be_given(self):
        out, _ = self.run(
            "--name", "sync", "--owner", "api_user_1", "--scopes", "all", "--expires-in-days", "30"
        )

        key = api_key_authenticate(raw=out.strip().splitlines()[-1])
        assert key.owner == "api_user_1"
        assert key.expires_at is not None
        assert key.scopes == ALL_SCOPES

    def test_unknown_scope_is_an_error_and_creates_nothing(self):
        with pytest.raises(CommandError, match="Unknown scope"):
            self.run("--name", "x", "--scopes", "products:read,everything")
        assert not ApiKey.objects.exists()


class TestApiKeyAdmin:
    @pytest.fixture
    def admin_client(self, client):
        client.force_login(UserFactory(is_superuser=True))
        return client

    def test_created_key_is_shown_once_and_works(self, admin_client):
        response = admin_client.post(
            "/admin/apikeys/apikey/add/",
            {"name": "ERP", "owner": "acme", "scopes": ["products:read", "orders:read"]},
        )

        assert response.status_code == 200
        key = ApiKey.objects.get()
        raw = response.context["full_key"]
        assert raw in response.content.decode()
        assert api_key_authenticate(raw=raw) == key
        assert key.scopes == ["products:read", "orders:read"]
        assert key.created_by.is_superuser
        # Listing or opening the key later never shows it again.
        secret = raw.split("_", 2)[2]
        assert secret not in admin_client.get("/admin/apikeys/apikey/").content.decode()
        page = admin_client.get(f"/admin/apikeys/apikey/{key.pk}/change/").content.decode()
        assert secret not in page

    def test_revoke_action_revokes(self, admin_client):
        key, raw = api_key_create(name="k", owner="o", scopes=["products:read"])

        admin_client.post(
            "/admin/apikeys/apikey/",
            {"action": "revoke", "_selected_action": [key.pk]},
        )

        key.refresh_from_db()
        assert key.revoked_at is not None
        assert api_key_authenticate(raw=raw) is None

    def test_keys_cannot_be_deleted_only_revoked(self, admin_client):
        key, _ = api_key_create(name="k", owner="o", scopes=["products:read"])

        response = admin_client.post(f"/admin/apikeys/apikey/{key.pk}/delete/", {"post": "yes"})

        assert response.status_code == 403
        assert ApiKey.objects.filter(pk=key.pk).exists()
