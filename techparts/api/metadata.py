"""What `OPTIONS` answers on every API route: the methods it allows, and where the schema is.

OPTIONS needs no API key (it tells no more than a 405's `Allow` header does) and is answered
`200` with `{"methods": [...], "schema": "<url>"}`, the same list as the `Allow` header.
"""

from typing import TYPE_CHECKING, Any

from django.urls import reverse
from rest_framework.metadata import BaseMetadata
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views imports this module through the settings
    from rest_framework.views import APIView


class AllowedMethodsMetadata(BaseMetadata):
    def determine_metadata(self, request: Request, view: "APIView") -> dict[str, Any]:
        return {
            "methods": list(view.allowed_methods),
            "schema": request.build_absolute_uri(reverse("schema")),
        }
