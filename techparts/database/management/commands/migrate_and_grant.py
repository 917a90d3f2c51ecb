import os
import subprocess
import sys

import dj_database_url
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Apply migrations for a deploy (`make serve`). With DATABASE_OWNER_URL set, migrate as "
        "that role, which owns the tables, then grant DATABASE_URL's role what the app needs "
        "(grant_app_role): the app then cannot truncate, update or delete the stock ledger. "
        "Without it, a plain migrate as DATABASE_URL's role."
    )
    requires_system_checks = []

    def handle(self, *args, verbosity: int, **options):
        owner_url = settings.DATABASE_OWNER_URL
        if not owner_url:
            call_command("migrate", interactive=False, verbosity=verbosity)
            return
        app = settings.DATABASES["default"]
        owner = dj_database_url.parse(owner_url)
        if app["ENGINE"] != "techparts.database.postgresql" or not owner["ENGINE"].endswith(
            "postgresql"
        ):
            raise CommandError("DATABASE_OWNER_URL needs PostgreSQL in both URLs.")
        if owner["NAME"] != app["NAME"]:
            raise CommandError(
                f"DATABASE_OWNER_URL names database {owner['NAME']!r}, "
                f"DATABASE_URL {app['NAME']!r}: they must be the same database."
            )
        if owner["USER"] == app["USER"]:
            raise CommandError("DATABASE_OWNER_URL and DATABASE_URL must use different roles.")
        # Each step in its own process whose only database is the owner's: nothing in a
        # migration (data migrations, post-migrate signals) can reach the app role's connection.
        env = {**os.environ, "DATABASE_URL": owner_url}
        env.pop("DATABASE_OWNER_URL")
        manage = str(settings.BASE_DIR / "manage.py")
        for step in (["migrate", "--noinput"], ["grant_app_role", app["USER"]]):
            result = subprocess.run(  # noqa: S603 - our own manage.py, no shell
                [sys.executable, manage, *step, f"--verbosity={verbosity}"], env=env, check=False
            )
            if result.returncode:
                raise CommandError(f"{' '.join(step)} as the owner role failed.")
