"""Every API failure, from any layer, is the one JSON envelope: never HTML, never internals."""

import logging

import pytest
from django.test import Client

import catalog.views
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

    monkeypatch.setattr(catalog.views, "product_list", broken)

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
