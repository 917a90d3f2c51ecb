"""The production configuration: Django's deploy check, HTTPS, and shared rate limits."""

import os
import secrets
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from tests.factories import ProductFactory
from tests.servers import ROOT, database_url, gunicorn_servers

PRODUCTION_ENV = {
    "PATH": os.environ["PATH"],
    "DJANGO_SETTINGS_MODULE": "techparts.settings",
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "api.techparts.example",
}


def test_production_settings_pass_the_deploy_check_with_nothing_silenced():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=PRODUCTION_ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


def test_without_a_secret_key_the_deploy_check_fails():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


@pytest.mark.django_db
class TestHttpsMode:
    @pytest.fixture(autouse=True)
    def https(self, settings):
        settings.SECURE_SSL_REDIRECT = True
        settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
        settings.SECURE_HSTS_SECONDS = 31536000
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    def test_plain_http_is_redirected_to_https(self):
        response = Client().get("/v1/products/PROD-4090-MSI-001")

        assert response.status_code == 301
        assert response["Location"] == "https://testserver/v1/products/PROD-4090-MSI-001"

    def test_https_behind_the_proxy_gets_hsts(self, api):
        product = ProductFactory()

        response = api.get(f"/v1/products/{product.public_id}", HTTP_X_FORWARDED_PROTO="https")

        assert response.status_code == 200
        assert response["Strict-Transport-Security"].startswith("max-age=31536000")

    def test_health_check_answers_over_plain_http(self):
        assert Client().get("/healthz").status_code == 200


def _status(url: str, key: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
def test_two_app_processes_sharing_redis_enforce_one_limit(make_api_key, redis_url):
    env = {
        **PRODUCTION_ENV,
        "HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": redis_url,
        "API_RATE_LIMIT_READ": "6/day",
    }
    product = ProductFactory()
    _, key = make_api_key(scopes=["products:read"])
    with gunicorn_servers(env, count=2) as ports:
        statuses = [
            _status(f"http://127.0.0.1:{ports[i % 2]}/v1/products/{product.public_id}", key)
            for i in range(10)
        ]

    assert sorted(statuses) == [200] * 6 + [429] * 4
    assert statuses[:6] == [200] * 6  # both processes counted into one budget


def test_test_settings_only_relax_https_and_rate_limits():
    # Guard: the suite runs the production settings, not a parallel configuration.
    assert django_settings.DEBUG is False
    assert django_settings.MIDDLEWARE[0] == "techparts.middleware.RequestIdMiddleware"
