from decimal import Decimal
from typing import Any

import orjson
import simplejson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder as DRFEncoder

_drf_default = DRFEncoder().default
# Dates, times and dataclasses go through DRF's encoder, as they always did; strings, numbers,
# lists and dicts are orjson's own, which writes them exactly as simplejson did.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))  # the Decimal's own digits: 0.00, 2149.98
    return _drf_default(value)


class JSONRenderer(renderers.JSONRenderer):
    """Render JSON with Decimals as exact numbers, so money reads 0.00 and 2149.98.

    The standard library turns Decimals into floats (0.0, and rounding noise on some values).
    orjson writes the bodies (its C encoder costs a fraction of simplejson's, which escapes
    non-ASCII text in Python); what orjson refuses (integers beyond 64 bits, non-string keys,
    nesting deeper than 254) goes through simplejson, which writes a Decimal's own digits too.
    """

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict | None = None,
    ) -> bytes:
        if data is None:
            return b""
        try:
            return orjson.dumps(data, default=_default, option=_ORJSON_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError
            return simplejson.dumps(
                data,
                use_decimal=True,
                default=_drf_default,
                ensure_ascii=False,
                separators=(",", ":"),
            ).encode()
