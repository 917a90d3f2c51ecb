from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from psycopg import sql

# Models the app may append to and read, never rewrite or empty. Named by label: techparts is
# the bottom layer and imports no app (docs/architecture.md).
APPEND_ONLY_MODELS = ["inventory.StockMovement"]


def append_only_tables() -> list[str]:
    """Return the database tables of the append-only models."""
    return [apps.get_model(label)._meta.db_table for label in APPEND_ONLY_MODELS]


class Command(BaseCommand):
    help = (
        "Grant the app's database role what the app needs and no more (PostgreSQL; run as the "
        "role that owns the tables, after every migrate): SELECT, INSERT, UPDATE, DELETE on "
        "every table, now and created later by this owner; on the stock ledger only SELECT "
        "and INSERT. Idempotent."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("role", help="The role the app connects as (DATABASE_URL's user).")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, role: str, database: str, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError("Database roles need PostgreSQL.")
        with transaction.atomic(using=database), connection.cursor() as cursor:
            self._check_roles(cursor, role)
            cursor.execute("SELECT current_schema()")
            (schema,) = cursor.fetchone()
            raw = connection.connection
            names = {
                "role": sql.Identifier(role).as_string(raw),
                "schema": sql.Identifier(schema).as_string(raw),
            }
            statements = [
                "GRANT USAGE ON SCHEMA {schema} TO {role}",
                # Start from nothing, so a broader grant made by hand does not survive.
                "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
                "REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
                "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
                # Tables and sequences that later migrations create (as this owner) too.
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON TABLES FROM {role}",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}"
                " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON SEQUENCES FROM {role}",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}"
                " GRANT USAGE, SELECT ON SEQUENCES TO {role}",
            ]
            for table in append_only_tables():
                ledger = sql.Identifier(table).as_string(raw)
                statements += [
                    f"REVOKE ALL ON {ledger} FROM PUBLIC, {{role}}",
                    f"GRANT SELECT, INSERT ON {ledger} TO {{role}}",
                ]
            for statement in statements:
                cursor.execute(statement.format(**names))
        self.stdout.write(
            f"Granted role {role!r} read/write on schema {schema!r} (current and future tables), "
            f"append-only on {', '.join(append_only_tables())}."
        )

    def _check_roles(self, cursor, role: str) -> None:
        # Refuse an app role that could undo the point: a superuser, or one that is (or may
        # act as) the tables' owner, can disable the ledger's triggers or grant itself more.
        cursor.execute(
            "SELECT r.rolsuper, pg_has_role(r.oid, c.relowner, 'MEMBER'),"
            " pg_has_role(current_user, c.relowner, 'USAGE'), c.relowner::regrole::text"
            " FROM pg_roles r, pg_class c WHERE r.rolname = %s AND c.oid = %s::regclass",
            [role, append_only_tables()[0]],
        )
        row = cursor.fetchone()
        if row is None:
            raise CommandError(f"There is no role {role!r}; create it first (CREATE ROLE).")
        superuser, acts_as_owner, caller_is_owner, owner = row
        if not caller_is_owner:
            raise CommandError(
                f"Run this as the role that owns the tables ({owner}), e.g. with "
                "DATABASE_URL set to DATABASE_OWNER_URL."
            )
        if superuser:
            raise CommandError(f"Role {role!r} is a superuser; the app role must not be one.")
        if acts_as_owner:
            raise CommandError(
                f"Role {role!r} is or may act as the tables' owner {owner}; give the app its "
                "own role that is not a member of the owner."
            )
