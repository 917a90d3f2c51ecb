"""Rate limits and admin login lockouts hold across app processes, without Redis.

Each test starts three gunicorn servers (one worker each, so three processes for certain) on
one database, with no REDIS_URL, and spreads requests over them: the limits must count as one.
SQLite runs on a file the servers share (the test database is in memory and cannot be shared);
PostgreSQL runs on the test database.
"""

import http.client
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from tests.conftest import ON_POSTGRES
from tests.factories import UserFactory
from tests.servers import gunicorn_servers, manage
from tests.techparts.test_production import PRODUCTION_ENV

PASSWORD = "correct-horse-battery-staple"
LOGIN = "/admin/login/?next=/admin/"


def _server_env(database_url: str) -> dict[str, str]:
    return {
        **PRODUCTION_ENV,
        "HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        # A day-long window, so the burst never straddles two windows.
        "API_RATE_LIMIT_READ": "10/day",
        "ADMIN_LOGIN_MAX_FAILURES": "5",
    }


def _request(port: int, method: str, path: str, headers=None, body=None, timeout: float = 30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        conn.close()


def _read_statuses(ports: list[int], key: str, count: int) -> list[int]:
    """Send `count` reads at once, spread over the servers; return their statuses."""
    headers = {"Authorization": f"Bearer {key}"}

    def read(i: int) -> int:
        return _request(ports[i % len(ports)], "GET", "/v1/products", headers)[0]

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(read, range(count)))


def _admin_login(port: int, username: str, password: str) -> int:
    """Post the admin login form to one server (with its CSRF token); return the status."""
    _, headers, page = _request(port, "GET", LOGIN)
    cookie = next(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = f"csrfmiddlewaretoken={token}&username={username}&password={password}&next=/admin/"
    status, _, _ = _request(
        port,
        "POST",
        LOGIN,
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        body,
    )
    return status


def _assert_limits_are_shared(ports: list[int], key: str) -> None:
    statuses = _read_statuses(ports, key, 30)
    assert Counter(statuses) == {200: 10, 429: 20}

    # Five failures spread over the three processes lock the username from this address...
    failures = [_admin_login(ports[i % 3], "clerk", "wrong") for i in range(5)]
    assert failures == [200, 200, 200, 200, 429]
    # ...on every process, for the right password too; another account is not affected.
    assert [_admin_login(port, "clerk", PASSWORD) for port in ports] == [429, 429, 429]
    assert _admin_login(ports[1], "other", PASSWORD) == 302


@pytest.mark.skipif(ON_POSTGRES, reason="the SQLite variant runs in the SQLite pass")
def test_limits_hold_across_processes_on_a_sqlite_file(tmp_path):
    env = _server_env(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    _run(env, "migrate", "--noinput", "-v0")
    output = _run(env, "create_api_key", "--name", "t", "--owner", "o", "--scopes", "products:read")
    key = output.strip().splitlines()[-1]
    for username in ["clerk", "other"]:
        _run(
            {**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
            *("createsuperuser", "--noinput", "--username", username, "--email", "a@b.example"),
        )

    with gunicorn_servers(env, count=3) as ports:
        _assert_limits_are_shared(ports, key)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_limits_hold_across_processes_on_postgresql(make_api_key):
    db = connection.settings_dict
    env = _server_env(
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )
    _, key = make_api_key(scopes=["products:read"])
    # The servers run production's password hasher, not the suite's fast one.
    hasher = PBKDF2PasswordHasher()
    for username in ["clerk", "other"]:
        user = UserFactory(username=username, is_superuser=True)
        user.password = hasher.encode(PASSWORD, hasher.salt())
        user.save(update_fields=["password"])

    with gunicorn_servers(env, count=3) as ports:
        _assert_limits_are_shared(ports, key)


def _run(env: dict[str, str], *args: str) -> str:
    result = manage(env, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout
