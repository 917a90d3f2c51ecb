"""Filter building blocks that refuse bad query values instead of silently ignoring them.

django-filter drops values it cannot use (`?in_stock=maybe`, `?status=`), so a typo returns
the unfiltered list and the integrator never learns; these answer 400 `validation_error`.
"""

from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework import filters
from rest_framework.exceptions import ErrorDetail, ValidationError

from techparts.money import MAX_PRICE

TRUE_VALUES = {"true", "1"}
FALSE_VALUES = {"false", "0"}


class StrictBooleanField(forms.Field):
    default_error_messages = {"invalid": "must be true or false"}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip().lower()
        if text in TRUE_VALUES:
            return True
        if text in FALSE_VALUES:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, brought to UTC (the database refuses odd offsets like -22:46)."""

    default_error_messages = {"invalid": "must be an ISO 8601 date-time"}

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField


class StrictFilterSet(django_filters.FilterSet):
    """A FilterSet that refuses an empty value for any filter that is not free text."""

    def get_form_class(self):
        form_class = super().get_form_class()
        filters = self.filters

        class StrictForm(form_class):
            def clean(self):
                cleaned = super().clean()
                for name, flt in filters.items():
                    if type(flt) is django_filters.CharFilter:
                        continue
                    if name in self.data and str(self.data.get(name, "")).strip() == "":
                        self.add_error(name, forms.ValidationError("must not be empty"))
                return cleaned

        return form_class if not filters else StrictForm


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, without building a FilterSet for a request that uses none.

    A FilterSet's form costs more per request than a page query; with none of its parameters
    present (nor any parameter starting with a filter's name, as range widgets' `_min` or
    `_after` do) it would filter nothing and refuse nothing, so the queryset is returned as is.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not any(
            param.startswith(name)
            for param in request.query_params
            for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)


class OrderingFilter(filters.OrderingFilter):
    """`?ordering=price,-name`: unknown fields are a 400, and the schema lists the choices."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params is not None:
            allowed = {
                name for name, _ in self.get_valid_fields(queryset, view, {"request": request})
            }
            fields = [param.strip() for param in params.split(",")]
            wrong = [f for f in fields if f.lstrip("-") not in allowed]
            if wrong or not params.strip():
                choices = ", ".join(sorted(allowed))
                raise ValidationError(
                    {
                        self.ordering_param: [
                            ErrorDetail(f"must be one of {choices} (prefix - to reverse)")
                        ]
                    }
                )
        return super().get_ordering(request, queryset, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        fields = [field for field in getattr(view, "ordering_fields", [])]
        for parameter in parameters:
            parameter["description"] = (
                "Sort by one of the listed fields; `-` before a field sorts descending."
            )
            parameter["schema"]["enum"] = [p for f in fields for p in (f, f"-{f}")]
        return parameters


@extend_schema_field({"type": "number", "minimum": 0, "maximum": float(MAX_PRICE)})
class PriceFilter(django_filters.NumberFilter):
    """A price bound in USD, 0 to 99,999,999.99."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_PRICE)
        super().__init__(*args, **kwargs)
