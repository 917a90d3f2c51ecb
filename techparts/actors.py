"""Who did something: a staff user in the admin, an integrator's API key, or the system."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from techparts.apikeys.models import ApiKey

SOURCE_ADMIN = "admin"
SOURCE_API = "api"
SOURCE_SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    source: str
    user: "AbstractBaseUser | None" = None
    api_key: "ApiKey | None" = None

    @classmethod
    def staff(cls, user: "AbstractBaseUser") -> "Actor":
        return cls(source=SOURCE_ADMIN, user=user)

    @classmethod
    def api(cls, api_key: "ApiKey") -> "Actor":
        return cls(source=SOURCE_API, api_key=api_key)

    @classmethod
    def system(cls) -> "Actor":
        return cls(source=SOURCE_SYSTEM)

    @property
    def name(self) -> str:
        """Return the name history shows: the username, the key's owner, or 'system'."""
        if self.user is not None:
            return self.user.get_username()
        if self.api_key is not None:
            return self.api_key.owner
        return "system"
