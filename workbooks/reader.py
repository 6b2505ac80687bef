"""Read the table out of an uploaded .xlsx, .ods or .csv file.

Looks at every sheet for a header row (title rows, two-row merged headers and aliases allowed),
takes the sheet whose header has every required column, maps headers to columns and collects the
non-blank rows with their raw values; cleaning them is households.excel.normalise's job.
`read_table_isolated` runs the parse in a fresh interpreter under a memory limit and a deadline
(isolated.py), so a hostile file cannot take the web or worker process down. This module imports
nothing of Django, so that interpreter starts fast: columns arrive as anything with a key, a
header, aliases and a required flag (a `Column`, or its plain copy in the child).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import gc
import io
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import python_calamine

from workbooks import isolated
from workbooks.collect import Merge, collect_blocks
from workbooks.formats import CORRUPT, TOO_LARGE, decode_text, detect_format
from workbooks.headers import (
    HEADER_SCAN_ROWS,
    CellValue,
    ColumnSpec,
    FileRefused,
    Header,
    HeaderSpec,
    find_header,
    header_lookup,
    header_score,
    map_columns,
    missing_columns,
    missing_required,
    no_header,
    no_table,
)

logger = logging.getLogger(__name__)

INSTRUCTIONS_SHEET = "说明"
DEFAULT_MEMORY_LIMIT_BYTES = 1536 * 2**20
DEFAULT_TIMEOUT_SECONDS = 120.0
# What Excel, WPS and LibreOffice write as "CSV" or "文本文件" in Chinese and European locales.
CSV_DELIMITERS = (",", "\t", ";", "|")
CSV_SAMPLE_CHARS = 64 * 1024

PARSE_FAILED = "文件解析失败，可能已损坏或过大"


class RawRow(NamedTuple):
    row_number: int  # as the spreadsheet shows it, 1-based
    values: dict[str, CellValue]  # column key → raw cell value ("" when empty)


@dataclass
class Table:
    sheet: str  # the sheet's name; a CSV file's name
    header_row: int  # 1-based; the lower row of a two-row header
    column_map: dict[str, int]  # column key → 1-based column number in the sheet
    # Header texts that match no column, with their letters ("联系方式（F列）"): their data is not imported.
    ignored_columns: list[str]
    row_numbers: list[int]  # as the spreadsheet shows them, 1-based
    # Column by column, in column_map's order: one raw value per row ("" when empty); empty when a
    # register's parser took the rows as they were read (read_table_isolated's on_rows).
    data: list[Sequence[CellValue]]
    # What that parser made of them (the pipeline sets it; the register's stage() reads it).
    parsed: Any = None

    @property
    def row_count(self) -> int:
        return len(self.row_numbers)

    def columns(self) -> dict[str, Sequence[CellValue]]:
        """Column key → that column's raw values, one per row: what column-wise validation reads."""
        return dict(zip(self.column_map, self.data, strict=True))

    def take_columns(self) -> dict[str, Sequence[CellValue]]:
        """columns(), handed over: the table lets go of its cells, so the taker can free them as it goes."""
        columns = self.columns()
        self.data = []
        self.__dict__.pop("rows", None)
        return columns

    @functools.cached_property
    def rows(self) -> list[RawRow]:
        """The rows as RawRows, built on first use: a dict per row costs time and memory at 200,000 rows."""
        keys = list(self.column_map)
        # Hundreds of thousands of new containers would trigger the cycle collector over and over.
        gc.disable()
        try:
            values = zip(*self.data, strict=True) if self.data else (() for _ in self.row_numbers)
            numbered = zip(self.row_numbers, values, strict=True)
            return [RawRow(number, dict(zip(keys, row, strict=True))) for number, row in numbered]
        finally:
            gc.enable()


@dataclass(frozen=True)
class _Request:
    path: Path
    columns: tuple[ColumnSpec, ...]
    original_name: str
    max_rows: int
    max_uncompressed_bytes: int


def read_table(
    path: Path, *, columns: Sequence[ColumnSpec], original_name: str, max_rows: int, max_uncompressed_bytes: int
) -> Table:
    """The table in the file, or FileRefused with a Chinese reason.

    Parses in the calling process: a hostile workbook can abort it. Uploads go through read_table_isolated.
    """
    request = _Request(path, tuple(columns), original_name, max_rows, max_uncompressed_bytes)
    return _assemble(itertools.chain(_read(request), [("end",)]), None)


RowsCallback = Callable[[int, dict[str, Sequence[CellValue]]], None]


def _read(request: _Request) -> Iterator[tuple[Any, ...]]:
    """The table as it is read: ("start", sheet, header row, column map, ignored columns), then
    ("rows", row numbers, values column by column) per block of rows; FileRefused at any point."""
    if detect_format(request.path, request.original_name, request.max_uncompressed_bytes) == "csv":
        return _read_csv(request)
    return _read_workbook(request)


