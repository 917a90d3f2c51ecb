"""Hostile input in the back office: odd ids and filter values get a 404 or are ignored, never 500.

Django's admin passes many request values to the database or to `datetime` as they come: ids
in custom URLs, the ids an action is applied to, the date drill-down, the values that prefill
an add form. Every ModelAdmin of the project (and Django's own ones for users and groups,
re-registered in techparts/urls.py) inherits `GuardedModelAdminMixin`, which reads them through
`parse_key`. NUL bytes in an admin query string are refused earlier, by
`techparts.middleware.RejectNulMiddleware`, since PostgreSQL cannot even compare them.
"""

from contextlib import suppress
from typing import Any

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection
from django.db.models import Field, Model, QuerySet
from django.http import Http404, HttpRequest

_INTEGER_TYPES = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
}
# The date drill-down's parts, with the values that keep its period inside datetime's range.
_DATE_PARTS = {"year": (1, 9998), "month": (1, 12), "day": (1, 31)}


def parse_ascii_int(value: Any, *, minimum: int, maximum: int) -> int | None:
    """Return value as an int if it is ASCII digits within [minimum, maximum], else None.

    `str.isdigit()` alone is not enough: "²" is a digit to it and not to int().
    """
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if minimum <= number <= maximum else None


def _key_field(field: Field) -> Field:
    return field.target_field if field.is_relation else field


def parse_key(field: Field, value: Any) -> Any:
    """Return value as field's Python value if a row could hold it, else None.

    Integer keys take ASCII digits within the database column's range only.
    """
    field = _key_field(field)
    if not isinstance(value, str) or "\x00" in value:
        return None
    internal_type = field.get_internal_type()
    if internal_type in _INTEGER_TYPES:
        low, high = connection.ops.integer_field_range(internal_type)
        return parse_ascii_int(value, minimum=max(low or 0, 0), maximum=high or 2**63 - 1)
    try:
        return field.to_python(value)
    except (ValidationError, ValueError, TypeError, OverflowError):
        return None


def parse_object_id(model: type[Model], value: Any) -> Any:
    """Return value as a primary key of model, or None if no row could have it."""
    return parse_key(model._meta.pk, value)


class GuardedChangeList(ChangeList):
    """A change list whose date drill-down refuses values datetime cannot hold."""

    def get_filters(self, request):
        if self.date_hierarchy:
            for part, (minimum, maximum) in _DATE_PARTS.items():
                values = self.filter_params.get(f"{self.date_hierarchy}__{part}")
                if values and parse_ascii_int(values[-1], minimum=minimum, maximum=maximum) is None:
                    # The same answer as any other bad filter: back to the list, with a note.
                    raise IncorrectLookupParameters(f"Invalid {part} {values[-1]!r}")
        return super().get_filters(request)


class GuardedModelAdminMixin:
    """Read ids, selected actions, date drill-downs and add-form prefills through parse_key.

    Odd values answer 404 (custom views), the "does not exist" page (Django's own views), the
    invalid-filter page (lists), or are ignored (actions, prefills).
    """

    def get_changelist(self, request, **kwargs):
        return GuardedChangeList

    def get_object(self, request, object_id, from_field=None):
        field = self.opts.get_field(from_field) if from_field else self.opts.pk
        if parse_key(field, object_id) is None:
            return None
        return super().get_object(request, object_id, from_field)

    def get_object_or_404(
        self, request: HttpRequest, object_id: str, queryset: QuerySet | None = None
    ) -> Model:
        """Return the object with this URL id from queryset (default: the admin's), or 404."""
        pk = parse_object_id(self.model, unquote(object_id))
        if pk is not None:
            try:
                return (self.get_queryset(request) if queryset is None else queryset).get(pk=pk)
            except self.model.DoesNotExist:
                pass
        raise Http404(f"No {self.opts.verbose_name} with this id.")

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and ACTION_CHECKBOX_NAME in request.POST:
            # Ids that no row can have select nothing (Django would query them and fail).
            post = request.POST.copy()
            post.setlist(
                ACTION_CHECKBOX_NAME,
                [
                    value
                    for value in post.getlist(ACTION_CHECKBOX_NAME)
                    if parse_object_id(self.model, value) is not None
                ],
            )
            request.POST = post
        return super().changelist_view(request, extra_context)

    def get_changeform_initial_data(self, request):
        # Prefill values from the query string are kept only as values the field can take:
        # widgets expect them (a date widget fails on a string), and some query the database.
        initial = {}
        for name, value in super().get_changeform_initial_data(request).items():
            try:
                field = self.opts.get_field(name)
            except FieldDoesNotExist:
                initial[name] = value  # not a model field: the form ignores or validates it
                continue
            # Related ids are looked up to render some widgets: drop those no row can have.
            if isinstance(value, list):  # many-to-many ids, split at commas
                initial[name] = [v for v in value if parse_key(field, v) is not None]
                continue
            if field.is_relation:
                if parse_key(field, value) is not None:
                    initial[name] = value
                continue
            # A value the field cannot take is left out: the form starts empty there.
            with suppress(ValidationError, ValueError, TypeError, OverflowError):
                initial[name] = field.to_python(value)
        return initial


def guard_admin_site(site) -> None:
    """Re-register every ModelAdmin on `site` that lacks GuardedModelAdminMixin with it.

    The project's own admins inherit the mixin; this covers the rest (Django's users and
    groups, django-axes' logs, whatever a later package registers), so no admin page reads
    ids, filters or dates without the guards.
    """
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, GuardedModelAdminMixin):
            continue
        admin_class = type(model_admin)
        guarded = type(f"Guarded{admin_class.__name__}", (GuardedModelAdminMixin, admin_class), {})
        site.unregister(model)
        site.register(model, guarded)
