"""Stock corrections from a spreadsheet: a CSV file read into bulk items, reviewed, then applied.

The file format is documented in docs/inventory.md ("Bulk corrections from a CSV file"): a
header row naming the columns (COLUMNS, in any order), then one row per SKU with a new count
(`quantity`) or a signed change (`adjust_by`), a reason code, an optional note, and the
file's reference. Every change goes through `inventory.services.stock_bulk_apply`, the service
of POST /v1/inventory/bulk: first as a dry run (the review, which writes nothing), then for
real (the apply) as one adjustment group. Between the two the file is kept as a StockImport
row, so the apply runs exactly the reviewed content, once, for its uploader only, and only if
the stock still gives the outcomes that were reviewed.

Every walk over the file is bounded: its size (MAX_FILE_BYTES) before it is decoded, its rows
(BULK_MAX_ITEMS, the bulk service's own limit) and each cell's length (MAX_CELL_LENGTHS).
"""

import csv
import hashlib
import io
import json
import re
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from catalog.models import Product
from inventory import reasons
from inventory.errors import CorrectionsFileRefused, StockConflict
from inventory.models import MAX_ON_HAND, StockImport, StockMovement
from inventory.services import (
    APPLIED,
    BULK_MAX_ITEMS,
    FAILED,
    REJECT_FAILED_ITEMS,
    UNCHANGED,
    BulkItem,
    BulkResult,
    stock_bulk_apply,
)
from techparts.actors import Actor
from techparts.errors import Conflict, NotFound

COLUMNS = ("sku", "quantity", "adjust_by", "reason_code", "note", "reference")
# The most bytes of one file: 2,000 rows of SKU, count, code and a 200-character note fit.
MAX_FILE_BYTES = 1024 * 1024
MAX_ROWS = BULK_MAX_ITEMS
# A note is the ledger's reason text, as long as the API's `reason` and the admin form's note.
NOTE_MAX_LENGTH = 200
MAX_CELL_LENGTHS = {
    "sku": Product._meta.get_field("sku").max_length,
    "quantity": 12,
    "adjust_by": 12,
    "reason_code": 40,
    "note": NOTE_MAX_LENGTH,
    "reference": StockMovement._meta.get_field("reference").max_length,
    "": 0,  # a column without a name in the header holds nothing
}
# How long an upload waits for its apply; older ones are deleted at the next upload.
IMPORT_TTL = timedelta(hours=24)

_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class CorrectionsFile:
    """A file read into bulk items, with each item's spreadsheet row (the header is row 1)."""

    text: str
    items: list[BulkItem]
    rows: list[int]
    reference: str
    delimiter: str


def corrections_csv_read(*, data: bytes) -> CorrectionsFile:
    """Read an uploaded corrections file into bulk items, one per row that is not blank.

    A row with input errors becomes a malformed item whose message names the row and says
    what is wrong ("row 7: adjust_by 'abc' is not a whole number"); the bulk service reports
    it as failed. A file that cannot be read as a whole (too large, not UTF-8 CSV, a bad
    header, too many rows, several references) raises CorrectionsFileRefused.
    """
    return corrections_csv_parse(text=_decode(data))


def corrections_csv_parse(*, text: str) -> CorrectionsFile:
    """`corrections_csv_read` for a file already decoded (and at most MAX_FILE_BYTES long)."""
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    items: list[BulkItem] = []
    rows: list[int] = []
    references: list[str] = []
    first_row_of: dict[str, int] = {}
    try:
        columns = _columns(next(reader, None))
        for row, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # spreadsheets write empty rows at the end
            if len(items) == MAX_ROWS:
                raise CorrectionsFileRefused(
                    f"The file has more than {MAX_ROWS} rows of corrections; split it into "
                    f"files of at most {MAX_ROWS} rows."
                )
            item, reference = _row_item(row, cells, columns, first_row_of=first_row_of)
            items.append(item)
            rows.append(row)
            # Three different ones are enough to name; a fourth shows there are more.
            if reference and reference not in references and len(references) < 4:
                references.append(reference)
    except csv.Error as exc:
        raise CorrectionsFileRefused(
            f"The file is not valid CSV (near line {reader.line_num}): {exc}."
        ) from exc
    if not items:
        raise CorrectionsFileRefused("The file has a header but no rows of corrections.")
    if len(references) > 1:
        raise CorrectionsFileRefused(
            f"The reference column holds different values ({_listed(references[:3])}"
            f"{', ...' if len(references) > 3 else ''}). One file is recorded as one "
            "adjustment with one reference: split the file by reference, or put each row's "
            "own document number in its note."
        )
    return CorrectionsFile(
        text=text,
        items=items,
        rows=rows,
        reference=references[0] if references else "",
        delimiter=delimiter,
    )


