from django.db import connection
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from techparts.api.permissions import PUBLIC
from techparts.api.query import InvalidQueryParameters
from techparts.api.renderers import JSONRenderer


class UnknownEndpoint(APIView):
    """Answer every unknown /v1/ path with the `not_found` envelope, whatever the method."""

    authentication_classes: list = []
    required_scopes = {"get": PUBLIC}
    schema = None

    def initial(self, request: Request, *args, **kwargs) -> None:
        raise exceptions.NotFound(f"No API endpoint at '{request.path}'")


class JsonErrorsMixin:
    """Answer errors and OPTIONS in the JSON envelope on a view whose own format is not JSON.

    The schema (YAML) and docs (HTML) views would otherwise render a 405 or a 400 in their
    own format.
    """

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args, **kwargs
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and (
            response.status_code >= 400 or request.method == "OPTIONS"
        ):
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response


class SchemaNegotiation(DefaultContentNegotiation):
    """The schema as YAML (the default) or JSON: `?format=json|yaml`, else the Accept header.

    An Accept header that names neither gets YAML rather than a 406, as the API never
    answers 406.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        wanted = request.query_params.get("format")
        formats = sorted({renderer.format for renderer in renderers})
        if wanted is not None and wanted not in formats:
            raise InvalidQueryParameters(
                {"format": [ErrorDetail(f"must be {' or '.join(formats)}")]}
            )
        candidates = [r for r in renderers if wanted is None or r.format == wanted]
        try:
            return super().select_renderer(request, candidates)
        except exceptions.NotAcceptable:
            return candidates[0], candidates[0].media_type


class SchemaView(JsonErrorsMixin, SpectacularAPIView):
    """The OpenAPI document, public so that integrators can read it before holding a key."""

    required_scopes = {"get": PUBLIC}
    # The API's own checks (scope declared, known query parameters), not drf-spectacular's.
    permission_classes = api_settings.DEFAULT_PERMISSION_CLASSES
    content_negotiation_class = SchemaNegotiation
    query_parameters = ("format",)


class DocsView(JsonErrorsMixin, SpectacularSwaggerView):
    """Swagger UI over the schema, served from the project's own static files."""

    required_scopes = {"get": PUBLIC}
    permission_classes = api_settings.DEFAULT_PERMISSION_CLASSES
    query_parameters = ()


def healthz(request: HttpRequest) -> JsonResponse:
    """Report whether the app can reach its database (for load balancers and monitors)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not healthy"
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
