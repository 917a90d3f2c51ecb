from datetime import UTC, datetime, time, timedelta

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from inventory import reasons
from inventory.models import StockMovement
from inventory.selectors import movements_of_owner
from techparts.api.filters import StrictFilterSet


class DateOrDateTimeField(forms.Field):
    """`2024-12-28` (a whole day) or `2024-12-28T15:30:00Z` (an instant)."""

    default_error_messages = {"invalid": "must be an ISO 8601 date or date-time"}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            parsed = parse_date(value) or parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if isinstance(parsed, datetime) and timezone.is_aware(parsed):
            try:  # to UTC: the database refuses odd offsets such as -22:46
                parsed = parsed.astimezone(UTC)
            except OverflowError as exc:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc
        return parsed


class DateOrDateTimeFilter(django_filters.Filter):
    field_class = DateOrDateTimeField

    def __init__(self, *args, end_of_day: bool = False, **kwargs):
        self.end_of_day = end_of_day
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        if isinstance(value, datetime):
            instant = value if timezone.is_aware(value) else timezone.make_aware(value)
            lookup = "lte" if self.end_of_day else "gte"
        else:  # a date: the whole day, in UTC
            day = value + timedelta(days=1) if self.end_of_day else value
            instant = timezone.make_aware(datetime.combine(day, time.min))
            lookup = "lt" if self.end_of_day else "gte"
        return qs.filter(**{f"{self.field_name}__{lookup}": instant})


class StockMovementFilter(StrictFilterSet):
    kind = django_filters.ChoiceFilter(
        choices=StockMovement.Kind.choices,
        help_text="Only movements of this kind.",
        error_messages={
            "invalid_choice": "must be one of: " + ", ".join(StockMovement.Kind.values)
        },
    )

    reason_code = django_filters.ChoiceFilter(
        choices=reasons.reason_code_choices(),
        help_text="Only movements with this reason code.",
        error_messages={
            "invalid_choice": "must be one of: "
            + ", ".join(code for code, _ in reasons.reason_code_choices())
        },
    )
    adjustment_group = django_filters.UUIDFilter(
        method="filter_adjustment_group",
        help_text="Only the movements one of your calls wrote together (its adjustment_group).",
    )

    class Meta:
        model = StockMovement
        fields = ["kind", "reason_code", "adjustment_group"]

    def filter_adjustment_group(self, queryset, name, value):
        # Groups are shown only on the caller's own rows, and filter only those.
        owner = getattr(getattr(self.request, "auth", None), "owner", None)
        return movements_of_owner(queryset, owner).filter(adjustment_group=value)


# `from` is a Python keyword, so these two are added after the class body.
StockMovementFilter.base_filters["from"] = DateOrDateTimeFilter(
    field_name="created_at",
    help_text="Movements at or after this date (whole day, UTC) or ISO 8601 date-time.",
)
StockMovementFilter.base_filters["to"] = DateOrDateTimeFilter(
    field_name="created_at",
    end_of_day=True,
    help_text="Movements up to this date (inclusive, UTC) or ISO 8601 date-time.",
)