def _assemble(items: Iterable[Any], on_rows: RowsCallback | None) -> Table:
    """The Table of _read's items and a final ("end",); with on_rows, each block of rows is handed to
    it (with the index of its first row) instead of being kept in the Table.

    IsolatedFailure for items that do not make a table: the isolated child's answer is not trusted.
    """
    table: Table | None = None
    for item in items:
        kind = item[0]
        if kind == "refused" and len(item) == 2 and isinstance(item[1], str):
            raise FileRefused(item[1])
        if kind == "start" and table is None and len(item) == 5:
            _, sheet, header_row, column_map, ignored = item
            table = Table(sheet, header_row, column_map, ignored, [], [[] for _ in column_map])
        elif kind == "rows" and table is not None and len(item) == 3:
            _, numbers, columns = item
            if len(columns) != len(table.column_map) or any(len(column) != len(numbers) for column in columns):
                raise isolated.IsolatedFailure("rows of another shape")
            if on_rows is not None:
                on_rows(table.row_count, dict(zip(table.column_map, columns, strict=True)))
            else:
                for kept, column in zip(table.data, columns, strict=True):
                    kept.extend(column)  # type: ignore[attr-defined]
            table.row_numbers.extend(numbers)
        elif kind == "end" and table is not None and len(item) == 1:
            if on_rows is not None:
                table.data = []
            return table
        else:
            raise isolated.IsolatedFailure(f"unexpected {kind!r}")
    raise isolated.IsolatedFailure("no end")


class _Candidate(NamedTuple):
    name: str
    score: int
    header: Header
    top: list[Sequence[CellValue]]
    rest: Iterator[Sequence[CellValue]]
    merged: list[Merge]


def _read_workbook(request: _Request) -> Iterator[tuple[Any, ...]]:
    """The sheet whose header has every required column, the one matching most headers if several do."""
    lookup = header_lookup(request.columns)
    findings: list[tuple[str, Header | None, list[str]]] = []  # sheet, its header, required columns it lacks
    best: _Candidate | None = None
    try:
        with request.path.open("rb") as file:
            workbook = python_calamine.load_workbook(file)
        for name in _worksheet_names(workbook):
            sheet = workbook.get_sheet_by_name(name)
            rows = _sheet_rows(sheet)
            top = list(itertools.islice(rows, HEADER_SCAN_ROWS))
            header = find_header(top, request.columns)
            missing = missing_required(header, request.columns) if header is not None else []
            findings.append((name, header, missing))
            if header is None or missing:
                continue
            score = header_score(header.texts, lookup)
            if best is None or score > best.score:
                # Only the chosen sheet's cells are kept: a summary sheet looked at before is let go.
                best = _Candidate(name, score, header, top, rows, sheet.merged_cell_ranges or [])
    except python_calamine.CalamineError as error:
        raise FileRefused(CORRUPT) from error
    if best is None:
        raise no_table(request.columns, findings)
    yield from _collect(request, best.name, best.header, itertools.chain(best.top, best.rest), best.merged)


def _worksheet_names(workbook: python_calamine.CalamineWorkbook) -> list[str]:
    """The workbook's worksheets in order, without charts and the template's 说明 sheet."""
    return [
        metadata.name
        for metadata in workbook.sheets_metadata
        if metadata.typ == python_calamine.SheetTypeEnum.WorkSheet and metadata.name.strip() != INSTRUCTIONS_SHEET
    ]


def _sheet_rows(sheet: python_calamine.CalamineSheet) -> Iterator[Sequence[CellValue]]:
    """Every row of the sheet from row 1, each from column A."""
    # iter_rows yields every row from the first, but only the columns from the first used one.
    offset = sheet.start[1] if sheet.start else 0
    if offset == 0:
        return iter(sheet.iter_rows())
    return ([*([""] * offset), *row] for row in sheet.iter_rows())


def table_rows(
    path: Path, *, columns: Sequence[ColumnSpec], original_name: str, sheet: str, max_bytes: int
) -> tuple[str, Iterator[Sequence[CellValue]]]:
    """Every row of the sheet the table was read from (a CSV file's only one), as the reader saw them.

    For the error workbook, run in the isolated child like the reader.
    """
    request = _Request(path, tuple(columns), original_name, 0, max_bytes)
    if detect_format(request.path, request.original_name, request.max_uncompressed_bytes) == "csv":
        return _csv_rows(request)
    try:
        with path.open("rb") as file:
            workbook = python_calamine.load_workbook(file)
        names = _worksheet_names(workbook) or [workbook.sheet_names[0]]
        name = sheet if sheet in workbook.sheet_names else names[0]
        return name, _sheet_rows(workbook.get_sheet_by_name(name))
    except (python_calamine.CalamineError, IndexError) as error:
        raise FileRefused(CORRUPT) from error


