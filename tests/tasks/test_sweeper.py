"""The sweeper's hook registry: unique names, and one failing hook never stops the others."""

import logging
from datetime import UTC, datetime

import pytest

from techparts.tasks import sweeper


@pytest.fixture(autouse=True)
def own_registry(monkeypatch):
    """These tests register hooks of their own; the app's registry is left as it was."""
    monkeypatch.setattr(sweeper, "_HOOKS", {})


def test_every_hook_runs_with_the_sweeps_time_and_a_failing_one_is_logged(caplog):
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    seen = []

    @sweeper.sweep_hook("first")
    def first(when):
        seen.append(("first", when))
        return 3

    @sweeper.sweep_hook("broken")
    def broken(when):
        raise RuntimeError("boom")

    @sweeper.sweep_hook("last")
    def last(when):
        seen.append(("last", when))
        return 0

    with caplog.at_level(logging.ERROR, logger="techparts.tasks.sweeper"):
        handled = sweeper.run_sweep(now)

    assert handled == {"first": 3, "broken": -1, "last": 0}
    assert seen == [("first", now), ("last", now)]
    assert [record.getMessage() for record in caplog.records] == ["sweep hook broken failed"]


def test_a_name_is_registered_once_and_registering_the_same_hook_again_is_harmless():
    def hook(when):
        return 0

    sweeper.sweep_hook("one")(hook)
    sweeper.sweep_hook("one")(hook)  # an app's ready() imported twice

    with pytest.raises(ValueError, match="'one' is already registered"):
        sweeper.sweep_hook("one")(lambda when: 1)
    assert sweeper.sweep_hooks() == {"one": hook}


def test_the_apps_register_the_built_in_hooks(monkeypatch):
    monkeypatch.undo()  # the app's own registry

    assert {"tasks.prune_results", "tasks.fail_lost", "events.prune", "idempotency.purge"} <= set(
        sweeper.sweep_hooks()
    )
