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
from uuid import UUID

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

Cell = str | int | Decimal | UUID | None


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
    if isinstance(value, int | Decimal | UUID) and not isinstance(value, bool):
        return str(value)  # no formula can start a number or a UUID
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


# neutralise() as one PostgreSQL regular expression, so a large export can defuse its cells in
# the database (inventory.exports, where COPY writes the lines). A piece starts at the beginning
# or right after a separator (lookbehind), and gets a `'` if it starts with a formula character
# or with blanks and then a visible one (lookahead). `-` goes last in each bracket, where it is literal.
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
