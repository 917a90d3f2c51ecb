"""Hot reads compiled to SQL once per thread and database, then run with each request's values.

Turning a queryset into SQL (resolving annotations and joins, compiling every expression) costs
more than running a primary-key read on PostgreSQL. A read whose shape never changes is built
once with markers in place of its values; each call binds the values to the cached SQL and
turns the rows into dicts through the same converters the ORM applies (`results_iter`).
"""

import secrets
import threading
from collections.abc import Callable
from typing import Any

from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.query import ValuesIterable


class Marker(str):
    """Stands for a text value while a CompiledValues query is compiled (see AnyOf)."""


class IntegerMarker(int):
    """Stands for an integer value while a CompiledValues query is compiled.

    A random 62-bit number: fields turn it into a plain int, found again by its value.
    """


class CompiledValues:
    """A `.values()` or `.values_list()` queryset of fixed shape, compiled once, run with new values.

    `build(**markers)` must return the same queryset for any values, using each value as-is
    (an exact lookup, not inside LIKE or a list): compiling refuses anything else. Values are
    text unless named in `integers`. `bind` names, per value, a function
    `(connection, value) -> parameter` for values that an expression binds in a form of its
    own (e.g. AnyOf's list).
    """

    def __init__(
        self,
        build: Callable[..., QuerySet],
        *names: str,
        integers: tuple[str, ...] = (),
        bind: dict[str, Callable[[Any, Any], Any]] | None = None,
    ) -> None:
        self._build = build
        self._names = names
        self._bind = bind or {}
        self._markers: dict[str, Any] = {
            name: IntegerMarker(secrets.randbits(62))
            if name in integers
            else Marker(f"compiled:{name}:{secrets.token_hex(8)}")
            for name in names
        }
        self._model_class = None
        # Per thread: a compiler holds its thread's connection.
        self._local = threading.local()

    def rows(self, *, using: str | None = None, **values: Any) -> list:
        """Return the rows for `values`, read from `using` or where the router sends reads."""
        if set(values) != set(self._names):
            raise TypeError(f"expected values for {sorted(self._names)}, got {sorted(values)}")
        model = self._model()
        alias = using or router.db_for_read(model)
        compiled = getattr(self._local, alias, None) or self._compile(alias)
        sql, template, slots, compiler, columns = compiled
        connection = connections[alias]
        params = list(template)
        for index, name in slots:
            bind = self._bind.get(name)
            params[index] = values[name] if bind is None else bind(connection, values[name])
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        rows = compiler.results_iter([fetched])
        if columns is None:  # values_list()
            return [tuple(row) for row in rows]
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def _model(self):
        if self._model_class is None:
            self._model_class = self._build(**self._markers).model
        return self._model_class

    def _compile(self, alias: str) -> tuple:
        markers = self._markers
        queryset = self._build(**markers).using(alias)
        query = queryset.query
        if query.selected is None and not query.values_select:
            raise TypeError("CompiledValues needs a .values() or .values_list() queryset")
        compiler = query.get_compiler(alias)
        sql, params = compiler.as_sql()
        slots = []
        by_marker = {(type(m) is IntegerMarker, m): name for name, m in markers.items()}
        texts = [marker for marker in markers.values() if isinstance(marker, Marker)]
        for index, param in enumerate(params):
            if isinstance(param, (str, int)) and not isinstance(param, bool):
                found = by_marker.pop((not isinstance(param, str), param), None)
                if found is not None:
                    slots.append((index, found))
                    continue
            if isinstance(param, str) and any(marker in param for marker in texts):
                raise ValueError(f"a value is transformed in the SQL, not bound as-is: {param!r}")
        if by_marker:
            raise ValueError(f"values not found in the SQL: {sorted(by_marker.values())}")
        # The names ValuesIterable gives the columns; None for values_list() tuples.
        columns = (
            None
            if queryset._iterable_class is not ValuesIterable
            else (
                list(query.selected)
                if query.selected
                else [
                    *query.extra_select,
                    *query.values_select,
                    *query.annotation_select,
                ]
            )
        )
        compiled = (sql, tuple(params), tuple(slots), compiler, columns)
        setattr(self._local, alias, compiled)
        return compiled
