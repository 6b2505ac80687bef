"""Read the table out of an uploaded .xlsx, .ods or .csv file.

Finds the sheet and its header row (title rows, two-row merged headers and aliases allowed),
maps headers to columns and collects the non-blank rows with their raw values; cleaning them is
households.excel.normalise's job. `read_table_isolated` runs the parse in a forked child with a
memory limit and a deadline, so a hostile file cannot take the web or worker process down.
"""

from __future__ import annotations

import csv
import faulthandler
import functools
import gc
import hashlib
import importlib.metadata
import io
import itertools
import logging
import math
import operator
import os
import pickle
import resource
import select
import signal
import time
import traceback
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import python_calamine

from households.excel.columns import Column, header_key, header_lookup
from households.excel.normalise import CellValue

logger = logging.getLogger(__name__)

HEADER_SCAN_ROWS = 10
MIN_HEADER_MATCHES = 3
INSTRUCTIONS_SHEET = "说明"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
# A real workbook has a dozen or two members and compresses its XML about 10:1.
MAX_ZIP_MEMBERS = 1000
LARGE_MEMBER_BYTES = 16 * 2**20
MAX_COMPRESSION_RATIO = 100
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
DEFAULT_MEMORY_LIMIT_BYTES = 1536 * 2**20
DEFAULT_TIMEOUT_SECONDS = 120.0

UPLOAD_FORMATS = "请上传 .xlsx 或 .csv 文件"
XLS_REFUSED = "不支持 .xls 格式，请在 Excel 中“另存为” .xlsx 后再上传"
ENCRYPTED = "文件设置了打开密码，请在 Excel 中取消密码并另存为 .xlsx 后再上传"
CORRUPT = "文件已损坏或格式不正确，无法读取，请在 Excel 中重新保存为 .xlsx 后再上传"
TOO_LARGE = "文件解压后过大，疑似异常文件，已拒绝"
PARSE_FAILED = "文件解析失败，可能已损坏或过大"


class FileRefused(Exception):
    """The whole file cannot be imported; `message` tells the user why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RawRow(NamedTuple):
    row_number: int  # as the spreadsheet shows it, 1-based
    values: dict[str, CellValue]  # column key → raw cell value ("" when empty)


@dataclass
class Table:
    sheet: str  # the sheet's name; a CSV file's name
    header_row: int  # 1-based; the lower row of a two-row header
    column_map: dict[str, int]  # column key → 1-based column number in the sheet
    unknown_headers: list[str]  # headers that match no column, ignored
    row_numbers: list[int]  # as the spreadsheet shows them, 1-based
    # Column by column, in column_map's order: one raw value per row ("" when empty).
    data: list[Sequence[CellValue]]

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


@dataclass
class _Packed:
    """A Table as plain lists and tuples: cheap to pickle and safe to unpickle from the child."""

    sheet: str
    header_row: int
    column_map: dict[str, int]
    unknown_headers: list[str]
    row_numbers: list[int]
    data: list[Sequence[CellValue]]  # per column_map key, in its order: one value per row

    def as_table(self) -> Table:
        return Table(self.sheet, self.header_row, self.column_map, self.unknown_headers, self.row_numbers, self.data)

    def as_plain(self) -> tuple[Any, ...]:
        return (self.sheet, self.header_row, self.column_map, self.unknown_headers, self.row_numbers, self.data)


@dataclass(frozen=True)
class _Request:
    path: Path
    columns: tuple[Column, ...]
    original_name: str
    max_rows: int
    max_uncompressed_bytes: int


@dataclass
class _Header:
    row: int  # 1-based number of the last header row
    texts: list[str]  # per column, 0-based


def read_table(
    path: Path, *, columns: tuple[Column, ...], original_name: str, max_rows: int, max_uncompressed_bytes: int
) -> Table:
    """The table in the file, or FileRefused with a Chinese reason.

    Parses in the calling process: a hostile workbook can abort it. Uploads go through read_table_isolated.
    """
    return _read(_Request(path, columns, original_name, max_rows, max_uncompressed_bytes)).as_table()


def _read(request: _Request) -> _Packed:
    if _detect_format(request) == "csv":
        return _read_csv(request)
    return _read_workbook(request)


def _detect_format(request: _Request) -> str:
    """'xlsx', 'ods' or 'csv', judged by content first and by the name only for text files."""
    suffix = Path(request.original_name).suffix.lower()
    with request.path.open("rb") as file:
        magic = file.read(8)
    if not magic:
        raise FileRefused("文件是空的")
    if magic.startswith(OLE_MAGIC):
        # Excel wraps a password-protected .xlsx in the same container as an old .xls.
        raise FileRefused(ENCRYPTED if suffix in (".xlsx", ".xlsm") else XLS_REFUSED)
    if magic.startswith(ZIP_MAGIC):
        return _inspect_zip(request.path, request.max_uncompressed_bytes)
    if suffix == ".xls":
        raise FileRefused(XLS_REFUSED)
    if suffix in (".xlsx", ".xlsm", ".ods"):
        raise FileRefused(CORRUPT)
    if suffix not in (".csv", ".txt", ""):
        raise FileRefused(f"不支持 {suffix} 文件，{UPLOAD_FORMATS}")
    return "csv"


def _inspect_zip(path: Path, max_uncompressed_bytes: int) -> str:
    """Refuse zip bombs from the directory alone, before anything is decompressed."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            inflated = any(
                member.file_size > LARGE_MEMBER_BYTES
                and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)
                for member in members
            )
            total = sum(member.file_size for member in members)
            if len(members) > MAX_ZIP_MEMBERS or total > max_uncompressed_bytes or inflated:
                raise FileRefused(TOO_LARGE)
            names = {member.filename for member in members}
            mimetype = archive.read("mimetype") if "mimetype" in names else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as error:
        raise FileRefused(CORRUPT) from error
    if "xl/workbook.xml" in names:
        return "xlsx"
    if mimetype.startswith(ODS_MIMETYPE):
        return "ods"
    if "xl/workbook.bin" in names:
        raise FileRefused("不支持 .xlsb 格式，请在 Excel 中“另存为” .xlsx 后再上传")
    raise FileRefused(f"文件不是 Excel 工作簿，{UPLOAD_FORMATS}")


