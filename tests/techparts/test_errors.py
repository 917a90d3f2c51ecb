"""Every API failure, from any layer, is the one JSON envelope: never HTML, never internals."""

import logging

import pytest
from django.test import Client
from rest_framework.exceptions import ErrorDetail

import shop.views
from techparts.api.errors import flatten_errors
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_unknown_v1_path_is_not_found_envelope(api):
    response = api.get("/v1/no-such-thing/here")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": "not_found",
        "message": "No API endpoint at '/v1/no-such-thing/here'",
    }


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_unknown_v1_path_is_not_found_for_every_method_without_a_key(api_client, method):
    response = getattr(api_client, method)("/v1/nothing")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_wrong_method_is_method_not_allowed_envelope(api):
    product = ProductFactory()

    response = api.delete(f"/v1/products/{product.public_id}")

    assert response.status_code == 405
    assert response.json() == {
        "error": "method_not_allowed",
        "message": "Method DELETE is not allowed here",
    }
    assert "GET" in response["Allow"]


def test_wrong_method_without_a_key_is_still_method_not_allowed(api_client):
    response = api_client.post("/v1/products", {}, format="json")

    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_unexpected_exception_is_internal_error_without_internals(api, monkeypatch, caplog):
    def broken():
        raise RuntimeError("password=hunter2 at /srv/secret.py line 42")

    monkeypatch.setattr(shop.views, "product_list", broken)

    with caplog.at_level(logging.ERROR, logger="techparts.api"):
        response = api.get("/v1/products")

    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "internal_error"
    assert "hunter2" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert "hunter2" in caplog.text  # logged server-side for the operators


def test_errors_outside_drf_views_are_json_under_v1():
    # DisallowedHost is raised by Django itself, before any view runs.
    response = Client(HTTP_HOST="evil.example").get("/v1/products")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "validation_error"


def test_pages_outside_the_api_keep_html_errors(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert "application/json" not in response["Content-Type"]


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


class TestRequestBodies:
    """Body problems are caught before any service runs, and change nothing."""

    @pytest.fixture
    def product(self):
        return ProductFactory(sku="GPU-NV-4090-MSI-001", stock=23)

    def patch(self, api, body, content_type="application/json"):
        return api.generic("PATCH", "/v1/inventory/GPU-NV-4090-MSI-001", body, content_type)

    def assert_unchanged(self, product):
        product.stock.refresh_from_db()
        assert product.stock.on_hand == 23

    def test_malformed_json_is_a_validation_error(self, api, product):
        response = self.patch(api, '{"quantity": 45,')

        assert response.status_code == 400
        body = response.json()
        assert body["error"] == "validation_error"
        assert body["message"] == "Malformed JSON in request body"
        assert body["details"][0].startswith("JSON parse error")
        self.assert_unchanged(product)

    @pytest.mark.parametrize("payload", ["[]", '"45"', "45", "null"])
    def test_json_that_is_not_an_object_is_a_validation_error(self, api, product, payload):
        response = self.patch(api, payload)

        assert response.status_code == 400
        assert response.json()["error"] == "validation_error"
        self.assert_unchanged(product)

    def test_non_utf8_body_is_a_validation_error(self, api, product):
        response = self.patch(api, b'{"quantity": "\xff\xfe"}')

        assert response.status_code == 400
        assert response.json()["error"] == "validation_error"
        self.assert_unchanged(product)

    @pytest.mark.parametrize(
        "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
    )
    def test_wrong_content_type_is_unsupported_media_type(self, api, product, content_type):
        response = self.patch(api, "quantity=45", content_type=content_type)

        assert response.status_code == 415
        assert response.json() == {
            "error": "unsupported_media_type",
            "message": "Request body must be JSON: send 'Content-Type: application/json'.",
        }
        self.assert_unchanged(product)

    @pytest.mark.parametrize(
        ("method_path", "payload"),
        [("PATCH inventory", p) for p in ["null", "[]", '"45"', "45", "true"]]
        + [("POST /v1/orders", "null")],  # orders said so already for the others
    )
    def test_a_body_that_is_not_an_object_is_asked_to_be_one(
        self, api, product, payload, method_path
    ):
        method, path = method_path.split(" ")
        path = "/v1/inventory/GPU-NV-4090-MSI-001" if path == "inventory" else path

        response = api.generic(method, path, payload, content_type="application/json")

        assert response.status_code == 400
        assert response.json() == {
            "error": "validation_error",
            "message": "Invalid request body",
            "details": ["Request body must be a JSON object"],
        }
        self.assert_unchanged(product)


def test_error_details_of_any_depth_are_flattened_without_recursion():
    # Deeper than Python's recursion limit: the walk is iterative, so any shape is safe.
    detail = {"a": [ErrorDetail("is wrong", code="invalid")]}
    for _ in range(3000):
        detail = {"a": detail}

    assert flatten_errors(detail) == [f"Field '{'.'.join(['a'] * 3001)}' is wrong"]