def _read_csv(request: _Request) -> Iterator[tuple[Any, ...]]:
    name, rows = _csv_rows(request)
    try:
        top: list[Sequence[CellValue]] = list(itertools.islice(rows, HEADER_SCAN_ROWS))
        header = find_header(top, request.columns)
        if header is None:
            raise no_header(request.columns, [])
        missing = missing_required(header, request.columns)
        if missing:
            raise missing_columns(missing, header)
        yield from _collect(request, name, header, itertools.chain(top, rows), [])
    except csv.Error as error:
        line = getattr(rows, "line_num", 0)
        raise FileRefused(f"CSV 文件格式有误（第{line}行），请在 Excel 中重新保存后再上传") from error


def _csv_rows(request: _Request) -> tuple[str, Iterator[Sequence[CellValue]]]:
    """The file's name and its rows, decoded and split at the delimiter its header row uses."""
    if request.path.stat().st_size > request.max_uncompressed_bytes:
        raise FileRefused(TOO_LARGE)
    data = request.path.read_bytes()
    text = decode_text(data)
    delimiter = _delimiter(text, request.columns)
    return Path(request.original_name).name, csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _delimiter(text: str, columns: Sequence[ColumnSpec]) -> str:
    """The delimiter under which the first rows hold the best header; the most frequent one if none does.

    Counting alone misleads: a tab-separated file whose amounts are written "1,234.50" has more commas than tabs.
    """
    lines = text[:CSV_SAMPLE_CHARS].splitlines()[:HEADER_SCAN_ROWS]
    sample = "\n".join(lines)
    lookup = header_lookup(columns)

    def quality(delimiter: str) -> tuple[int, int]:
        try:
            rows = list(csv.reader(lines, delimiter=delimiter))
        except csv.Error:
            return (0, 0)
        best = max((header_score([cell.strip() for cell in row], lookup) for row in rows), default=0)
        return (best, sample.count(delimiter))

    return max(CSV_DELIMITERS, key=quality)


def _collect(
    request: _Request, sheet: str, header: Header, rows: Iterable[Sequence[CellValue]], merged: list[Merge]
) -> Iterator[tuple[Any, ...]]:
    """Non-blank rows below the header, values of the mapped columns only, a block at a time."""
    column_map, ignored = map_columns(header, request.columns)
    yield ("start", sheet, header.row, column_map, ignored)
    positions = [number - 1 for number in column_map.values()]
    found = False
    for numbers, columns in collect_blocks(
        rows, header_row=header.row, positions=positions, merged=merged, max_rows=request.max_rows
    ):
        found = True
        yield ("rows", numbers, columns)
    if not found:
        raise FileRefused(f"没有数据行（表头在第{header.row}行）")


def column_specs(columns: Sequence[ColumnSpec]) -> list[list[Any]]:
    """Columns as JSON for the isolated child, which rebuilds them as HeaderSpecs."""
    return [[column.key, column.header, list(column.aliases), column.required] for column in columns]


def header_specs(specs: list[list[Any]]) -> tuple[HeaderSpec, ...]:
    return tuple(HeaderSpec(key, header, tuple(aliases), required) for key, header, aliases, required in specs)


def read_table_isolated(
    path: Path,
    *,
    columns: Sequence[ColumnSpec],
    original_name: str,
    max_rows: int,
    max_uncompressed_bytes: int,
    memory_limit_bytes: int = DEFAULT_MEMORY_LIMIT_BYTES,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    on_rows: RowsCallback | None = None,
) -> Table:
    """read_table in a fresh interpreter that may use memory_limit_bytes of address space and timeout_seconds.

    The child sends the rows a block at a time; with on_rows each block is handed to it as it comes
    (while the child reads the next) and not kept in the Table. Should the read then fail, the
    blocks already handed over are the caller's to forget.
    """
    arguments = {
        "path": str(path.resolve()),
        "columns": column_specs(columns),
        "original_name": original_name,
        "max_rows": max_rows,
        "max_uncompressed_bytes": max_uncompressed_bytes,
    }
    answers = isolated.stream_isolated(
        f"{__name__}:read_in_child",
        arguments,
        memory_limit_bytes=memory_limit_bytes,
        timeout_seconds=timeout_seconds,
        label=original_name,
    )
    try:
        with contextlib.closing(answers):
            return _assemble(map(isolated.safe_loads, answers), on_rows)
    except isolated.IsolatedFailure as failure:
        raise FileRefused(PARSE_FAILED) from failure


def read_in_child(
    *, path: str, columns: list[list[Any]], original_name: str, max_rows: int, max_uncompressed_bytes: int
) -> Iterator[tuple[Any, ...]]:
    """read_table as the isolated child runs it: _read's items, then ("end",) or ("refused", the message)."""
    request = _Request(Path(path), header_specs(columns), original_name, max_rows, max_uncompressed_bytes)
    try:
        yield from _read(request)
    except FileRefused as refused:
        yield ("refused", refused.message)
        return
    yield ("end",)
