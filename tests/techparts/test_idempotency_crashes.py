"""A retried write is applied once, whatever dies and wherever: real gunicorn processes.

Every write that takes an `Idempotency-Key` (order create, cancel, inventory PATCH, bulk) is
sent to a real gunicorn (two sync workers, on the test database) and interrupted in one of
the two windows a crash can hit, with a test-only hook holding the window open:

(a) after the action's writes, before COMMIT: a trigger the test installs on the idempotency
    record table (written after the action, in the same transaction) waits while the
    request's key is listed in `test_crash_hold`;
(b) after COMMIT, before the answer reaches the client: tests.crash_window (installed by
    tests.settings_crash only) waits after the view returned while a file exists.

In each window either the gunicorn worker serving the request is SIGKILLed, or its database
connection is terminated (`pg_terminate_backend`); one test also runs a `manage.py db_worker`
delivering the events to a real webhook receiver. Then the client retries with the same key:
after (a) the write applies once, after (b) the retry replays the first answer; in both the
database shows one application (orders, stock, ledger rows, events).

The servers run with DB_POOL=false (a connection per request), so a terminated connection is
the interrupted request's alone: what a pool does with a connection terminated while idle is
tested with the pool itself.
"""

import json
import os
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.db import connection

from techparts.events.models import Event
from tests.factories import WebhookEndpointFactory
from tests.servers import gunicorn_servers
from tests.techparts.idempotency_cases import CASES, applied_once, make_world, world
from tests.webhooks.receivers import Receiver, verified
from tests.workers import db_workers, wait_until, worker_env
from webhooks.models import Delivery

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HOLD_TRIGGER = """
CREATE TABLE IF NOT EXISTS test_crash_hold (key text PRIMARY KEY);
CREATE OR REPLACE FUNCTION test_crash_hold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WHILE EXISTS (SELECT 1 FROM test_crash_hold WHERE key = NEW.key) LOOP
        PERFORM pg_sleep(0.02);
    END LOOP;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS test_crash_hold ON idempotency_idempotencyrecord;
CREATE TRIGGER test_crash_hold BEFORE INSERT ON idempotency_idempotencyrecord
    FOR EACH ROW EXECUTE FUNCTION test_crash_hold();
"""
DROP_HOLD_TRIGGER = """
DROP TRIGGER IF EXISTS test_crash_hold ON idempotency_idempotencyrecord;
DROP FUNCTION IF EXISTS test_crash_hold();
DROP TABLE IF EXISTS test_crash_hold;
"""


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    """One gunicorn (two workers) with the crash hooks, for the whole module: its base URL."""
    folder = tmp_path_factory.mktemp("crash")
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute(HOLD_TRIGGER)
        env = worker_env(
            DJANGO_SETTINGS_MODULE="tests.settings_crash",
            TEST_CRASH_DIR=str(folder),
            DB_POOL="false",
            CONN_MAX_AGE="0",
        )
        try:
            with gunicorn_servers(env, 1, workers=2) as [port]:
                yield Server(f"http://127.0.0.1:{port}", folder)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM test_crash_hold")
            _wait_for_no_held_backend()
            with connection.cursor() as cursor:
                cursor.execute(DROP_HOLD_TRIGGER)


class Server:
    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder

    def send(self, raw_key, write, key, token="", timeout=30):
        headers = {"Authorization": f"Bearer {raw_key}", "Idempotency-Key": key}
        if token:
            headers["X-Test-Crash-Token"] = token
        data = None
        if write.body is not None:
            data = json.dumps(write.body)
            headers["Content-Type"] = "application/json"
        return requests.request(
            write.method, self.url + write.path, data=data, headers=headers, timeout=timeout
        )

    def worker_pid(self, token: str) -> int:
        path = self.folder / f"{token}.pid"
        return int(wait_until(lambda: path.exists() and path.read_text(), what="the pid file"))


def _query(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _held_backend() -> int | None:
    """The backend waiting in the hold trigger, after its action's writes (window a)."""
    rows = _query(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event = 'PgSleep' AND query LIKE 'INSERT INTO \"idempotency_idempotencyrecord\"%%'"
    )
    return rows[0][0] if rows else None


def _wait_for_no_held_backend() -> None:
    wait_until(lambda: _held_backend() is None, what="the held transaction to end")


def _terminate_connections_of(worker_pid: int) -> None:
    rows = _query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
        [f"crash-{worker_pid}"],
    )
    assert rows and all(ok for (ok,) in rows)


def _interrupt(how: str, worker_pid: int) -> None:
    if how == "kill":
        os.kill(worker_pid, signal.SIGKILL)
    else:
        _terminate_connections_of(worker_pid)


def _retry(server, raw_key, write, key):
    """Retry as a client following docs/sync.md does: a 409 `conflict` means "retry shortly"."""

    def answered():
        response = server.send(raw_key, write, key)
        return None if response.status_code == 409 else response

    return wait_until(answered, interval=0.2, what="an answer other than 409")


