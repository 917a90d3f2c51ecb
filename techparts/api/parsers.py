import io

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body is larger than the {limit} bytes this API accepts.")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, reading at most API_MAX_BODY_BYTES (chunked bodies included)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        declared = parser_context["request"].META.get("CONTENT_LENGTH") if parser_context else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(limit)
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge(limit)
        return super().parse(io.BytesIO(body), media_type, parser_context)
