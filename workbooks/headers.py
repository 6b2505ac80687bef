"""Finding a register's table in a sheet: its header row, the columns it names, and what it lacks.

Plain Python, no Django: the isolated child that parses uploads imports it.
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from workbooks.characters import INVISIBLE_CHARACTERS, invisible_character, printable

# A cell as the parsers hand it over.
CellValue = str | int | float | bool | datetime.date | datetime.datetime | datetime.time | datetime.timedelta | None

HEADER_SCAN_ROWS = 10
MIN_HEADER_MATCHES = 3


class FileRefused(Exception):
    """The whole file cannot be imported; `message` tells the user why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ColumnSpec(Protocol):
    """What the pipeline needs to know of a register's column (a register's own Column type has more)."""

    @property
    def key(self) -> str: ...

    @property
    def header(self) -> str: ...

    @property
    def aliases(self) -> tuple[str, ...]: ...

    @property
    def required(self) -> bool: ...


class HeaderSpec(NamedTuple):
    """A column as the isolated child knows it: plain values that travel as JSON."""

    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False


_PARENTHESES = re.compile(r"[（(][^）)]*[）)]")
# A unit that scales an amount stays part of the header: "金额（万元）" is not "金额（元）" (nor "金额"),
# or a sheet in 万元 would be read as yuan.
_SCALED_UNIT = re.compile(r"[（(]([万千亿]+元)[）)]")


def _unit_dropped(match: re.Match[str]) -> str:
    scaled = _SCALED_UNIT.fullmatch(match.group())
    return scaled.group(1) if scaled else ""


def header_key(text: str) -> str:
    """Normalise a header cell for matching: fold width, drop spaces, *, (units but 万元) and invisible characters.

    A header with an invisible character is matched so that map_columns can say which cell holds it.
    """
    folded = "".join(chr(ord(ch) - 0xFEE0) if "\uff01" <= ch <= "\uff5e" else ch for ch in str(text))
    folded = INVISIBLE_CHARACTERS.sub("", folded)
    folded = folded.replace("\u3000", "").replace(" ", "").replace("\n", "").replace("*", "").strip()
    without_units = _PARENTHESES.sub(_unit_dropped, folded)
    return without_units or folded


def header_lookup(columns: Sequence[ColumnSpec]) -> dict[str, ColumnSpec]:
    """Every accepted spelling of every header, normalised, mapped to its column."""
    lookup: dict[str, ColumnSpec] = {}
    for column in columns:
        for spelling in (column.header, *column.aliases):
            lookup.setdefault(header_key(spelling), column)
            lookup.setdefault(spelling.replace(" ", ""), column)
    return lookup


@dataclass
class Header:
    row: int  # 1-based number of the last header row
    texts: list[str]  # per column, 0-based


def match_header(text: str, lookup: dict[str, ColumnSpec]) -> ColumnSpec | None:
    """The column a header cell names, if any."""
    return (lookup.get(header_key(text)) or lookup.get(text.replace(" ", ""))) if text else None


def header_score(texts: list[str], lookup: dict[str, ColumnSpec]) -> int:
    return len({column.key for text in texts if (column := match_header(text, lookup)) is not None})


def _stack(upper: list[str], lower: list[str]) -> list[str]:
    """A two-row header: the lower row's text where present, else the (merged) group text above."""
    return [below or above for above, below in itertools.zip_longest(upper, lower, fillvalue="")]


def find_header(top: Sequence[Sequence[CellValue]], columns: Sequence[ColumnSpec]) -> Header | None:
    """The row among the first ten matching the most headers; stacked with a neighbour if that matches more."""
    lookup = header_lookup(columns)
    texts = [["" if value is None else str(value).strip() for value in row] for row in top]
    scores = [header_score(row, lookup) for row in texts]
    if not scores or max(scores) < MIN_HEADER_MATCHES:
        return None
    best = scores.index(max(scores))
    candidates = [(scores[best], best, texts[best])]
    if best > 0 and scores[best - 1] > 0:
        stacked = _stack(texts[best - 1], texts[best])
        candidates.append((header_score(stacked, lookup), best, stacked))
    if best + 1 < len(texts) and scores[best + 1] > 0:
        stacked = _stack(texts[best], texts[best + 1])
        candidates.append((header_score(stacked, lookup), best + 1, stacked))
    _, index, header_texts = max(candidates, key=lambda candidate: candidate[0])
    return Header(row=index + 1, texts=header_texts)


def missing_required(header: Header, columns: Sequence[ColumnSpec]) -> list[str]:
    """The required columns the header lacks, by their template names."""
    lookup = header_lookup(columns)
    found = {column.key for text in header.texts if (column := match_header(text, lookup)) is not None}
    return [column.header for column in columns if column.required and column.key not in found]


def no_header(columns: Sequence[ColumnSpec], sheets: list[str]) -> FileRefused:
    expected = "、".join(column.header for column in columns if column.required)
    where = f"（已查看工作表：{'、'.join(sheets)}）" if sheets else ""
    return FileRefused(f"未找到表头：前{HEADER_SCAN_ROWS}行中没有“{expected}”等列名{where}，请使用导入模板")


def missing_columns(missing: list[str], header: Header) -> FileRefused:
    return FileRefused(f"缺少必需的列：{'、'.join(missing)}（第{header.row}行为表头）")


def no_table(columns: Sequence[ColumnSpec], findings: list[tuple[str, Header | None, list[str]]]) -> FileRefused:
    """No sheet has every required column: say, sheet by sheet, what each lacks."""
    with_header = [(name, header, missing) for name, header, missing in findings if header is not None]
    if not with_header:
        return no_header(columns, [name for name, _, _ in findings])
    if len(findings) == 1:
        _, header, missing = with_header[0]
        assert header is not None
        return missing_columns(missing, header)
    reasons = [
        f"工作表“{name}”缺少：{'、'.join(missing)}" if header is not None else f"工作表“{name}”未找到表头"
        for name, header, missing in findings
    ]
    return FileRefused(f"没有一个工作表包含全部必需的列：{'；'.join(reasons)}。请使用导入模板")


def column_letter(number: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def map_columns(header: Header, columns: Sequence[ColumnSpec]) -> tuple[dict[str, int], list[str]]:
    """Column key → column number, and the headers matching no column ("联系方式（F列）")."""
    lookup = header_lookup(columns)
    found: dict[str, list[int]] = {}
    ignored: list[str] = []
    for index, text in enumerate(header.texts):
        column = match_header(text, lookup)
        if column is not None:
            if (invisible := invisible_character(text)) is not None:
                # Read as it is, the column would quietly not be imported (or be "missing"): say why.
                raise FileRefused(
                    f"表头“{printable(text)}”（{column_letter(index + 1)}列，第{header.row}行为表头）含有不可见字符"
                    f"（{invisible}），请在 Excel 中删除该字符（可重新输入列名）后再上传"
                )
            found.setdefault(column.key, []).append(index + 1)
        elif text:
            ignored.append(f"{text}（{column_letter(index + 1)}列）")
    headers = {column.key: column.header for column in columns}
    duplicates = [
        f"{headers[key]}（{'、'.join(column_letter(number) for number in numbers)}列）"
        for key, numbers in found.items()
        if len(numbers) > 1
    ]
    if duplicates:
        raise FileRefused(f"表头重复：{'；'.join(duplicates)}（第{header.row}行为表头），请删除或改名重复的列")
    return {key: numbers[0] for key, numbers in found.items()}, ignored