@pytest.mark.parametrize("how", ["kill", "terminate"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_interrupted_after_the_writes_before_commit_the_retry_applies_once(server, api, case, how):
    write = case.write(make_world(api))
    before = world()
    key = token = f"a-{uuid.uuid4().hex[:12]}"
    _query("INSERT INTO test_crash_hold (key) VALUES (%s)", [key])

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(server.send, api.raw_key, write, key, token)
        wait_until(_held_backend, what="the request to reach window (a)")
        _interrupt(how, server.worker_pid(token))
        _query("DELETE FROM test_crash_hold WHERE key = %s", [key])
        if how == "kill":
            with pytest.raises(requests.ConnectionError):
                first.result()
        else:
            assert first.result().status_code >= 500
    _wait_for_no_held_backend()

    assert world() == before
    retry = _retry(server, api.raw_key, write, key)
    assert retry.status_code == case.status, retry.text
    assert "Idempotent-Replayed" not in retry.headers
    assert world() == applied_once(before, case)
    again = server.send(api.raw_key, write, key)
    assert (again.status_code, again.json()) == (case.status, retry.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert world() == applied_once(before, case)


@pytest.mark.parametrize("how", ["kill", "terminate"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_interrupted_after_commit_before_the_answer_the_retry_replays_it(server, api, case, how):
    write = case.write(make_world(api))
    before = world()
    key = token = f"b-{uuid.uuid4().hex[:12]}"
    hold = server.folder / f"{token}.hold"
    hold.touch()

    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            first = pool.submit(server.send, api.raw_key, write, key, token)
            wait_until((server.folder / f"{token}.held").exists, what="window (b)")
            assert world() == applied_once(before, case)  # committed, not yet answered
            _interrupt(how, server.worker_pid(token))
            hold.unlink()
            if how == "kill":
                with pytest.raises(requests.ConnectionError):
                    first.result()
                first_body = None
            else:  # the answer was complete before the connection went
                assert first.result().status_code == case.status
                first_body = first.result().json()
    finally:
        hold.unlink(missing_ok=True)

    retry = _retry(server, api.raw_key, write, key)
    assert retry.status_code == case.status, retry.text
    assert retry.headers["Idempotent-Replayed"] == "true"
    stored = _query("SELECT response_body FROM idempotency_idempotencyrecord WHERE key = %s", [key])
    assert retry.json() == json.loads(stored[0][0])
    if first_body is not None:
        assert retry.json() == first_body
    assert world() == applied_once(before, case)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_second_request_with_the_key_in_flight_gets_409_at_once(server, api, case):
    write = case.write(make_world(api))
    before = world()
    key = token = f"c-{uuid.uuid4().hex[:12]}"
    _query("INSERT INTO test_crash_hold (key) VALUES (%s)", [key])

    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            first = pool.submit(server.send, api.raw_key, write, key, token)
            wait_until(_held_backend, what="the first request to hold its locks")
            # The first request holds its stock row locks: a second one that waited on them
            # would time out here.
            second = server.send(api.raw_key, write, key, timeout=10)
        finally:
            _query("DELETE FROM test_crash_hold WHERE key = %s", [key])
        first = first.result()

    assert second.status_code == 409
    assert second.json()["error"] == "conflict"
    assert second.headers["Retry-After"] == "1"
    assert first.status_code == case.status, first.text
    assert world() == applied_once(before, case)
    replay = server.send(api.raw_key, write, key)
    assert (replay.status_code, replay.json()) == (case.status, first.json())
    assert replay.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_with_a_worker_delivering_webhooks_the_retried_write_is_delivered_once(
    server, api, case, settings
):
    """The killed attempt's events rolled back with it: a real `manage.py db_worker` delivers
    the events of one application, each once, to a real receiver."""
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    write = case.write(make_world(api))
    before = world()
    key = token = f"w-{uuid.uuid4().hex[:12]}"
    with Receiver() as receiver, db_workers(worker_env(WEBHOOKS_ALLOW_LOOPBACK="true"), 1):
        # Made after the world: it receives this case's events only (api_user_12345's own).
        endpoint = WebhookEndpointFactory(owner="api_user_12345", url=receiver.url)
        _query("INSERT INTO test_crash_hold (key) VALUES (%s)", [key])
        with ThreadPoolExecutor(max_workers=1) as pool:
            first = pool.submit(server.send, api.raw_key, write, key, token)
            wait_until(_held_backend, what="the request to reach window (a)")
            _interrupt("kill", server.worker_pid(token))
            _query("DELETE FROM test_crash_hold WHERE key = %s", [key])
            with pytest.raises(requests.ConnectionError):
                first.result()
        _wait_for_no_held_backend()

        retry = _retry(server, api.raw_key, write, key)
        assert retry.status_code == case.status, retry.text
        expected = case.once["events"]
        wait_until(
            lambda: (
                Delivery.objects.filter(endpoint=endpoint, status="succeeded").count() == expected
            ),
            seconds=60,
            what="the worker to deliver the retried write's events",
        )

    assert world() == applied_once(before, case)
    recorded = set(
        Event.objects.filter(pk__in=Delivery.objects.values("event_id")).values_list(
            "public_id", flat=True
        )
    )
    received = [verified(request, endpoint.plain_secret)["id"] for request in receiver.requests]
    assert sorted(received) == sorted(recorded)  # each event of the one application, once
    assert len(received) == expected
