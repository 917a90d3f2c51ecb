"""The one way the project writes CSV: every cell quoted, free text defused for spreadsheets.

Spreadsheets run a cell that starts with `= + - @` (and, in some, a leading tab or carriage
return) as a formula. A cell is also re-split by whoever opens the file with another separator
(`;` in many locales, `|`, tab, or a one-cell-per-line reading), so every piece a separator
could cut off is checked too, not only the start of the cell. A dangerous piece gets a `'`
in front of it (OWASP's advice), which spreadsheets read as "this is text" and do not show.

Numbers (`int`, `Decimal`) are written as they are: the code computes them, so `-5` in a
quantity column is a negative number, not a formula. Every `str` is treated as free text.
"""

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

from django.db.models import Func
from django.db.models.fields import TextField
from django.http import StreamingHttpResponse

# What a spreadsheet may run as a formula when a cell, or a piece of it, starts with it.
FORMULA_START = frozenset("=+-@\t\r")
# Where a spreadsheet or a careless import may cut a cell into pieces.
SEPARATORS = ";,|\t\r\n"

# Every character `str.isspace()` calls blank (a test pins this against Python itself).
BLANKS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_MAY_NEED_QUOTE = re.compile("[" + re.escape("".join(sorted(FORMULA_START))) + "]")

Cell = str | int | Decimal | None


def neutralise(text: str) -> str:
    """Return text with `'` before the cell and before each separator-led piece a formula starts.

    A piece is dangerous if it starts with a formula character, or does so after leading
    blanks (an import that trims them would expose what follows).
    """
    if not _MAY_NEED_QUOTE.search(text):
        return text  # the usual case, kept fast for exports of many rows
    # next_visible[i]: the first character at or after i that is not blank ("" at the end).
    next_visible = [""] * (len(text) + 1)
    for i in range(len(text) - 1, -1, -1):
        next_visible[i] = next_visible[i + 1] if text[i].isspace() else text[i]
    out = []
    for i, char in enumerate(text):
        starts_piece = i == 0 or text[i - 1] in SEPARATORS
        if starts_piece and (char in FORMULA_START or next_visible[i] in FORMULA_START):
            out.append("'")
        out.append(char)
    return "".join(out)


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"CSV cells are text or numbers, not {type(value).__name__}")


