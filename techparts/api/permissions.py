from typing import TYPE_CHECKING

from rest_framework import exceptions, permissions
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views imports this module through the settings
    from rest_framework.views import APIView

from techparts.apikeys.scopes import SCOPES

PUBLIC = "public"

# A view's scope: one scope, or a tuple of scopes any one of which allows (GET /v1/events reads
# inventory events with inventory:read and order events with orders:read).
Scope = str | tuple[str, ...]


def required_scope(view: "APIView") -> Scope | None:
    """Return the scope a view's current action needs, PUBLIC, or None when undeclared.

    Views declare `required_scopes = {"<action or method>": "<scope>"}`; a viewset is looked
    up by action, a plain APIView by lower-case HTTP method.
    """
    scopes: dict[str, Scope] = getattr(view, "required_scopes", {})
    action = getattr(view, "action", None)
    if action and action in scopes:
        return scopes[action]
    method = view.request.method.lower() if getattr(view, "request", None) else None
    if method == "head":
        method = "get"
    return scopes.get(method) if method else None


def scope_denied_message(scope: Scope) -> str:
    if isinstance(scope, str):
        return f"Insufficient permissions to {SCOPES[scope]}. Requires '{scope}' scope."
    names = " or ".join(f"'{each}'" for each in scope)
    return f"Insufficient permissions to {' or '.join(SCOPES[each] for each in scope)}. Requires {names} scope."


def holds_scope(api_key, scope: Scope) -> bool:
    """Tell whether `api_key` holds `scope` (one of them, for a tuple)."""
    return any(api_key.has_scope(each) for each in ((scope,) if isinstance(scope, str) else scope))


class HasScope(permissions.BasePermission):
    """Allow a request when its API key holds the scope its view declares for the action.

    An undeclared action is refused: a route is closed until someone says who may use it.
    """

    def has_permission(self, request: Request, view: "APIView") -> bool:
        if request.method.upper() not in view.allowed_methods:
            return True  # let the view answer 405 rather than hide the route behind 401/403
        if request.method.upper() == "OPTIONS":
            # Names the allowed methods, as a 405 does, and nothing else (techparts.api.metadata).
            return True
        scope = required_scope(view)
        if scope == PUBLIC:
            return True
        if request.auth is None:
            raise exceptions.NotAuthenticated()
        if scope is None:
            raise exceptions.PermissionDenied("This operation is not available to API keys.")
        if not holds_scope(request.auth, scope):
            raise exceptions.PermissionDenied(scope_denied_message(scope))
        return True
