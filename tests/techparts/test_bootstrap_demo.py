import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from techparts.apikeys.management.commands import bootstrap_demo
from techparts.apikeys.models import ApiKey
from techparts.apikeys.scopes import ALL_SCOPES
from techparts.apikeys.services import api_key_authenticate

pytestmark = pytest.mark.django_db


@pytest.fixture
def credentials_file(tmp_path, monkeypatch):
    path = tmp_path / "var" / "demo-credentials.json"
    monkeypatch.setattr(bootstrap_demo, "CREDENTIALS_FILE", path)
    return path


def run() -> str:
    out = io.StringIO()
    call_command("bootstrap_demo", stdout=out)
    return out.getvalue()


def test_prints_a_working_admin_login_and_all_scopes_key(credentials_file):
    output = run()

    user = get_user_model().objects.get(username="admin")
    password = output.split("password: ")[1].split()[0]
    assert user.is_superuser and user.check_password(password)
    raw = output.split("API key (api_user_12345, all scopes):")[1].split()[0]
    key = api_key_authenticate(raw=raw)
    assert key.owner == "api_user_12345" and key.scopes == ALL_SCOPES


def test_reruns_reuse_the_same_login_and_key(credentials_file):
    first = run()
    second = run()

    assert first == second
    assert ApiKey.objects.count() == 1
    assert get_user_model().objects.count() == 1


def test_lost_credentials_file_revokes_the_old_key_and_makes_a_new_one(credentials_file):
    run()
    credentials_file.unlink()

    run()

    assert ApiKey.objects.count() == 2
    assert ApiKey.objects.usable().count() == 1
