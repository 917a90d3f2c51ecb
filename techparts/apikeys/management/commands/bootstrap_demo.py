import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from techparts.apikeys.models import ApiKey
from techparts.apikeys.scopes import ALL_SCOPES
from techparts.apikeys.services import api_key_authenticate, api_key_create, api_key_revoke

CREDENTIALS_FILE = Path(settings.BASE_DIR) / "var" / "demo-credentials.json"
DEMO_OWNER = "api_user_12345"


class Command(BaseCommand):
    help = (
        "Create (or reuse) the local demo admin login and an all-scopes demo API key, and print "
        "both. For `make run` on a developer machine only; the credentials are kept in "
        "var/demo-credentials.json (git-ignored) so later runs reuse them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="Where the server will listen."
        )

    def handle(self, *args, base_url: str, **options):
        base_url = base_url.rstrip("/")
        saved = self._load()
        username, password = self._admin(saved)
        api_key = self._api_key(saved)
        CREDENTIALS_FILE.parent.mkdir(parents=True, exist_ok=True)
        CREDENTIALS_FILE.write_text(
            json.dumps({"username": username, "password": password, "api_key": api_key})
        )
        CREDENTIALS_FILE.chmod(0o600)
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"Admin:    {base_url}/admin/",
                    f"  user:     {username}",
                    f"  password: {password}",
                    f"API key ({DEMO_OWNER}, all scopes):",
                    f"  {api_key}",
                    "Try:",
                    f'  curl -H "Authorization: Bearer {api_key}" '
                    f"{base_url}/v1/products/PROD-4090-MSI-001",
                    "",
                ]
            )
        )

    def _load(self) -> dict:
        try:
            return json.loads(CREDENTIALS_FILE.read_text())
        except (OSError, ValueError):
            return {}

    def _admin(self, saved: dict) -> tuple[str, str]:
        user_model = get_user_model()
        username = saved.get("username", "admin")
        password = saved.get("password")
        user = user_model.objects.filter(username=username).first()
        if user is not None and password and user.check_password(password):
            return username, password
        password = secrets.token_urlsafe(12)
        if user is None:
            user_model.objects.create_superuser(username=username, email="", password=password)
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        return username, password

    def _api_key(self, saved: dict) -> str:
        raw = saved.get("api_key")
        if raw:
            key = api_key_authenticate(raw=raw)
            if key is not None and set(ALL_SCOPES) <= set(key.scopes):
                return raw
        # A demo key whose text was lost can never be used again: revoke it, then make one.
        for stale in ApiKey.objects.filter(name="demo", owner=DEMO_OWNER, revoked_at__isnull=True):
            api_key_revoke(key=stale)
        _, full_key = api_key_create(name="demo", owner=DEMO_OWNER, scopes=ALL_SCOPES)
        return full_key
