"""The uploaded table handed back with a 错误说明 column and its bad cells highlighted.

Built in the isolated child from the same cells the reader parsed (isolated.py): the upload is never
opened in the web process, and every file the reader accepts (.xlsx, .ods, CSV in UTF-8, GBK or
UTF-16, comma, tab, semicolon or bar delimited) comes back as an .xlsx with its rows where they were.
This module imports nothing of Django, so the child can run it.
"""

from __future__ import annotations

import io
import itertools
import logging
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill

from workbooks import headers, isolated, reader

if TYPE_CHECKING:
    from workbooks.models import ImportBatch
    from workbooks.reader import CellValue

logger = logging.getLogger(__name__)

BAD = PatternFill("solid", fgColor="FFC7CE")
NOTE = Font(color="9C0006")
NOTE_HEADING = Font(bold=True, color="9C0006")
# An .xlsx sheet title: at most 31 characters, none of these.
_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# Writing the workbook takes about as long as reading it; the deadline is the reader's.
TIMEOUT_SECONDS = reader.DEFAULT_TIMEOUT_SECONDS


def errors_workbook(batch: ImportBatch) -> bytes:
    """Every error of the batch, on its row and (where it names one) its cell.

    Should the file no longer be there or its parse fail, the errors alone, one per row.
    """
    from django.conf import settings

    from workbooks import registers
    from workbooks.stored import local_copy

    arguments = {
        "columns": reader.column_specs(registers.get(batch.kind).columns),
        "original_name": batch.file_name,
        "max_uncompressed_bytes": settings.IMPORT_MAX_UNCOMPRESSED_BYTES,
        "sheet": batch.sheet_name,
        "header_row": batch.header_row or 1,
        "errors": [[error["row"], error["column"], error["message"]] for error in batch.errors],
    }
    try:
        # The upload may sit on another machine's disk or in object storage: the child reads a copy.
        with local_copy(batch.file) as upload:
            payload = isolated.run_isolated(
                f"{__name__}:build_in_child",
                {"path": str(upload), **arguments},
                memory_limit_bytes=settings.IMPORT_PARSER_MEMORY_BYTES,
                timeout_seconds=TIMEOUT_SECONDS,
                label=batch.file_name,
            )
        kind, body = isolated.safe_loads(payload)
    except isolated.IsolatedFailure:
        kind, body = "refused", reader.PARSE_FAILED
    except OSError as error:
        kind, body = "refused", f"upload unreadable: {error}"
    if kind == "workbook" and isinstance(body, bytes):
        return body
    logger.warning("Error workbook of batch %s without the original table: %s", batch.pk, body)
    return _errors_only(batch.errors)


def _errors_only(errors: list[dict[str, Any]]) -> bytes:
    """The errors as a list: what is left to hand back when the upload cannot be read."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("错误说明")
    sheet.append(["工作表", "行", "列", "户编号 / 姓名", "原因"])
    for error in errors:
        sheet.append([_plain(error.get(key, "")) for key in ("sheet", "row", "column", "who", "message")])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def build_in_child(
    *,
    path: str,
    columns: list[list[Any]],
    original_name: str,
    max_uncompressed_bytes: int,
    sheet: str,
    header_row: int,
    errors: list[list[Any]],
) -> tuple[str, Any]:
    """("workbook", its bytes) or ("refused", why): run by the isolated child, never by the web process."""
    specs = reader.header_specs(columns)
    try:
        name, cells = reader.table_rows(
            Path(path), columns=specs, original_name=original_name, sheet=sheet, max_bytes=max_uncompressed_bytes
        )
    except reader.FileRefused as refused:
        return ("refused", refused.message)
    messages: dict[int, list[str]] = defaultdict(list)
    bad_cells: dict[int, set[int]] = defaultdict(set)
    rows = _without_trailing_blanks(list(cells))
    positions = _header_positions(rows, header_row, specs)
    for row, column, message in errors:
        messages[row].append(f"{column}：{message}" if column else message)
        if column in positions:
            bad_cells[row].add(positions[column])
    width = max((len(row) for row in rows), default=0)
    return ("workbook", _write(name, rows, width, header_row, messages, bad_cells))


def _header_positions(
    rows: list[Sequence[CellValue]], header_row: int, specs: Sequence[reader.ColumnSpec]
) -> dict[str, int]:
    """Column header (as errors name it) → 0-based position, whichever alias the file spells it with."""
    lower = [_header_text(value) for value in rows[header_row - 1]] if len(rows) >= header_row else []
    upper = [_header_text(value) for value in rows[header_row - 2]] if 2 <= header_row <= len(rows) + 1 else []
    lookup = headers.header_lookup(specs)
    positions: dict[str, int] = {}
    # The lower row of a two-row header where it has text, the merged group text above where not.
    for position, (above, below) in enumerate(itertools.zip_longest(upper, lower, fillvalue="")):
        for text in (below, above):
            column = headers.match_header(text, lookup)
            if column is not None:
                positions.setdefault(column.header, position)
                break
    return positions


def _without_trailing_blanks(rows: list[Sequence[CellValue]]) -> list[Sequence[CellValue]]:
    """Formatted empty rows below the data (thousands, in a clerk's template) are not handed back."""
    end = len(rows)
    while end and not any(value not in ("", None) for value in rows[end - 1]):
        end -= 1
    return rows[:end]


def _header_text(value: CellValue) -> str:
    return "" if value is None else str(value).strip()


def _write(
    name: str,
    rows: list[Sequence[CellValue]],
    width: int,
    header_row: int,
    messages: dict[int, list[str]],
    bad_cells: dict[int, set[int]],
) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_TITLE_FORBIDDEN.sub("_", name)[:31] or "Sheet1")
    sheet.column_dimensions[headers.column_letter(width + 1)].width = 60

    def cells(number: int, row: Sequence[CellValue]) -> Iterator[Any]:
        marked = bad_cells.get(number, set())
        for position in range(width):
            value = row[position] if position < len(row) else None
            yield _cell(sheet, value, BAD if position in marked else None)
        if number == header_row:
            heading = WriteOnlyCell(sheet, value="错误说明")
            heading.font = NOTE_HEADING
            yield heading
        elif number in messages:
            note = WriteOnlyCell(sheet, value=_text("；".join(messages[number])))
            note.font = NOTE
            yield note

    for number, row in enumerate(rows, start=1):
        sheet.append(list(cells(number, row)))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(sheet: Any, value: CellValue, fill: PatternFill | None) -> Any:
    """The value as the file held it; text stays text even when it starts with "=" (never a formula)."""
    if value == "":
        value = None
    if fill is None and not (isinstance(value, str) and (value.startswith("=") or ILLEGAL_CHARACTERS_RE.search(value))):
        return value  # most cells: written as they are, without a cell object each
    cell = WriteOnlyCell(sheet, value=_text(value) if isinstance(value, str) else value)
    if isinstance(value, str):
        cell.data_type = "s"
    if fill is not None:
        cell.fill = fill
    return cell


def _plain(value: Any) -> Any:
    return _text(value) if isinstance(value, str) else value


def _text(value: Any) -> str:
    """Text an .xlsx can hold: control characters dropped."""
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))
