from rest_framework import authentication, exceptions
from rest_framework.request import Request

from techparts.apikeys.models import ApiKey
from techparts.apikeys.services import api_key_authenticate

UNAUTHORIZED_MESSAGE = (
    "Valid API key required. Include 'Authorization: Bearer YOUR_API_KEY' header."
)


class ApiClient:
    """The principal behind an API request: the integrator that owns the key."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False

    def __init__(self, key: ApiKey) -> None:
        self.key = key
        self.owner = key.owner

    def __str__(self) -> str:
        return self.owner

    def get_username(self) -> str:
        return self.owner


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer tp_<prefix>_<secret>`; anything else is 401."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiKey] | None:
        header = authentication.get_authorization_header(request)
        if not header:
            return None
        try:
            scheme, _, raw = header.decode("ascii").partition(" ")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(UNAUTHORIZED_MESSAGE) from exc
        raw = raw.strip()
        if scheme.lower() != self.keyword.lower() or not raw or " " in raw:
            raise exceptions.AuthenticationFailed(UNAUTHORIZED_MESSAGE)
        key = api_key_authenticate(raw=raw)
        if key is None:
            raise exceptions.AuthenticationFailed(UNAUTHORIZED_MESSAGE)
        return ApiClient(key), key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) and tell the client which scheme to use.
        return f'{self.keyword} realm="techparts"'
