from django.db import connection
from django.http import HttpRequest, JsonResponse
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.views import APIView

from techparts.api.permissions import PUBLIC


class UnknownEndpoint(APIView):
    """Answer every unknown /v1/ path with the `not_found` envelope, whatever the method."""

    authentication_classes: list = []
    required_scopes = {"get": PUBLIC}
    schema = None

    def initial(self, request: Request, *args, **kwargs) -> None:
        raise exceptions.NotFound(f"No API endpoint at '{request.path}'")


class SchemaView(SpectacularAPIView):
    """The OpenAPI document, public so that integrators can read it before holding a key."""

    required_scopes = {"get": PUBLIC}


class DocsView(SpectacularSwaggerView):
    required_scopes = {"get": PUBLIC}


def healthz(request: HttpRequest) -> JsonResponse:
    """Report whether the app can reach its database (for load balancers and monitors)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not healthy"
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
