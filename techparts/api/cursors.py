"""Opaque page cursors: a tag and a few non-negative integers, as URL-safe base64.

Callers must treat a cursor as opaque; the tag and its version let the format change later
without misreading an old cursor. Decoding is bounded (a length cap before any work, then one
anchored pattern), so a hostile cursor costs no more than a valid one.
"""

import base64
import binascii
import re

# The largest value a PostgreSQL bigint (row ids, transaction ids) holds.
MAX_BIGINT = 2**63 - 1
# "c1:" + two 19-digit numbers, base64: well under this.
MAX_CURSOR_LENGTH = 80

_BASE64URL = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_CURSOR_LENGTH}}}")
_NUMBER = r"(0|[1-9][0-9]{0,18})"


class InvalidCursor(ValueError):
    """The text is not a cursor of this kind that the API issued."""


def cursor_encode(tag: str, *values: int) -> str:
    """Return the opaque cursor of `values` (each 0..MAX_BIGINT) under `tag`."""
    if any(not 0 <= value <= MAX_BIGINT for value in values):
        raise ValueError("cursor values must be 0..MAX_BIGINT")
    text = ":".join([tag, *map(str, values)])
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


def cursor_decode(tag: str, cursor: str, *, count: int) -> tuple[int, ...]:
    """Return the `count` values of a cursor `cursor_encode(tag, ...)` made; else InvalidCursor."""
    if not isinstance(cursor, str) or not _BASE64URL.fullmatch(cursor):
        raise InvalidCursor(cursor)
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor(cursor) from exc
    match = re.fullmatch(":".join([re.escape(tag), *[_NUMBER] * count]), text)
    if match is None:
        raise InvalidCursor(cursor)
    values = tuple(int(group) for group in match.groups())
    if any(value > MAX_BIGINT for value in values):
        raise InvalidCursor(cursor)
    return values
