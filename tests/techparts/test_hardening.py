"""Resource caps, rate limits, request ids and the admin login lockout."""

import json
import logging

import pytest
from django.core.cache import cache
from django.test import Client

from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


class TestBodySizeCap:
    def test_body_over_the_cap_is_413_with_the_envelope(self, api, settings):
        settings.API_MAX_BODY_BYTES = 1024
        product = ProductFactory()
        body = json.dumps({"quantity": 5, "reason": "x" * 2000})

        response = api.patch(f"/v1/inventory/{product.sku}", body, content_type="application/json")

        assert response.status_code == 413
        assert response.json() == {
            "error": "payload_too_large",
            "message": "Request body is larger than the 1024 bytes this API accepts.",
        }
        product.stock.refresh_from_db()
        assert product.stock.on_hand == 10


class TestRateLimits:
    def test_reads_over_the_limit_get_429_with_retry_after(self, client_for, settings):
        settings.API_RATE_LIMIT_READ = "3/minute"
        product = ProductFactory()
        client = client_for("products:read")

        statuses = [client.get(f"/v1/products/{product.public_id}").status_code for _ in range(5)]

        assert statuses == [200, 200, 200, 429, 429]
        response = client.get(f"/v1/products/{product.public_id}")
        assert response.json()["error"] == "rate_limited"
        assert response.json()["message"].startswith("Rate limit exceeded. Retry in ")
        assert 1 <= int(response["Retry-After"]) <= 61

    def test_one_keys_limit_does_not_affect_another(self, client_for, settings):
        settings.API_RATE_LIMIT_READ = "2/minute"
        product = ProductFactory()
        greedy, other = client_for("products:read"), client_for("products:read")

        for _ in range(3):
            greedy.get(f"/v1/products/{product.public_id}")

        assert greedy.get(f"/v1/products/{product.public_id}").status_code == 429
        assert other.get(f"/v1/products/{product.public_id}").status_code == 200

    def test_reads_and_writes_have_separate_budgets(self, client_for, settings):
        settings.API_RATE_LIMIT_READ = "1/minute"
        settings.API_RATE_LIMIT_WRITE = "1/minute"
        product = ProductFactory()
        client = client_for("products:read", "inventory:write")

        assert client.get(f"/v1/products/{product.public_id}").status_code == 200
        assert client.get(f"/v1/products/{product.public_id}").status_code == 429
        write = client.patch(f"/v1/inventory/{product.sku}", {"quantity": 11}, format="json")
        assert write.status_code == 200
        again = client.patch(f"/v1/inventory/{product.sku}", {"quantity": 12}, format="json")
        assert again.status_code == 429
        product.stock.refresh_from_db()
        assert product.stock.on_hand == 11


class TestRequestId:
    def test_every_response_carries_a_generated_request_id(self, client):
        first = client.get("/healthz")["X-Request-ID"]
        second = client.get("/healthz")["X-Request-ID"]

        assert len(first) == 32 and first != second

    def test_the_callers_request_id_is_kept(self, client):
        response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234.abcd")

        assert response["X-Request-ID"] == "lb-1234.abcd"

    def test_an_unsafe_request_id_is_replaced(self, client):
        response = client.get("/healthz", HTTP_X_REQUEST_ID="<script>" + "x" * 300)

        assert response["X-Request-ID"] != "<script>" and len(response["X-Request-ID"]) == 32

    def test_one_json_log_line_per_request_with_key_prefix_never_the_secret(
        self, api_client, make_api_key, caplog
    ):
        key, raw = make_api_key(scopes=["products:read"])

        with caplog.at_level(logging.INFO, logger="techparts.requests"):
            response = api_client.get(
                "/v1/products/PROD-NONE-001",
                HTTP_AUTHORIZATION=f"Bearer {raw}",
                HTTP_X_REQUEST_ID="req-42",
            )

        lines = [r.getMessage() for r in caplog.records if r.name == "techparts.requests"]
        assert len(lines) == 1
        entry = json.loads(lines[0])
        assert entry["request_id"] == "req-42"
        assert entry["status"] == response.status_code == 404
        assert entry["api_key"] == f"tp_{key.prefix}"
        assert entry["method"] == "GET" and entry["path"] == "/v1/products/PROD-NONE-001"
        assert isinstance(entry["duration_ms"], float)
        assert raw.split("_", 2)[2] not in caplog.text


class TestAdminLoginLockout:
    def login(self, client, password):
        return client.post(
            "/admin/login/?next=/admin/", {"username": "clerk", "password": password}
        )

    def test_repeated_failures_lock_the_login_even_for_the_right_password(self, settings, caplog):
        settings.ADMIN_LOGIN_MAX_FAILURES = 3
        UserFactory(username="clerk")
        client = Client()

        with caplog.at_level(logging.WARNING, logger="techparts.security"):
            for _ in range(3):
                assert self.login(client, "wrong").status_code == 200
            response = self.login(client, "correct-horse-battery-staple")

        assert response.status_code == 200  # the form again, not a redirect into the admin
        assert "Too many failed login attempts" in response.content.decode()
        assert client.get("/admin/").status_code == 302
        assert "Failed admin login (3)" in caplog.text

    def test_success_before_the_limit_logs_in_and_resets_the_count(self, settings):
        settings.ADMIN_LOGIN_MAX_FAILURES = 3
        UserFactory(username="clerk")
        client = Client()
        self.login(client, "wrong")
        self.login(client, "wrong")

        response = self.login(client, "correct-horse-battery-staple")

        assert response.status_code == 302
        assert client.get("/admin/").status_code == 200
