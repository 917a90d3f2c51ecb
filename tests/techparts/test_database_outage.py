"""A database that cannot be reached answers 503 `service_unavailable` with Retry-After.

From every layer: a DRF view, the API key lookup, and paths outside DRF (a middleware, the
admin's session user). Ordinary database errors stay what they are. The errors are raised
as Django raises them: its own class, with the driver's error as the cause.
"""

import sqlite3
import time

import psycopg
import pytest
from django.contrib import auth
from django.db import IntegrityError, OperationalError, connection
from django.test import Client
from psycopg_pool import PoolTimeout

import shop.views
import techparts.api.authentication
from techparts.database.postgresql.base import DatabaseWrapper

pytestmark = pytest.mark.django_db

ENVELOPE = {
    "error": "service_unavailable",
    "message": "The service is temporarily unavailable. Retry in 5 seconds.",
}


def django_error(error_class, cause: Exception) -> Exception:
    """Return `cause` re-raised as Django's `error_class`, as Django's error wrapper does."""
    try:
        raise error_class(*cause.args) from cause
    except error_class as wrapped:
        return wrapped


def connection_lost() -> Exception:
    return django_error(
        OperationalError,
        psycopg.OperationalError("server closed the connection unexpectedly at 10.0.0.5:5432"),
    )


def pool_timeout() -> Exception:
    return django_error(OperationalError, PoolTimeout("couldn't get a connection after 10.00 sec"))


def raising(error: Exception):
    def fail(*args, **kwargs):
        raise error

    return fail


def assert_service_unavailable(response) -> None:
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "5"
    assert response.json() == ENVELOPE


@pytest.mark.parametrize("error", [connection_lost, pool_timeout])
def test_a_view_that_cannot_reach_the_database_answers_503(api, monkeypatch, error):
    monkeypatch.setattr(shop.views, "product_list", raising(error()))

    response = api.get("/v1/products")

    assert_service_unavailable(response)
    assert "10.0.0.5" not in response.content.decode()


@pytest.mark.parametrize("error", [connection_lost, pool_timeout])
def test_an_api_key_lookup_that_cannot_reach_the_database_answers_503(
    api_client, monkeypatch, error
):
    monkeypatch.setattr(techparts.api.authentication, "api_key_authenticate", raising(error()))
    api_client.credentials(HTTP_AUTHORIZATION="Bearer tp_0123abcd_secret")

    response = api_client.get("/v1/products")

    assert_service_unavailable(response)


@pytest.mark.parametrize(
    "error",
    [
        lambda: IntegrityError("duplicate key value violates unique constraint"),
        # A lock timeout is the database answering, not the database gone.
        lambda: django_error(OperationalError, psycopg.errors.LockNotAvailable("lock timeout")),
        lambda: django_error(OperationalError, sqlite3.OperationalError("database is locked")),
    ],
    ids=["integrity", "lock-timeout", "sqlite-locked"],
)
def test_ordinary_database_errors_stay_internal_errors(api, monkeypatch, error):
    monkeypatch.setattr(shop.views, "product_list", raising(error()))

    response = api.get("/v1/products")

    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert "Retry-After" not in response


class DatabaseDownMiddleware:
    """Stands for any middleware that reads the database before the view runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise connection_lost()


@pytest.fixture
def database_down_before_the_view(settings):
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "tests.techparts.test_database_outage.DatabaseDownMiddleware",
    ]
    return Client(raise_request_exception=False)


def test_a_middleware_that_cannot_reach_the_database_answers_the_api_with_503(
    database_down_before_the_view,
):
    response = database_down_before_the_view.get("/v1/products")

    assert_service_unavailable(response)
    assert response["X-Request-ID"]


def test_a_page_outside_the_api_answers_503_in_html(database_down_before_the_view):
    response = database_down_before_the_view.get("/admin/")

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "5"
    assert "Service Unavailable" in response.content.decode()


def test_an_admin_page_whose_session_user_cannot_be_loaded_answers_503(monkeypatch):
    # The session user is read before the admin view and again for the request log line.
    monkeypatch.setattr(auth, "get_user", raising(connection_lost()))
    client = Client(raise_request_exception=False)

    response = client.get("/admin/inventory/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["X-Request-ID"]  # the request was still logged


def test_the_schema_documents_503_with_retry_after_on_every_operation(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            answer = operation["responses"].get("503")
            assert answer, f"{method.upper()} {path}"
            assert "Retry-After" in answer["headers"]
            media = answer["content"]["application/json"]
            assert media["schema"] == {"$ref": "#/components/schemas/Error"}
            assert media["examples"]["ServiceUnavailable"]["value"] == ENVELOPE


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_that_breaks_mid_request_is_not_lent_again():
    alias = "pool_outage_test"
    settings_dict = {
        **connection.settings_dict,
        "OPTIONS": {
            **connection.settings_dict["OPTIONS"],
            "application_name": alias,
            "pool": {"min_size": 1, "max_size": 2, "timeout": 5, "reconnect_timeout": 2},
        },
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": True,
    }
    wrapper = DatabaseWrapper(settings_dict, alias=alias)
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        # The server ends this session (as a restart or a failover would) mid-request.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        with pytest.raises(OperationalError), wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
        wrapper.close()  # the end of the request: Django gives the connection back

        # The next requests get working connections, without waiting on a dead one first
        # (a dead connection lent and refused by the check costs a pause of about 1 s).
        started = time.monotonic()
        for _ in range(3):
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                assert cursor.fetchone()[0] != pid
            wrapper.close()
        assert time.monotonic() - started < 0.9
    finally:
        wrapper.close()
        wrapper.close_pool()
