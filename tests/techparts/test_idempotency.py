"""One transaction for claim, action and answer: what a refusal or a failure leaves behind.

Each write that takes an `Idempotency-Key` is sent with its service wrapped so that it writes
first and fails afterwards, as a refusal found late (or a bug) would. The crash tests with
real processes are in test_idempotency_crashes.py.
"""

import json

import pytest

from techparts.errors import Conflict
from techparts.idempotency.models import IdempotencyRecord
from tests.techparts.idempotency_cases import CASES, applied_once, make_world, send, world

pytestmark = pytest.mark.django_db


def fail_after_writing(monkeypatch, case, error: Exception) -> None:
    """Make the case's view run its real service, then raise `error`."""
    module, name = case.service.rsplit(".", 1)
    real = getattr(__import__(module, fromlist=[name]), name)

    def writes_then_fails(*args, **kwargs):
        real(*args, **kwargs)
        raise error

    monkeypatch.setattr(case.service, writes_then_fails)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_refusal_raised_after_a_first_write_leaves_no_row_and_is_replayed(api, monkeypatch, case):
    write = case.write(make_world(api))
    before = world()
    fail_after_writing(monkeypatch, case, Conflict("Refused after a first write."))

    first = send(api, write, "late-refusal")

    assert first.status_code == 409, first.content
    assert first.json() == {"error": "conflict", "message": "Refused after a first write."}
    assert world() == before
    monkeypatch.undo()  # the service would now succeed: the retry must still replay
    retry = send(api, write, "late-refusal")
    assert retry.status_code == 409
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert world() == before
    record = IdempotencyRecord.objects.get(key="late-refusal")
    assert (record.response_status, json.loads(record.response_body)) == (409, first.json())


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_server_error_after_a_first_write_stores_nothing_and_the_retry_applies_once(
    api, monkeypatch, case
):
    write = case.write(make_world(api))
    before = world()
    fail_after_writing(monkeypatch, case, RuntimeError("crashed after a first write"))

    first = send(api, write, "late-crash")

    assert first.status_code == 500
    assert first.json()["error"] == "internal_error"
    assert world() == before
    assert not IdempotencyRecord.objects.filter(key="late-crash").exists()
    monkeypatch.undo()
    retry = send(api, write, "late-crash")
    again = send(api, write, "late-crash")
    assert retry.status_code == case.status, retry.content
    assert "Idempotent-Replayed" not in retry
    assert (again.status_code, again.json(), again["Idempotent-Replayed"]) == (
        case.status,
        retry.json(),
        "true",
    )
    assert world() == applied_once(before, case)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_retry_replays_the_answer_and_applies_nothing_again(api, case):
    write = case.write(make_world(api))
    before = world()

    first = send(api, write, "once")
    retry = send(api, write, "once")

    assert first.status_code == retry.status_code == case.status, first.content
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert world() == applied_once(before, case)
