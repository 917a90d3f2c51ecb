"""The task queue's settings from the environment: the backend switch and the sweeper's numbers."""

import json
import os
import subprocess
import sys

from tests.servers import ROOT

NAMES = [
    "TASKS",
    "RQ_QUEUES",
    "TASKS_SWEEP_INTERVAL_SECONDS",
    "TASK_RESULTS_RETENTION_DAYS",
    "TASKS_LOST_AFTER_SECONDS",
]


def task_settings(**env: str) -> dict | str:
    """Load the production settings with `env` in a fresh process; return ours or the error."""
    code = (
        "import json; from django.conf import settings as s; "
        f"values = {{name: getattr(s, name, None) for name in {NAMES!r}}}; "
        "values['rq_apps'] = [a for a in s.INSTALLED_APPS if 'rq' in a]; "
        "print(json.dumps(values))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "techparts.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return json.loads(result.stdout) if result.returncode == 0 else result.stderr


def test_by_default_tasks_run_from_the_database_with_the_documented_upkeep_numbers():
    assert task_settings() == {
        "TASKS": {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}},
        "RQ_QUEUES": None,
        "TASKS_SWEEP_INTERVAL_SECONDS": 15,
        "TASK_RESULTS_RETENTION_DAYS": 7,
        "TASKS_LOST_AFTER_SECONDS": 900,
        "rq_apps": [],
    }


def test_rq_runs_tasks_from_redis_at_redis_url():
    loaded = task_settings(
        TASKS_BACKEND="rq", REDIS_URL="redis://cache:6379/0", TASKS_SWEEP_INTERVAL_SECONDS="5"
    )

    assert loaded["TASKS"] == {
        "default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}
    }
    assert loaded["RQ_QUEUES"] == {
        "default": {"URL": "redis://cache:6379/0", "DEFAULT_TIMEOUT": 600}
    }
    assert loaded["rq_apps"] == ["django_rq", "django_tasks_rq"]
    assert loaded["TASKS_SWEEP_INTERVAL_SECONDS"] == 5


def test_a_wrong_backend_rq_without_redis_or_a_zero_interval_is_refused():
    assert "TASKS_BACKEND must be 'db' or 'rq', not 'celery'" in task_settings(
        TASKS_BACKEND="celery"
    )
    assert "TASKS_BACKEND=rq needs REDIS_URL" in task_settings(TASKS_BACKEND="rq")
    assert "TASKS_SWEEP_INTERVAL_SECONDS must be at least 1" in task_settings(
        TASKS_SWEEP_INTERVAL_SECONDS="0"
    )
