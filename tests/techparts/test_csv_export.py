"""The shared CSV writer: every cell quoted, free text defused piece by piece, numbers kept."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from techparts.csv_export import (
    csv_lines,
    neutralise,
)


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("ok;=SUM(1+1);", "ok;'=SUM(1+1);"),
        ("\t=1", "'\t'=1"),
        ("\r=1", "'\r'=1"),
        ("a|@x", "a|'@x"),
        ("x, -1+1", "x,' -1+1"),
        ("+1", "'+1"),
        ("-", "'-"),
        (" =1", "' =1"),  # a trimming import would see =1
        ("a;b,=1", "a;b,'=1"),  # each separator on its own
        ("line\n=1", "line\n'=1"),  # a line-by-line reading
        ("tab\t@x", "tab\t'@x"),  # a tab-separated reading
        ("ok\u00a0;\u3000=1", "ok\u00a0;'\u3000=1"),  # Unicode blanks count as blanks
        ("Cycle count, aisle 7", "Cycle count, aisle 7"),
        ("user@example.com; a-b", "user@example.com; a-b"),  # @ and - inside a piece are fine
        ("", ""),
    ],
)
def test_text_gets_a_quote_before_each_piece_a_formula_would_start(text, written):
    assert neutralise(text) == written


def test_every_cell_is_quoted_and_numbers_stay_numbers():
    lines = list(
        csv_lines(["name", "change", "price", "note"], [["=1", -5, Decimal("-1.50"), None]])
    )

    assert lines == ['"name","change","price","note"\r\n', '"\'=1","-5","-1.50",""\r\n']
    assert list(csv.reader(io.StringIO("".join(lines))))[1] == ["'=1", "-5", "-1.50", ""]


@pytest.mark.parametrize("value", [1.5, date(2024, 1, 1), True, object()])
def test_cells_of_other_types_are_refused_so_each_export_decides_how_to_write_them(value):
    with pytest.raises(TypeError):
        list(csv_lines(["cell"], [[value]]))


def test_blanks_known_to_the_database_path_are_exactly_pythons():
    import sys

    from techparts.csv_export import BLANKS

    assert "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()) == BLANKS