def _read_workbook(request: _Request) -> _Packed:
    checked: list[str] = []
    try:
        with request.path.open("rb") as file:
            workbook = python_calamine.load_workbook(file)
        for metadata in workbook.sheets_metadata:
            if metadata.typ != python_calamine.SheetTypeEnum.WorkSheet or metadata.name.strip() == INSTRUCTIONS_SHEET:
                continue
            checked.append(metadata.name)
            sheet = workbook.get_sheet_by_name(metadata.name)
            # iter_rows yields every row from the first, but only the columns from the first used one.
            offset = sheet.start[1] if sheet.start else 0
            rows: Iterator[Sequence[CellValue]] = (
                row if offset == 0 else [*([""] * offset), *row] for row in sheet.iter_rows()
            )
            top = list(itertools.islice(rows, HEADER_SCAN_ROWS))
            header = _find_header(top, request.columns)
            if header is not None:
                merged = sheet.merged_cell_ranges or []
                return _collect(request, metadata.name, header, itertools.chain(top, rows), merged)
    except python_calamine.CalamineError as error:
        raise FileRefused(CORRUPT) from error
    raise _no_header(request.columns, checked)


def _read_csv(request: _Request) -> _Packed:
    if request.path.stat().st_size > request.max_uncompressed_bytes:
        raise FileRefused(TOO_LARGE)
    data = request.path.read_bytes()
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRefused(f"文件不是文本表格，{UPLOAD_FORMATS}")
    text = _decode(data)
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        top: list[list[str]] = list(itertools.islice(reader, HEADER_SCAN_ROWS))
        header = _find_header(top, request.columns)
        if header is None:
            raise _no_header(request.columns, [])
        return _collect(request, Path(request.original_name).name, header, itertools.chain(top, reader), [])
    except csv.Error as error:
        raise FileRefused(f"CSV 文件格式有误（第{reader.line_num}行），请在 Excel 中重新保存后再上传") from error


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 as Excel's "Unicode 文本" writes it, else GB18030 (GBK)."""
    encodings = ("utf-16",) if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused("无法识别 CSV 文件的编码，请另存为“CSV UTF-8”格式后再上传")


