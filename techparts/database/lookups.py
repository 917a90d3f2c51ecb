"""A membership test that binds its whole list as one value, whatever its length."""

import json
from collections.abc import Sequence
from typing import Any

from django.db.models import Expression, Lookup

from techparts.database.compiled import Marker


class AnyOf(Lookup):
    """`lhs` is one of `values`: `lhs = ANY(%s)` on PostgreSQL, `json_each` on SQLite.

    `field__in=[...]` turns every element into its own placeholder and parameter, which costs
    more to build and bind than a page's query costs to run; this binds one array (PostgreSQL)
    or one JSON text (SQLite). Use it as a filter expression: `.filter(AnyOf(F("id"), ids))`;
    in a CompiledValues query, pass `bind={name: AnyOf.bind}` for the list's name.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def __init__(self, lhs: Expression, values: Sequence[int] | Marker) -> None:
        super().__init__(lhs, values)

    @staticmethod
    def bind(connection, values: Sequence[int]) -> Any:
        """Return the one parameter that carries `values` on `connection`'s database."""
        integers = [int(value) for value in values]
        return json.dumps(integers) if connection.vendor == "sqlite" else integers

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # A CompiledValues marker stays as it is: the list is bound on each run.
        values = self.rhs if isinstance(self.rhs, Marker) else self.bind(connection, self.rhs)
        if connection.vendor == "sqlite":
            sql = f"{lhs} IN (SELECT value FROM json_each(%s))"  # noqa: S608 (lhs is compiled SQL)
        else:
            sql = f"{lhs} = ANY(%s)"
        return sql, [*lhs_params, values]


class AnyOfText(AnyOf):
    """`lhs` is one of the strings `values`, bound as one value like AnyOf (e.g. many SKUs).

    Kept apart from AnyOf, which refuses anything but integers: a caller meaning ids never
    compares them with text by mistake.
    """

    lookup_name = "any_of_text"

    def __init__(self, lhs: Expression, values: Sequence[str] | Marker) -> None:
        super().__init__(lhs, values)

    @staticmethod
    def bind(connection, values: Sequence[str]) -> Any:
        """Return the one parameter that carries `values` on `connection`'s database."""
        texts = [value for value in values if isinstance(value, str)]
        if len(texts) != len(values):
            raise ValueError("AnyOfText takes strings only")
        return json.dumps(texts) if connection.vendor == "sqlite" else texts
