from collections.abc import Callable

from django.db.models import QuerySet
from rest_framework import exceptions, pagination
from rest_framework.exceptions import ErrorDetail


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
