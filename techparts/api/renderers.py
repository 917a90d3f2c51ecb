from typing import Any

import simplejson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder as DRFEncoder


class JSONRenderer(renderers.JSONRenderer):
    """Render JSON with Decimals as exact numbers, so money reads 0.00 and 2149.98.

    The standard library turns Decimals into floats (0.0, and rounding noise on some values);
    simplejson writes a Decimal's own digits.
    """

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict | None = None,
    ) -> bytes:
        if data is None:
            return b""
        return simplejson.dumps(
            data,
            use_decimal=True,
            default=DRFEncoder().default,
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