def _decode(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise CorrectionsFileRefused(
            f"The file is larger than {MAX_FILE_BYTES // 1024} KB; split it into smaller files."
        )
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise CorrectionsFileRefused(
            "This is an Excel workbook, not a CSV file: in your spreadsheet choose "
            "Save As > 'CSV UTF-8 (comma delimited)' and upload that file."
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CorrectionsFileRefused(
            "The file is UTF-16 text ('Unicode text'); save it as 'CSV UTF-8' instead."
        )
    try:
        text = data.decode("utf-8-sig")  # with or without the byte-order mark Excel writes
    except UnicodeDecodeError as exc:
        raise CorrectionsFileRefused(
            f"The file is not UTF-8 text (byte {exc.start + 1} is not): in your spreadsheet "
            "choose Save As > 'CSV UTF-8 (comma delimited)'."
        ) from exc
    if "\x00" in text:
        raise CorrectionsFileRefused("The file holds NUL characters: it is not a CSV text file.")
    return text


def _delimiter(text: str) -> str:
    # Spreadsheets set to a European locale separate cells with ';' (the decimal comma
    # takes ','). The header decides: it holds only column names, so no value can mislead.
    # The header line ends at the first line break of any kind: CR alone in files saved by
    # Excel for Mac as "CSV (Macintosh)".
    header = re.split(r"[\r\n]", text, maxsplit=1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def _column_name(cell: str) -> str:
    return re.sub(r"[\s-]+", "_", cell.strip().lower())


def _columns(header: list[str] | None) -> list[str]:
    """Return the header's column names, in file order ("" for a column without a name)."""
    if header is None or not any(cell.strip() for cell in header):
        raise CorrectionsFileRefused(
            f"The file is empty: its first row must name the columns ({', '.join(COLUMNS)})."
        )
    names = [_column_name(cell) for cell in header]
    unknown = [
        cell.strip()
        for cell, name in zip(header, names, strict=True)
        if name and name not in COLUMNS
    ]
    if unknown:
        raise CorrectionsFileRefused(
            f"The first row must name the columns; {_listed(unknown[:5])} "
            f"{'is not one' if len(unknown) == 1 else 'are not'} of them. The columns are: "
            f"{', '.join(COLUMNS)} (download the template)."
        )
    for name in COLUMNS:
        if names.count(name) > 1:
            raise CorrectionsFileRefused(f"The header names the column '{name}' twice.")
    if "sku" not in names:
        raise CorrectionsFileRefused("The header has no 'sku' column.")
    if "quantity" not in names and "adjust_by" not in names:
        raise CorrectionsFileRefused(
            "The header has neither a 'quantity' column (new counts) nor an 'adjust_by' "
            "column (signed changes)."
        )
    if "reason_code" not in names:
        raise CorrectionsFileRefused(
            "The header has no 'reason_code' column: every correction needs a reason "
            f"({', '.join(reasons.CALLER_CODES)})."
        )
    return names


def _shown(value: str) -> str:
    """A cell's text for a message: quoted, and cut short if long."""
    return repr(value if len(value) <= 20 else value[:20] + "...")


def _listed(values: list[str]) -> str:
    return ", ".join(_shown(value) for value in values)


def _whole_number(
    name: str, value: str, *, minimum: int, maximum: int, problems: list[str]
) -> int | None:
    if not _WHOLE_NUMBER.fullmatch(value):
        problems.append(f"{name} {_shown(value)} is not a whole number")
        return None
    number = int(value)
    if number < minimum:
        problems.append(f"{name} {number} is less than {minimum}")
        return None
    if number > maximum:
        problems.append(f"{name} {number} is more than {maximum}")
        return None
    return number


def _unnamed_problem(unnamed: list[tuple[int, str]]) -> str:
    # One problem for all of them, naming three: a header of many empty names must not turn
    # one row into a message per cell.
    if len(unnamed) == 1:
        position, value = unnamed[0]
        return f"column {position} has no name in the header but holds {_shown(value)}"
    named = ", ".join(str(position) for position, _value in unnamed[:3])
    more = f" and {len(unnamed) - 3} more" if len(unnamed) > 3 else ""
    return f"columns {named}{more} have no name in the header but hold values"


def _row_item(
    row: int, cells: list[str], columns: list[str], *, first_row_of: dict[str, int]
) -> tuple[BulkItem, str]:
    """Return one row's bulk item (malformed, naming the row, if its cells are wrong) and its
    reference. Cells a short row leaves out are empty."""
    problems: list[str] = []
    if len(cells) > len(columns) and any(cell.strip() for cell in cells[len(columns) :]):
        problems.append(f"it has {len(cells)} cells, but the header names {len(columns)} columns")
    values = dict.fromkeys(COLUMNS, "")
    too_long: set[str] = set()  # named once, not checked further
    unnamed: list[tuple[int, str]] = []  # (position, value) of cells in columns without a name
    for position, (name, cell) in enumerate(zip(columns, cells, strict=False), start=1):
        value = cell.strip()
        limit = MAX_CELL_LENGTHS[name]
        if not name and value:
            unnamed.append((position, value))
        elif len(value) > limit:
            problems.append(f"{name} is longer than {limit} characters")
            too_long.add(name)
        elif name:
            values[name] = value
    if unnamed:
        problems.append(_unnamed_problem(unnamed))
    sku = values["sku"].upper() or None
    if sku is None and "sku" not in too_long:
        problems.append("sku is empty")
    quantity = adjust_by = None
    if too_long & {"quantity", "adjust_by"}:
        pass
    elif values["quantity"] and values["adjust_by"]:
        problems.append("give quantity or adjust_by, not both")
    elif values["quantity"]:
        quantity = _whole_number(
            "quantity", values["quantity"], minimum=0, maximum=MAX_ON_HAND, problems=problems
        )
    elif values["adjust_by"]:
        adjust_by = _whole_number(
            "adjust_by",
            values["adjust_by"],
            minimum=-MAX_ON_HAND,
            maximum=MAX_ON_HAND,
            problems=problems,
        )
        if adjust_by == 0:
            problems.append("adjust_by 0 changes nothing")
    else:
        problems.append("give a new count in quantity or a signed change in adjust_by")
    code = _column_name(values["reason_code"])  # a label works too: "Cycle count" is cycle_count
    if "reason_code" in too_long:
        pass
    elif not code:
        problems.append(f"reason_code is empty; use one of: {', '.join(reasons.CALLER_CODES)}")
    elif code not in reasons.CALLER_CODES:
        problems.append(
            f"reason_code {_shown(values['reason_code'])} is not one of: "
            f"{', '.join(reasons.CALLER_CODES)}"
        )
    if code == "other" and not values["note"] and "note" not in too_long:
        problems.append("reason_code 'other' needs a note saying what happened")
    if sku is not None and not problems:
        if sku in first_row_of:
            problems.append(f"SKU '{sku}' is already on row {first_row_of[sku]}")
        else:
            first_row_of[sku] = row
    if problems:
        return BulkItem(sku=sku, malformed=f"row {row}: " + "; ".join(problems)), ""
    item = BulkItem(
        sku=sku, quantity=quantity, adjust_by=adjust_by, reason_code=code, reason=values["note"]
    )
    return item, values["reference"]


# --- Review and apply ---


@dataclass(frozen=True)
class ImportRow:
    """One row of a corrections file and what the bulk service answers for it."""

    row: int
    sku: str | None
    asked: str  # "set to 9", "adjust by -3"; "" for a row with input errors
    reason_code: str
    note: str
    outcome: str  # the service's: applied, unchanged, failed, or any it adds later
    previous_quantity: int | None
    quantity: int | None
    change: int | None
    message: str | None

    @property
    def change_text(self) -> str:
        """ "12 → 9 (-3)"; empty when the outcome carries no change."""
        if self.previous_quantity is None or self.change is None:
            return ""
        after = self.previous_quantity + self.change
        return f"{self.previous_quantity} → {after} ({self.change:+d})"


@dataclass(frozen=True)
class ImportReview:
    """A file's rows with their outcomes: a dry run (`applied` False) or the applied result."""

    stock_import: StockImport
    reference: str
    rows: list[ImportRow]
    applied: bool
    adjustment_group: UUID | None

    @property
    def fingerprint(self) -> str:
        """A digest of every row's outcome: an apply goes ahead only if it still matches."""
        outcomes = [
            [r.row, r.outcome, r.previous_quantity, r.quantity, r.change, r.message]
            for r in self.rows
        ]
        return hashlib.sha256(json.dumps(outcomes).encode()).hexdigest()

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def counts(self) -> list[tuple[str, int]]:
        """(outcome, rows) for every outcome present: the known ones first, then any other."""
        present = dict.fromkeys([APPLIED, UNCHANGED, FAILED, *(r.outcome for r in self.rows)], 0)
        for row in self.rows:
            present[row.outcome] += 1
        return [(outcome, count) for outcome, count in present.items() if count]


def _asked(item: BulkItem) -> str:
    if item.malformed is not None:
        return ""
    if item.quantity is not None:
        return f"set to {item.quantity}"
    return f"adjust by {item.adjust_by:+d}"


def _rows(parsed: CorrectionsFile, result: BulkResult) -> list[ImportRow]:
    return [
        ImportRow(
            row=row,
            sku=outcome.sku,
            asked=_asked(item),
            reason_code=item.reason_code or "",
            note=item.reason,
            outcome=outcome.outcome,
            previous_quantity=outcome.previous_quantity,
            quantity=outcome.quantity,
            change=outcome.change,
            message=outcome.message,
        )
        for row, item, outcome in zip(parsed.rows, parsed.items, result.outcomes, strict=True)
    ]


def stock_import_create(*, user: AbstractBaseUser, filename: str, data: bytes) -> StockImport:
    """Keep an uploaded corrections file for its review, or refuse it (CorrectionsFileRefused).

    Uploads older than IMPORT_TTL, applied or not, are deleted here: the ledger keeps what
    was applied.
    """
    parsed = corrections_csv_read(data=data)
    now = timezone.now()
    stock_import_prune(now=now)
    return StockImport.objects.create(
        id=uuid.uuid4(),
        uploaded_by=user,
        filename=filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255],
        content=parsed.text,
        created_at=now,
    )


def stock_import_prune(*, now: datetime) -> int:
    """Delete uploads older than IMPORT_TTL at `now`, applied or not; return how many.

    Run by the task sweeper (inventory.hooks) and at every upload, so an unused file leaves
    the database within a sweep of expiring even when nobody uploads again.
    """
    deleted, _ = StockImport.objects.filter(created_at__lt=now - IMPORT_TTL).delete()
    return deleted


def stock_import_get(*, import_id: UUID, user: AbstractBaseUser) -> StockImport:
    """Return the user's own upload, if not older than IMPORT_TTL (NotFound otherwise)."""
    found = StockImport.objects.filter(
        id=import_id, uploaded_by=user, created_at__gte=timezone.now() - IMPORT_TTL
    ).first()
    if found is None:
        raise NotFound(
            "This upload does not exist, is not yours, or is older than 24 hours; "
            "upload the file again."
        )
    found.uploaded_by = user  # the filter says so; saves reading the user again
    return found


def stock_import_review(*, stock_import: StockImport) -> ImportReview:
    """Return every row's outcome: as applied, or, not applied yet, a dry run against the
    stock as it is now (nothing is written)."""
    if stock_import.applied_at is not None:
        return ImportReview(
            stock_import=stock_import,
            reference=corrections_csv_parse(text=stock_import.content).reference,
            rows=[ImportRow(**row) for row in stock_import.outcomes],
            applied=True,
            adjustment_group=stock_import.adjustment_group,
        )
    parsed = corrections_csv_parse(text=stock_import.content)
    return _dry_run(stock_import, parsed)


def _dry_run(stock_import: StockImport, parsed: CorrectionsFile) -> ImportReview:
    # Every row's own outcome: under all_or_nothing a failing row would hide the others'.
    result = stock_bulk_apply(
        items=parsed.items,
        actor=Actor.staff(stock_import.uploaded_by),
        reference=parsed.reference,
        error_policy=REJECT_FAILED_ITEMS,
        dry_run=True,
    )
    return ImportReview(
        stock_import=stock_import,
        reference=parsed.reference,
        rows=_rows(parsed, result),
        applied=False,
        adjustment_group=None,
    )


class StockMovedSinceReview(StockConflict):
    """The reviewed outcomes no longer hold; `review` has the current ones."""

    def __init__(self, review: ImportReview) -> None:
        super().__init__(
            "The stock changed since you reviewed this file, so some rows would now turn out "
            "differently. Nothing was applied: check the outcomes below and apply again."
        )
        self.review = review


@transaction.atomic
def stock_import_apply(
    *, import_id: UUID, user: AbstractBaseUser, error_policy: str, reviewed: str
) -> ImportReview:
    """Apply the user's reviewed upload through the bulk service, as one adjustment group.

    Under the upload's row lock (one apply per upload) and the stock rows' locks, the file is
    first run dry again: if any row's outcome differs from the reviewed one (`reviewed`, the
    review's fingerprint) nothing is applied (StockMovedSinceReview, with the current
    outcomes). Otherwise the real call runs with the chosen error policy; under
    `all_or_nothing` a failing row refuses the lot (BulkRejected), nothing is written.
    """
    stock_import = (
        StockImport.objects.select_for_update()
        .filter(id=import_id, uploaded_by=user, created_at__gte=timezone.now() - IMPORT_TTL)
        .first()
    )
    if stock_import is None:
        stock_import_get(import_id=import_id, user=user)  # raises its NotFound
    if stock_import.applied_at is not None:
        raise Conflict(
            f"This file was already applied at {stock_import.applied_at:%Y-%m-%d %H:%M} UTC; "
            "upload it again to apply it once more."
        )
    parsed = corrections_csv_parse(text=stock_import.content)
    now = _dry_run(stock_import, parsed)
    if now.fingerprint != reviewed:
        raise StockMovedSinceReview(now)
    # The dry run holds the stock rows' locks until this transaction ends: the real call
    # meets the stock the dry run saw.
    result = stock_bulk_apply(
        items=parsed.items,
        actor=Actor.staff(user),
        reference=parsed.reference,
        error_policy=error_policy,
    )
    rows = _rows(parsed, result)
    stock_import.applied_at = timezone.now()
    stock_import.error_policy = error_policy
    stock_import.adjustment_group = result.adjustment_group
    stock_import.outcomes = [asdict(row) for row in rows]
    stock_import.save(update_fields=["applied_at", "error_policy", "adjustment_group", "outcomes"])
    return ImportReview(
        stock_import=stock_import,
        reference=parsed.reference,
        rows=rows,
        applied=True,
        adjustment_group=result.adjustment_group,
    )


def corrections_template_rows() -> list[list[str | int]]:
    """Example rows for the downloadable template (header: COLUMNS)."""
    return [
        ["GPU-NV-4090-MSI-001", 20, "", "cycle_count", "Shelf B3 recount", "COUNT-2024-12"],
        ["CPU-AMD-5950X", "", -2, "damaged", "Dropped in aisle 4", "COUNT-2024-12"],
    ]
