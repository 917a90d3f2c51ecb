"""Move the test database back and forth through migrations, for tests of data migrations."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(targets: list[tuple[str, str]]) -> Apps:
    """Migrate to `targets` and return the models as they were there."""
    executor = MigrationExecutor(connection)  # a fresh graph: the database may have moved on
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_to_latest() -> None:
    """Migrate every app to its latest migration, where the current models apply."""
    migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())


@contextmanager
def migrated_back_to(targets: list[tuple[str, str]]) -> Iterator[Apps]:
    """Migrate back to `targets`, yield the models of that time, then migrate to the latest."""
    try:
        yield migrate_to(targets)
    finally:
        migrate_to_latest()
