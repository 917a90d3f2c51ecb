"""Unknown query parameters are refused, on every API operation.

A misspelt filter (`?instock=true`) would otherwise return the unfiltered list and the
integrator would never learn. The parameters an operation knows are derived from the same
pieces the OpenAPI schema is generated from (filter backends and paginator of list views), so
the documentation and the check cannot drift apart; a view may instead name them itself with a
`query_parameters` attribute.
"""

from typing import TYPE_CHECKING

from rest_framework import exceptions, mixins, permissions
from rest_framework.exceptions import ErrorDetail
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views imports this module through the settings
    from rest_framework.views import APIView


class InvalidQueryParameters(exceptions.ValidationError):
    """A problem with the query string (rather than the body), whatever the HTTP method."""


def known_query_parameters(view: "APIView") -> frozenset[str]:
    """Return the query parameter names the view's current operation accepts."""
    # The same for every request of an operation: worked out once per view class and action.
    operation = (type(view), getattr(view, "action", None), view.request.method)
    known = _known.get(operation)
    if known is None:
        known = _known[operation] = _work_out_known_query_parameters(view)
    return known


_known: dict[tuple, frozenset[str]] = {}


def _work_out_known_query_parameters(view: "APIView") -> frozenset[str]:
    declared = getattr(view, "query_parameters", None)
    if declared is not None:
        return frozenset(declared)
    if not _is_list(view):
        return frozenset()  # detail and write operations take no query parameters
    from django_filters.rest_framework import DjangoFilterBackend  # imports rest_framework.views

    names: set[str] = set()
    for backend_class in getattr(view, "filter_backends", ()):
        backend = backend_class()
        if isinstance(backend, DjangoFilterBackend):
            # The filterset's declared filters; get_schema_operation_parameters would run the
            # view's queryset (a database query, or a 404) just to name them.
            filterset_class = backend.get_filterset_class(view, None)
            if filterset_class is not None:
                names.update(filterset_class.base_filters)
            else:
                names.update(getattr(view, "filterset_fields", None) or ())
        else:
            names.update(
                parameter["name"]
                for parameter in backend.get_schema_operation_parameters(view)
                if parameter.get("in") == "query"
            )
    paginator = getattr(view, "paginator", None)
    if paginator is not None:
        names.update(
            parameter["name"]
            for parameter in paginator.get_schema_operation_parameters(view)
            if parameter.get("in") == "query"
        )
    return frozenset(names)


def _is_list(view: "APIView") -> bool:
    # The same test drf-spectacular applies before documenting filter and page parameters.
    action = getattr(view, "action", None)
    if action is not None:
        return action == "list"
    return view.request.method in ("GET", "HEAD") and isinstance(view, mixins.ListModelMixin)


class KnownQueryParameters(permissions.BasePermission):
    """Refuse a request whose query string names a parameter the operation does not know.

    A permission class because it is the one DRF hook that runs for every view after
    authentication (so a missing key is still 401 first) and before the handler.
    """

    def has_permission(self, request: Request, view: "APIView") -> bool:
        if request.method.upper() not in view.allowed_methods or request.method == "OPTIONS":
            return True  # 405 is the view's answer; OPTIONS describes the resource as a whole
        known = known_query_parameters(view)
        unknown = [name for name in request.query_params if name not in known]
        if unknown:
            accepted = (
                "known parameters: " + ", ".join(sorted(known))
                if known
                else "this operation takes no query parameters"
            )
            raise InvalidQueryParameters(
                {
                    "non_field_errors": [
                        ErrorDetail(
                            f"Unknown query parameter '{_shown(name)}'; {accepted}",
                            code="seed_message",
                        )
                        for name in unknown
                    ]
                }
            )
        return True


def _shown(name: str) -> str:
    # Echo the caller's name back, but not a megabyte of it.
    return name if len(name) <= 64 else name[:64] + "..."