class _Echo:
    """A file-like object whose write() hands back the line, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Iterator[str]:
    """Yield the header line, then one line per row: all cells quoted, text neutralised."""
    yield from csv_row_lines([header])
    yield from csv_row_lines(rows)


def csv_row_lines(rows: Iterable[Sequence[Cell]]) -> Iterator[str]:
    """Yield one line per row (no header): all cells quoted, text neutralised."""
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
    for row in rows:
        yield writer.writerow([_cell(value) for value in row])


def csv_response(lines: Iterable[str], *, filename: str) -> StreamingHttpResponse:
    """Stream CSV lines as a UTF-8 attachment called filename."""
    return StreamingHttpResponse(
        lines,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# neutralise() as one PostgreSQL regular expression, so a large export can build its lines in
# the database (see CsvLine). A piece starts at the beginning or right after a separator
# (lookbehind), and gets a `'` if it starts with a formula character or with blanks and then
# a visible one (lookahead). `-` goes last in each bracket, where it is literal.
_VISIBLE_FORMULA_START = "".join(sorted(FORMULA_START - set(BLANKS)))
NEUTRALISE_PG_PATTERN = (
    f"(?:^|(?<=[{SEPARATORS}]))"
    f"(?=[{''.join(sorted(FORMULA_START)).replace('-', '')}-]"
    f"|[{BLANKS}]*[{_VISIBLE_FORMULA_START.replace('-', '')}-])"
)


# Matches exactly the text neutralise() changes: a piece that starts with a formula character.
NEEDS_NEUTRALISING_PG_PATTERN = (
    f"(^|[{SEPARATORS}])([{''.join(sorted(FORMULA_START & set(BLANKS)))}]"
    f"|[{BLANKS}]*[{_VISIBLE_FORMULA_START.replace('-', '')}-])"
)


# What sends a row down CsvLine's checked path: a piece a formula starts, or a double quote
# (which the plain path would have to double in every cell).
NEEDS_CHECKING_PG_PATTERN = f'{NEEDS_NEUTRALISING_PG_PATTERN}|"'


class CsvCell(Func):
    """A value as one CSV cell built by PostgreSQL; subclasses say how its content is written."""

    output_field = TextField()

    def __init__(self, expression, **extra):
        super().__init__(expression, **extra)

    def content_sql(self, compiler, *, checked: bool) -> tuple[str, tuple]:
        """Return the cell's content unquoted, '' for NULL (csv_lines writes None so).

        checked=False may skip the work only text holding a double quote or a piece a
        formula starts needs: the caller has ruled both out.
        """
        raise NotImplementedError

    def as_sql(self, compiler, connection, **extra_context):
        content, params = self.content_sql(compiler, checked=True)
        return f"""('"' || {content} || '"')""", params


class CsvTextCell(CsvCell):
    """A text column as a quoted, neutralised CSV cell: what csv_lines writes for a str."""

    def content_sql(self, compiler, *, checked: bool) -> tuple[str, tuple]:
        text, params = compiler.compile(self.source_expressions[0])
        if not checked:
            return f"COALESCE({text}, '')", tuple(params)
        # The cheap exact test first: most cells have no piece a formula starts, and the
        # lookaround pattern costs several times more per cell.
        sql = (
            f"COALESCE(replace(CASE WHEN ({text}) ~ %s "
            f"THEN regexp_replace(({text}), %s, '''', 'g') ELSE ({text}) END, "
            """'"', '""'), '')"""
        )
        patterns = (NEEDS_NEUTRALISING_PG_PATTERN, NEUTRALISE_PG_PATTERN)
        return sql, (*params, patterns[0], *params, patterns[1], *params)


class CsvNumberCell(CsvCell):
    """An integer or decimal column as a quoted CSV cell: what csv_lines writes for a number."""

    def content_sql(self, compiler, *, checked: bool) -> tuple[str, tuple]:
        number, params = compiler.compile(self.source_expressions[0])
        return f"COALESCE(({number})::text, '')", tuple(params)


class CsvUtcTimeCell(CsvCell):
    """A timestamp as a quoted `YYYY-MM-DDTHH:MM:SSZ` cell in UTC (strftime's %Y-%m-%dT%H:%M:%SZ)."""

    def content_sql(self, compiler, *, checked: bool) -> tuple[str, tuple]:
        time, params = compiler.compile(self.source_expressions[0])
        sql = (
            f"COALESCE(to_char(({time}) AT TIME ZONE 'UTC', "
            """'YYYY-MM-DD"T"HH24:MI:SS"Z"'), '')"""
        )
        return sql, tuple(params)


class CsvLine(Func):
    """One whole CSV line (cells joined by commas, CRLF at the end) built by PostgreSQL.

    Byte for byte what csv_lines yields for the same values (tests compare both on hostile
    text), so a large export need not turn every row into Python objects.
    """

    output_field = TextField()

    def __init__(self, *cells: CsvCell, **extra):
        super().__init__(*cells, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        checked, checked_params = self._line(compiler, checked=True)
        texts = [cell for cell in self.source_expressions if isinstance(cell, CsvTextCell)]
        if not texts:
            return checked, checked_params
        # One test per row instead of one per cell: a piece a formula starts in any text cell
        # is one in the cells joined by commas too (a comma is a separator). Rows with neither
        # such a piece nor a double quote (nearly all) take the plain line, cells as they are.
        compiled = [compiler.compile(text.source_expressions[0]) for text in texts]
        joined, joined_params = zip(*compiled, strict=True)
        plain, plain_params = self._line(compiler, checked=False)
        sql = (
            f"(CASE WHEN concat_ws(',', {', '.join(joined)}) ~ %s THEN {checked} ELSE {plain} END)"
        )
        params = [p for part in joined_params for p in part]
        return sql, (*params, NEEDS_CHECKING_PG_PATTERN, *checked_params, *plain_params)

    def _line(self, compiler, *, checked: bool) -> tuple[str, list]:
        # One concat_ws of the cells' contents costs PostgreSQL much less per row than quoting
        # each cell and joining them with ||. No content is NULL, so concat_ws skips none.
        parts, params = [], []
        for cell in self.source_expressions:
            sql, cell_params = cell.content_sql(compiler, checked=checked)
            parts.append(sql)
            params.extend(cell_params)
        return f"""('"' || concat_ws('","', {", ".join(parts)}) || %s)""", [*params, '"\r\n']
