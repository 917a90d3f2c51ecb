from collections.abc import Callable

from django.db.models import QuerySet
from rest_framework import exceptions, pagination
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


def _positive_int(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise exceptions.ValidationError({name: [ErrorDetail("must be a positive integer")]})
    return int(raw)


class PagedRows:
    """A filtered queryset to paginate: counted as it is, its page read through `rows`.

    `rows` turns the queryset into what a page renders (e.g. a `.values()` with joined
    columns), so the count does not pay for joins and columns only the page needs.
    """

    def __init__(self, queryset: QuerySet, *, rows: Callable[[QuerySet], QuerySet]) -> None:
        self.queryset = queryset
        self.rows = rows

    @property
    def ordered(self) -> bool:
        return self.queryset.ordered

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list:
        return list(self.rows(self.queryset)[index])


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M`; page_size is capped so no request reads an unbounded list.

    A larger page_size is served at the cap (as DRF does); malformed values are a 400 rather
    than silently replaced by defaults; a page past the end is a 404.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request) -> int:
        size = _positive_int(request, self.page_size_query_param)
        return min(size, self.max_page_size) if size else self.page_size

    def paginate_queryset(self, queryset, request, view=None):
        _positive_int(request, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page (default {self.page_size}); larger values are served "
                    f"at the cap of {self.max_page_size}."
                )
        return parameters


class PageOrCursorPagination(PageNumberPagination):
    """Page numbers, or with the view's `cursor_filter` (e.g. `updated_since`) an id cursor.

    A set filtered by "changed since" grows while a client walks it (a product changed between
    two pages newly matches), and page numbers over a growing set repeat or skip rows at page
    boundaries. With the filter the answer is in id order and `next` carries `cursor`, the id
    of the last row served: a page reads the rows after it, so the walk never repeats a row and
    skips none that matched when it began (one that newly matches behind the cursor belongs to
    the next walk). `page` and `ordering` do not combine with the cursor filter (400); `count`
    is the whole filtered set, `previous` is null.
    """

    cursor_query_param = "cursor"
    cursor_pattern = r"^[0-9]{1,18}$"

    def paginate_queryset(self, queryset, request, view=None):
        cursor_filter = getattr(view, "cursor_filter", None)
        params = request.query_params
        if cursor_filter is None or cursor_filter not in params:
            if self.cursor_query_param in params:
                raise exceptions.ValidationError(
                    {
                        self.cursor_query_param: [
                            ErrorDetail(f"is only valid together with {cursor_filter}")
                        ]
                    }
                )
            return super().paginate_queryset(queryset, request, view)
        conflicting = [name for name in (self.page_query_param, "ordering") if name in params]
        if conflicting:
            raise exceptions.ValidationError(
                {
                    name: [ErrorDetail(f"cannot be combined with {cursor_filter}")]
                    for name in conflicting
                }
            )
        after = self._cursor(request)
        self.request = request
        self.page_size_now = self.get_page_size(request)
        self.cursor_count = queryset.count()
        keyset = queryset.queryset.order_by("pk")
        if after is not None:
            keyset = keyset.filter(pk__gt=after)
        rows = list(queryset.rows(keyset)[: self.page_size_now + 1])
        self.has_next = len(rows) > self.page_size_now
        self.cursor_rows = rows[: self.page_size_now]
        self.cursor_mode = True
        return self.cursor_rows

    def _cursor(self, request) -> int | None:
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return None
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise exceptions.ValidationError(
                {self.cursor_query_param: [ErrorDetail("must be the cursor of a `next` link")]}
            )
        return int(raw)

    def get_paginated_response(self, data):
        if not getattr(self, "cursor_mode", False):
            return super().get_paginated_response(data)
        next_link = None
        if self.has_next:
            url = self.request.build_absolute_uri()
            next_link = replace_query_param(
                url, self.cursor_query_param, self.cursor_rows[-1]["id"]
            )
        return Response(
            {"count": self.cursor_count, "next": next_link, "previous": None, "results": data}
        )

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        cursor_filter = getattr(view, "cursor_filter", None)
        if cursor_filter:
            parameters.append(
                {
                    "name": self.cursor_query_param,
                    "required": False,
                    "in": "query",
                    "description": f"Only with `{cursor_filter}`: where the walk goes on, "
                    "as the `next` link gives it (ids in ascending order).",
                    "schema": {"type": "string", "pattern": self.cursor_pattern},
                }
            )
        return parameters
