"""A membership test that binds its whole list as one value, whatever its length."""

import json
from collections.abc import Sequence

from django.db.models import Expression, Lookup


class AnyOf(Lookup):
    """`lhs` is one of `values`: `lhs = ANY(%s)` on PostgreSQL, `json_each` on SQLite.

    `field__in=[...]` turns every element into its own placeholder and parameter, which costs
    more to build and bind than a page's query costs to run; this binds one array (PostgreSQL)
    or one JSON text (SQLite). Use it as a filter expression: `.filter(AnyOf(F("id"), ids))`.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def __init__(self, lhs: Expression, values: Sequence[int]) -> None:
        super().__init__(lhs, [int(value) for value in values])

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, self.rhs]

    def as_sqlite(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        sql = f"{lhs} IN (SELECT value FROM json_each(%s))"  # noqa: S608 (lhs is compiled SQL)
        return sql, [*lhs_params, json.dumps(self.rhs)]
