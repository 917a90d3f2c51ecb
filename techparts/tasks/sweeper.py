"""The sweeper's hooks: periodic upkeep registered by the apps that need it.

django-tasks-db has no periodic tasks and no retries, and leaves a task killed mid-run marked
running for ever. So every piece of work that must not be lost is a row with a lease (a
delivery, for instance), and a hook registered here re-arms what a dead worker left behind,
starts what is due, and prunes what is old. The sweep task runs every hook in turn.
"""

import logging
from collections.abc import Callable
from datetime import datetime

logger = logging.getLogger(__name__)

SweepHook = Callable[[datetime], int]
_HOOKS: dict[str, SweepHook] = {}


def sweep_hook(name: str) -> Callable[[SweepHook], SweepHook]:
    """Register `hook(now) -> rows handled` to run on every sweep, under a unique `name`."""

    def register(hook: SweepHook) -> SweepHook:
        if _HOOKS.get(name, hook) is not hook:
            raise ValueError(f"sweep hook {name!r} is already registered")
        _HOOKS[name] = hook
        return hook

    return register


def sweep_hooks() -> dict[str, SweepHook]:
    """Return the registered hooks by name, in registration order."""
    return dict(_HOOKS)


def run_sweep(now: datetime) -> dict[str, int]:
    """Run every hook once; a failing hook is logged and does not stop the others."""
    handled: dict[str, int] = {}
    for name, hook in _HOOKS.items():
        try:
            handled[name] = hook(now)
        except Exception:
            logger.exception("sweep hook %s failed", name)
            handled[name] = -1
    return handled
