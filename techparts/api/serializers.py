"""Strict input building blocks shared by every write endpoint.

JSON types are taken at their word (`"2"` is not an integer, `1` is not a string) and unknown
fields are refused, so a typo or a mass-assignment attempt never passes silently.
"""

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.fields import empty
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from techparts.api.cursors import InvalidCursor, cursor_decode
from techparts.api.filters import FALSE_VALUES, TRUE_VALUES
from techparts.money import AMOUNT_MAX_DIGITS, DECIMAL_PLACES


def datetime_text(value: datetime) -> str:
    """Return `value` as a DateTimeField renders it in the API (UTC, `DATETIME_FORMAT`).

    For bodies built as plain dicts on hot paths, where a serializer's field machinery costs
    more than the request's queries; the output serializer stays the schema's source.
    """
    return value.astimezone(UTC).strftime(api_settings.DATETIME_FORMAT)


class MoneyField(serializers.DecimalField):
    """A price rendered as a JSON number with exactly two decimals (1599.99, 0.00)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", AMOUNT_MAX_DIGITS)
        kwargs.setdefault("decimal_places", DECIMAL_PLACES)
        kwargs["coerce_to_string"] = False
        super().__init__(**kwargs)


class StrictCharField(serializers.CharField):
    """A JSON string only: numbers and booleans are refused, not turned into text."""

    default_error_messages = {"invalid": "must be a string"}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"type": "integer"})
class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: 1.5, 2.0, "2" and true are refused."""

    default_error_messages = {
        "invalid": "must be an integer",
        "min_value": "must be at least {min_value}",
        "max_value": "must be at most {max_value}",
    }

    def to_internal_value(self, data: Any) -> int:
        if type(data) is not int:  # bool is a subclass of int: refuse it too
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"type": "boolean"})
class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean only: "true", 1 and "yes" are refused."""

    default_error_messages = {"invalid": "must be true or false"}

    def to_internal_value(self, data: Any) -> bool:
        if type(data) is not bool:
            self.fail("invalid")
        return data


class StrictChoiceField(serializers.ChoiceField):
    """One of the listed strings, exactly as listed: `"ca"` is not `"CA"`, `1` is not `"1"`.

    The schema lists the choices as an enum, so the server accepts exactly what it documents.
    """

    default_error_messages = {
        "invalid": "must be a string",
        "invalid_choice": "must be one of {choices}",
        "wrong_case": "must be '{expected}' (upper and lower case matter)",
    }

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if data not in self.choices:
            for choice in self.choices:
                if isinstance(choice, str) and choice.casefold() == data.casefold():
                    self.fail("wrong_case", expected=choice)
            self.fail("invalid_choice", choices=", ".join(map(str, self.choices)))
        return data


class StrictSerializer(serializers.Serializer):
    """An input object whose unknown fields are refused rather than silently ignored."""

    default_error_messages = {"invalid": "must be an object"}
    # What a request body that is not an object (null, a list, a number) is told.
    not_an_object_message = "Request body must be a JSON object"

    def run_validation(self, data: Any = empty) -> Any:
        if self.parent is None and not isinstance(data, Mapping):
            # DRF would say "Must not be null" or "Must be an object" with no subject.
            raise serializers.ValidationError(
                {"non_field_errors": [ErrorDetail(self.not_an_object_message, code="seed_message")]}
            )
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> dict:
        errors: dict[str, Any] = {}
        value: dict = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            errors = dict(exc.detail)
        if isinstance(data, Mapping):
            for name in data:
                if name not in self.fields:
                    errors[name] = [ErrorDetail("is not allowed", code="unknown_field")]
        if errors:
            raise serializers.ValidationError(errors)
        return value


class EmptyInputSerializer(StrictSerializer):
    """The body of an action that takes none: no body at all, or `{}`."""

    not_an_object_message = "Request body must be empty or {}: this action takes no fields"


def takes_no_body(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """Refuse any request body but none or `{}` before a body-less action runs.

    Reading `request.data` runs the API's one parser, so a body that is not JSON is 415 and
    malformed or deep JSON is 400; any field is 400 like an unknown field anywhere else. The
    schema generator documents the empty body (techparts.api.schema).
    """

    @functools.wraps(view_method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        EmptyInputSerializer(data=request.data).is_valid(raise_exception=True)
        return view_method(view, request, *args, **kwargs)

    wrapper.takes_no_body = True  # read by the schema generator
    return wrapper


# --- Query parameters of list and feed reads ---


class QueryLimitField(serializers.Field):
    """`limit`: digits only, 1 to `maximum` (a query value is text: "1e3", "+5", " 7" are refused)."""

    def __init__(self, *, maximum: int, **kwargs):
        self.maximum = maximum
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> int:
        text = str(data)
        if not (text.isascii() and text.isdigit() and len(text) <= 7) or not (
            1 <= int(text) <= self.maximum
        ):
            raise serializers.ValidationError(f"must be an integer from 1 to {self.maximum}")
        return int(text)


class QueryBooleanField(serializers.Field):
    """`true`/`false` (or `1`/`0`), as every boolean filter of the API reads them."""

    def to_internal_value(self, data) -> bool:
        text = str(data).strip().lower()
        if text in TRUE_VALUES:
            return True
        if text in FALSE_VALUES:
            return False
        raise serializers.ValidationError("must be true or false")


class CursorField(serializers.Field):
    """An opaque cursor the API issued (`techparts.api.cursors`); anything else is a 400."""

    def __init__(self, *, tag: str, count: int, **kwargs):
        self.tag = tag
        self.count = count
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> tuple[int, ...]:
        try:
            return cursor_decode(self.tag, str(data), count=self.count)
        except InvalidCursor:
            raise serializers.ValidationError(
                "is not a cursor this API issued; pass the cursor of an earlier answer unchanged"
            ) from None


class QueryInputSerializer(serializers.Serializer):
    """Query parameters: an empty value (`?after=`) is refused, not read as left out.

    DRF skips an empty optional form value, which would turn `?updated_since=` into the
    unfiltered list (as StrictFilterSet refuses it for django-filter).
    """

    def to_internal_value(self, data):
        empty = [
            name
            for name in self.fields
            if name in data and any(value == "" for value in data.getlist(name))
        ]
        if empty:
            raise serializers.ValidationError(
                {name: [ErrorDetail("must not be empty", code="empty")] for name in empty}
            )
        return super().to_internal_value(data)
