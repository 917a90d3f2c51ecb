from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from techparts.apikeys.scopes import ALL_SCOPES, parse_scopes
from techparts.apikeys.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key and print it (its full text is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="What the key is for.")
        parser.add_argument(
            "--owner", help="Integrator account name (reported as updated_by); default: --name."
        )
        parser.add_argument(
            "--scopes",
            required=True,
            help=f"Comma-separated scopes, or 'all'. Known: {','.join(ALL_SCOPES)}",
        )
        parser.add_argument("--expires-in-days", type=int, help="Expire after this many days.")

    def handle(self, *args, name, owner, scopes, expires_in_days, **options):
        try:
            scope_list = ALL_SCOPES if scopes == "all" else parse_scopes(scopes)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not scope_list:
            raise CommandError("Give at least one scope.")
        expires_at = None
        if expires_in_days is not None:
            if expires_in_days <= 0:
                raise CommandError("--expires-in-days must be positive")
            expires_at = timezone.now() + timedelta(days=expires_in_days)
        key, full_key = api_key_create(
            name=name, owner=owner or name, scopes=scope_list, expires_at=expires_at
        )
        self.stderr.write(
            f"Created API key {key.display_prefix} for owner '{key.owner}' with scopes "
            f"{', '.join(key.scopes)}. Store it now: it cannot be shown again."
        )
        self.stdout.write(full_key)
