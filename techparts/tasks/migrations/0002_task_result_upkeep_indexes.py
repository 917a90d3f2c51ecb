"""Indexes for the sweeper's upkeep of django-tasks-db's task results.

Pruning finished results and finding results left running by a dead worker run every sweep;
without these they would scan the whole table. Partial, so they cost nothing for ready rows.
"""

from django.db import migrations

FINISHED = "techparts_tasks_result_finished_idx"
RUNNING = "techparts_tasks_result_running_idx"
TABLE = "django_tasks_database_dbtaskresult"


class Migration(migrations.Migration):
    dependencies = [
        ("techparts_tasks", "0001_sweep_schedule"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX {FINISHED} ON {TABLE} (finished_at)"
            " WHERE status IN ('SUCCESSFUL', 'FAILED')",
            f"DROP INDEX {FINISHED}",
        ),
        migrations.RunSQL(
            f"CREATE INDEX {RUNNING} ON {TABLE} (started_at) WHERE status = 'RUNNING'",
            f"DROP INDEX {RUNNING}",
        ),
    ]
