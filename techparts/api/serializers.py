"""Strict input building blocks shared by every write endpoint.

JSON types are taken at their word (`"2"` is not an integer, `1` is not a string) and unknown
fields are refused, so a typo or a mass-assignment attempt never passes silently.
"""

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail


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


class StrictSerializer(serializers.Serializer):
    """An input object whose unknown fields are refused rather than silently ignored."""

    default_error_messages = {"invalid": "must be an object"}

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
