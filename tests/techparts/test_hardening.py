"""Resource caps, rate limits, request ids and the admin login lockout."""

import json
import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


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
    # Hour windows: a few requests never straddle a window boundary in practice.

    def test_reads_over_the_limit_get_429_with_retry_after(self, client_for, settings):
        settings.API_RATE_LIMIT_READ = "3/hour"
        product = ProductFactory()
        client = client_for("products:read")

        statuses = [client.get(f"/v1/products/{product.public_id}").status_code for _ in range(5)]

        assert statuses == [200, 200, 200, 429, 429]
        response = client.get(f"/v1/products/{product.public_id}")
        assert response.json()["error"] == "rate_limited"
        assert response.json()["message"].startswith("Rate limit exceeded. Retry in ")
        assert 1 <= int(response["Retry-After"]) <= 3601

    def test_one_keys_limit_does_not_affect_another(self, client_for, settings):
        settings.API_RATE_LIMIT_READ = "2/hour"
        product = ProductFactory()
        greedy, other = client_for("products:read"), client_for("products:read")

        for _ in range(3):
            greedy.get(f"/v1/products/{product.public_id}")

        assert greedy.get(f"/v1/products/{product.public_id}").status_code == 429
        assert other.get(f"/v1/products/{product.public_id}").status_code == 200

    def test_reads_and_writes_have_separate_budgets(self, client_for, settings):
        settings.API_RATE_LIMIT_READ = "1/hour"
        settings.API_RATE_LIMIT_WRITE = "1/hour"
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
    def login(self, client, password, username="clerk", **extra):
        return client.post(
            "/admin/login/?next=/admin/", {"username": username, "password": password}, **extra
        )

    def test_repeated_failures_lock_the_login_even_for_the_right_password(self, settings, caplog):
        settings.ADMIN_LOGIN_MAX_FAILURES = 3
        settings.ADMIN_LOGIN_LOCKOUT_SECONDS = 600
        UserFactory(username="clerk")
        client = Client()

        with caplog.at_level(logging.WARNING, logger="techparts.security"):
            statuses = [self.login(client, "wrong").status_code for _ in range(3)]
            response = self.login(client, "correct-horse-battery-staple")

        assert statuses == [200, 200, 429]  # the form twice, then the lockout page
        assert response.status_code == 429
        assert response["Retry-After"] == "600"
        assert "Too many failed login attempts. Try again in 10 minutes." in (
            response.content.decode()
        )
        assert client.get("/admin/").status_code == 302
        assert "Failed admin login (3) for 'clerk' from 127.0.0.1" in caplog.text
        assert "Admin login locked out for 'clerk' from 127.0.0.1" in caplog.text

    def test_success_before_the_limit_logs_in_and_resets_the_count(self, settings):
        settings.ADMIN_LOGIN_MAX_FAILURES = 3
        UserFactory(username="clerk")
        client = Client()
        self.login(client, "wrong")
        self.login(client, "wrong")

        response = self.login(client, "correct-horse-battery-staple")

        assert response.status_code == 302
        assert client.get("/admin/").status_code == 200
        client.logout()
        self.login(client, "wrong")
        self.login(client, "wrong")
        assert self.login(client, "correct-horse-battery-staple").status_code == 302

    def test_attempts_while_locked_out_are_refused_unrecorded(self, settings):
        settings.ADMIN_LOGIN_MAX_FAILURES = 2
        UserFactory(username="clerk")
        client = Client()
        for _ in range(2):
            self.login(client, "wrong")

        assert [self.login(client, "wrong").status_code for _ in range(4)] == [429] * 4
        assert AccessAttempt.objects.get().failures_since_start == 2

    def test_the_right_password_works_again_once_the_lockout_time_has_passed(self, settings):
        settings.ADMIN_LOGIN_MAX_FAILURES = 2
        settings.ADMIN_LOGIN_LOCKOUT_SECONDS = 600
        UserFactory(username="clerk")
        client = Client()
        for _ in range(2):
            self.login(client, "wrong")
        assert self.login(client, "correct-horse-battery-staple").status_code == 429

        AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(seconds=601))

        assert self.login(client, "correct-horse-battery-staple").status_code == 302

    def test_staff_clean_up_expired_lockouts_from_the_admin(self, settings, admin_client):
        settings.ADMIN_LOGIN_LOCKOUT_SECONDS = 600
        UserFactory(username="clerk")
        self.login(Client(), "wrong")
        self.login(Client(), "wrong", username="other")
        AccessAttempt.objects.filter(username="clerk").update(
            attempt_time=timezone.now() - timedelta(seconds=601)
        )

        response = admin_client.post(
            "/admin/axes/accessattempt/",
            {
                "action": "cleanup_expired_attempts",
                "_selected_action": [a.pk for a in AccessAttempt.objects.all()],
            },
        )

        assert response.status_code == 302
        assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["other"]

    def test_case_variants_of_the_username_share_one_count(self, settings):
        settings.ADMIN_LOGIN_MAX_FAILURES = 3
        UserFactory(username="clerk")
        client = Client()

        for username in ["clerk", "Clerk", " CLERK"]:
            self.login(client, "wrong", username=username)

        assert self.login(client, "correct-horse-battery-staple").status_code == 429

    def test_another_address_is_not_locked_out(self, settings):
        settings.ADMIN_LOGIN_MAX_FAILURES = 2
        UserFactory(username="clerk")
        for _ in range(2):
            self.login(Client(), "wrong", REMOTE_ADDR="203.0.113.7")

        assert self.login(Client(), "x", REMOTE_ADDR="203.0.113.7").status_code == 429
        response = self.login(Client(), "correct-horse-battery-staple", REMOTE_ADDR="198.51.100.2")
        assert response.status_code == 302

    def test_behind_the_trusted_proxy_the_lockout_keys_on_the_forwarded_address(self, settings):
        settings.TRUST_PROXY_HEADERS = True
        settings.ADMIN_LOGIN_MAX_FAILURES = 2
        UserFactory(username="clerk")
        proxy = {"REMOTE_ADDR": "10.0.0.5"}  # every request arrives from the proxy
        for _ in range(2):
            self.login(Client(), "wrong", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)

        locked = self.login(
            Client(), "correct-horse-battery-staple", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy
        )
        other_client = self.login(
            Client(), "correct-horse-battery-staple", HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy
        )

        assert (locked.status_code, other_client.status_code) == (429, 302)

    def test_without_proxy_trust_a_forged_forwarded_header_changes_nothing(self, settings):
        settings.ADMIN_LOGIN_MAX_FAILURES = 2
        UserFactory(username="clerk")
        for n in range(2):
            self.login(Client(), "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

        response = self.login(
            Client(), "correct-horse-battery-staple", HTTP_X_FORWARDED_FOR="192.0.2.99"
        )

        assert response.status_code == 429  # counted on the connection's own address