def _match(text: str, lookup: dict[str, Column]) -> Column | None:
    return (lookup.get(header_key(text)) or lookup.get(text.replace(" ", ""))) if text else None


def _score(texts: list[str], lookup: dict[str, Column]) -> int:
    return len({column.key for text in texts if (column := _match(text, lookup)) is not None})


def _stack(upper: list[str], lower: list[str]) -> list[str]:
    """A two-row header: the lower row's text where present, else the (merged) group text above."""
    return [below or above for above, below in itertools.zip_longest(upper, lower, fillvalue="")]


def _find_header(top: Sequence[Sequence[CellValue]], columns: tuple[Column, ...]) -> _Header | None:
    """The row among the first ten matching the most headers; stacked with a neighbour if that matches more."""
    lookup = header_lookup(columns)
    texts = [["" if value is None else str(value).strip() for value in row] for row in top]
    scores = [_score(row, lookup) for row in texts]
    if not scores or max(scores) < MIN_HEADER_MATCHES:
        return None
    best = scores.index(max(scores))
    candidates = [(scores[best], best, texts[best])]
    if best > 0 and scores[best - 1] > 0:
        stacked = _stack(texts[best - 1], texts[best])
        candidates.append((_score(stacked, lookup), best, stacked))
    if best + 1 < len(texts) and scores[best + 1] > 0:
        stacked = _stack(texts[best], texts[best + 1])
        candidates.append((_score(stacked, lookup), best + 1, stacked))
    _, index, header_texts = max(candidates, key=lambda candidate: candidate[0])
    return _Header(row=index + 1, texts=header_texts)


def _no_header(columns: tuple[Column, ...], sheets: list[str]) -> FileRefused:
    expected = "、".join(column.header for column in columns if column.required)
    where = f"（已查看工作表：{'、'.join(sheets)}）" if sheets else ""
    return FileRefused(f"未找到表头：前{HEADER_SCAN_ROWS}行中没有“{expected}”等列名{where}，请使用导入模板")


