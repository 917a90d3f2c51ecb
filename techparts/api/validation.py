"""Validation errors as the API reports them: whole sentences, in the order of the fields."""

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail


def seed_error(sentences: list[str]) -> serializers.ValidationError:
    """Return a 400 whose sentences the envelope shows as written, without a field prefix."""
    return serializers.ValidationError(
        {"non_field_errors": [ErrorDetail(s, code="seed_message") for s in sentences]}
    )


def errors_by_index(detail: Any) -> dict[int, Any] | None:
    """Return a list field's per-item errors by index; None when the list itself is wrong."""
    if detail is None:
        return {}
    if isinstance(detail, list) and all(isinstance(error, Mapping) for error in detail):
        # older DRF: one entry per item, {} when valid
        return {index: error for index, error in enumerate(detail) if error}
    if isinstance(detail, Mapping) and all(isinstance(key, int) for key in detail):
        return dict(detail)
    return None


def in_field_order(errors: dict[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return the errors in the order the fields are declared (unknown fields last)."""
    order = {name: position for position, name in enumerate(fields)}
    ordered = dict(sorted(errors.items(), key=lambda item: order.get(item[0], len(order))))
    for name, field in fields.items():
        # A list of objects (`many=True`): each item's errors in its own fields' order.
        child_fields = getattr(getattr(field, "child", None), "fields", None)
        by_index = errors_by_index(ordered.get(name))
        if by_index and child_fields is not None:
            ordered[name] = {
                index: in_field_order(dict(error), child_fields)
                if isinstance(error, Mapping)
                else error
                for index, error in sorted(by_index.items())
            }
    return ordered