def column_letter(number: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _map_columns(header: _Header, columns: tuple[Column, ...]) -> tuple[dict[str, int], list[str]]:
    lookup = header_lookup(columns)
    found: dict[str, list[int]] = {}
    unknown: list[str] = []
    for index, text in enumerate(header.texts):
        column = _match(text, lookup)
        if column is not None:
            found.setdefault(column.key, []).append(index + 1)
        elif text:
            unknown.append(text)
    headers = {column.key: column.header for column in columns}
    duplicates = [
        f"{headers[key]}（{'、'.join(column_letter(number) for number in numbers)}列）"
        for key, numbers in found.items()
        if len(numbers) > 1
    ]
    if duplicates:
        raise FileRefused(f"表头重复：{'；'.join(duplicates)}（第{header.row}行为表头），请删除或改名重复的列")
    missing = [column.header for column in columns if column.required and column.key not in found]
    if missing:
        raise FileRefused(f"缺少必需的列：{'、'.join(missing)}（第{header.row}行为表头）")
    return {key: numbers[0] for key, numbers in found.items()}, unknown


def _is_blank(values: Sequence[CellValue]) -> bool:
    return not any(value.strip() if isinstance(value, str) else value is not None for value in values)


Merge = tuple[tuple[int, int], tuple[int, int]]


def _collect(
    request: _Request, sheet: str, header: _Header, rows: Iterable[Sequence[CellValue]], merged: list[Merge]
) -> _Packed:
    """Non-blank rows below the header, values of the mapped columns only."""
    column_map, unknown = _map_columns(header, request.columns)
    positions = [number - 1 for number in column_map.values()]
    pick = operator.itemgetter(*positions)
    needed_width = max(positions) + 1
    slot_of = {position: slot for slot, position in enumerate(positions)}
    # A cell merged across rows below the header (户编号 spanning a household's members) holds
    # its value in the top-left cell only; every row of the merge means that value.
    starts: dict[int, list[Merge]] = {}
    for merge in merged:
        (top, left), (bottom, right) = merge
        if top >= header.row and (bottom > top or right > left):
            starts.setdefault(top, []).append(merge)
    active: list[tuple[int, list[tuple[int, CellValue]]]] = []
    # Most columns repeat a handful of texts (乡镇, 户类型, 是/否); sharing one string object per
    # distinct text makes the rows several times smaller to hold and to send to the parent.
    shared: dict[str, str] = {}
    numbers: list[int] = []
    packed: list[tuple[CellValue, ...]] = []
    for index, row in enumerate(rows):
        if index < header.row:
            continue
        if len(row) >= needed_width:
            values: Sequence[CellValue] = pick(row)
        else:
            values = [row[position] if position < len(row) else "" for position in positions]
        if starts or active:
            values = list(values)
            _fill_merged(index, values, row, starts, active, slot_of)
        first = values[0]
        # A data row usually starts with text (县, 村 or 区划代码): then it is not blank, no need to look further.
        if not (isinstance(first, str) and first and not first.isspace()) and _is_blank(values):
            continue
        if len(packed) >= request.max_rows:
            raise FileRefused(f"超过行数上限 {request.max_rows} 行，请拆分为多个文件后分别导入")
        numbers.append(index + 1)
        packed.append(tuple([shared.setdefault(v, v) if v.__class__ is str else v for v in values]))  # type: ignore[arg-type]
    if not packed:
        raise FileRefused(f"没有数据行（表头在第{header.row}行）")
    # Column by column, as the validator reads them. (At least MIN_HEADER_MATCHES columns are
    # mapped, so every row is a tuple of the same width.)
    data: list[Sequence[CellValue]] = list(zip(*packed, strict=True))
    return _Packed(sheet, header.row, column_map, unknown, numbers, data)


def _fill_merged(
    index: int,
    values: list[CellValue],
    row: Sequence[CellValue],
    starts: dict[int, list[Merge]],
    active: list[tuple[int, list[tuple[int, CellValue]]]],
    slot_of: dict[int, int],
) -> None:
    for (_, left), (bottom, right) in starts.pop(index, []):
        source = row[left] if left < len(row) else ""
        slots = [slot_of[position] for position in range(left, right + 1) if position in slot_of]
        if slots:
            active.append((bottom, [(slot, source) for slot in slots]))
    for _, fills in active:
        for slot, source in fills:
            if values[slot] == "":
                values[slot] = source
    active[:] = [entry for entry in active if entry[0] > index]


class _SafeUnpickler(pickle.Unpickler):
    """The child's answer holds plain values only; anything else is refused rather than built."""

    ALLOWED = {("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"), ("datetime", "timedelta")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed")
        return super().find_class(module, name)


def read_table_isolated(
    path: Path,
    *,
    columns: tuple[Column, ...],
    original_name: str,
    max_rows: int,
    max_uncompressed_bytes: int,
    memory_limit_bytes: int = DEFAULT_MEMORY_LIMIT_BYTES,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    keep: Path | None = None,
) -> Table:
    """read_table in a forked child that may use memory_limit_bytes more address space and timeout_seconds.

    With `keep`, the parsed table is also saved there for read_table_kept.
    """
    # os.fork rather than multiprocessing: Celery's prefork workers are daemonic processes, which
    # multiprocessing forbids to have children. Forking also means the child needs no Django
    # setup; it must not touch the database, and os._exit keeps it off the parent's connections.
    request = _Request(path, columns, original_name, max_rows, max_uncompressed_bytes)
    digest = _file_digest(path) if keep is not None else ""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        _child(request, read_end, write_end, memory_limit_bytes, timeout_seconds)
    os.close(write_end)
    try:
        payload = _receive(read_end, timeout_seconds)
    except BaseException:
        # The deadline, or the caller itself interrupted (a Celery time limit): leave no orphan.
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if not payload or status != 0:
        logger.warning("Reader child for %s ended with status %s", original_name, status)
        raise FileRefused(PARSE_FAILED)
    kind, body = _SafeUnpickler(io.BytesIO(payload)).load()
    if kind == "refused":
        raise FileRefused(body)
    if kind == "error":
        logger.error("Reader child failed on %s:\n%s", original_name, body)
        raise FileRefused(PARSE_FAILED)
    if keep is not None and digest == _file_digest(path):
        _keep(keep, _kept_header(request, digest), payload)
    return _Packed(*body).as_table()


# A parsed table kept between the preview and the confirmation of the same batch: a confirmation
# that has to plan the file again (prepared.py says when) validates everything against the registry
# under row locks, but parsing the same bytes again would give the same cells (about 10 s for a
# 200,000-row workbook). The header ties it to the file's SHA-256 and to everything the parse
# depended on (this module's code included); any difference means parsing afresh.
KEPT_FORMAT = 1
_READER_CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
try:
    _PARSER_VERSION = importlib.metadata.version("python-calamine")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover
    _PARSER_VERSION = ""


def _file_digest(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _kept_header(request: _Request, digest: str) -> bytes:
    parse = repr(
        (
            KEPT_FORMAT,
            _READER_CODE,
            _PARSER_VERSION,
            [(c.key, c.header, c.aliases, c.required) for c in request.columns],
            request.original_name,
            request.max_rows,
            request.max_uncompressed_bytes,
        )
    )
    return f"{digest} {hashlib.sha256(parse.encode()).hexdigest()}\n".encode()


def _keep(target: Path, header: bytes, payload: bytes) -> None:
    """Write atomically: a half-written file must never be taken for a table."""
    try:
        partial = target.with_name(target.name + ".partial")
        partial.write_bytes(header + payload)
        partial.replace(target)
    except OSError:
        logger.warning("Could not keep the parsed table at %s", target, exc_info=True)


def read_table_kept(
    kept: Path,
    path: Path,
    *,
    columns: tuple[Column, ...],
    original_name: str,
    max_rows: int,
    max_uncompressed_bytes: int,
) -> Table | None:
    """The table read_table_isolated(keep=kept) saved, if it was parsed from these bytes the same way."""
    try:
        data = kept.read_bytes()
    except OSError:
        return None
    request = _Request(path, columns, original_name, max_rows, max_uncompressed_bytes)
    header, newline, payload = data.partition(b"\n")
    try:
        expected = _kept_header(request, _file_digest(path))
    except OSError:
        return None
    if not newline or header + newline != expected:
        return None
    try:
        kind, body = _SafeUnpickler(io.BytesIO(payload)).load()
    except Exception:
        logger.warning("Unreadable kept table %s", kept, exc_info=True)
        return None
    return _Packed(*body).as_table() if kind == "table" else None


def _child(request: _Request, read_end: int, write_end: int, memory_limit_bytes: int, timeout_seconds: float) -> None:
    status = 1
    try:
        os.close(read_end)
        # An inherited faulthandler (pytest, -X faulthandler) would dump the parent's stack into
        # its stderr when a parser aborts here; the parent reports the failure itself.
        faulthandler.disable()
        # A short-lived process building a few million objects: the cycle collector only slows it.
        gc.disable()
        _limit_address_space(memory_limit_bytes)
        # Should the parent die without killing it, the child still stops soon after its deadline.
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        seconds = math.ceil(timeout_seconds) + 5
        resource.setrlimit(
            resource.RLIMIT_CPU, (seconds if hard == resource.RLIM_INFINITY else min(seconds, hard), hard)
        )
        try:
            answer: tuple[str, Any] = ("table", _read(request).as_plain())
        except FileRefused as refused:
            answer = ("refused", refused.message)
        except MemoryError:
            answer = ("refused", PARSE_FAILED)
        except Exception:
            answer = ("error", traceback.format_exc())
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
        status = 0
    finally:
        os._exit(status)


def _limit_address_space(budget: int) -> None:
    """Cap the child at what it inherited from the parent plus budget bytes."""
    try:
        status = Path("/proc/self/status").read_text()
        in_use = next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmSize:"))
    except (OSError, StopIteration):
        in_use = 0
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = in_use + budget if hard == resource.RLIM_INFINITY else min(in_use + budget, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _receive(read_end: int, timeout_seconds: float) -> bytes:
    """Everything the child writes before it exits, or FileRefused at the deadline."""
    deadline = time.monotonic() + timeout_seconds
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        ready = select.select([read_end], [], [], max(remaining, 0))[0] if remaining > 0 else []
        if not ready:
            raise FileRefused(PARSE_FAILED)
        chunk = os.read(read_end, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
