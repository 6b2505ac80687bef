"""Cell values as real workbooks hold them → clean Python values, or a Chinese reason why not.

Pure functions, no ORM: the validator calls `parse_column` (or `parse_cell`) for every column and
reports each `CellError` against its sheet, row and column. Each kind's parser is in cell_parsers.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from households.excel.cell_parsers import PARSERS, CellError
from households.excel.columns import Column
from workbooks.reader import CellValue

# Most columns repeat a handful of values (乡镇, 户类型, 是/否, 普通劳动力), so each distinct value of a
# column is parsed once; a column with more distinct values than this (names, 身份证号) is parsed
# afresh beyond it. The validator calls this for every cell of 200,000-row files.
MEMO_VALUES_PER_COLUMN = 4096


class _Memo(dict[Any, Any]):
    """One column's parsed values; it holds the column so that the id it is filed under stays unique."""

    def __init__(self, column: Column) -> None:
        super().__init__()
        self.column = column


class _Failure:
    def __init__(self, message: str) -> None:
        self.message = message


_memos: dict[int, _Memo] = {}
_MISSING = object()


def _memo_of(column: Column) -> _Memo:
    memo = _memos.get(id(column))
    if memo is None or memo.column is not column:
        if len(_memos) > 1024:
            _memos.clear()
        memo = _memos[id(column)] = _Memo(column)
    return memo


def parse_cell(column: Column, value: CellValue) -> Any:
    """Normalise one cell by its column's kind; raises CellError with a Chinese reason.

    Blank cells give None, "" (text) or Decimal("0.00") (money); whether a blank is allowed is
    the validator's call (Column.required), not this function's.
    """
    memo = _memo_of(column)
    # 1, 1.0 and True are equal dict keys; only text is safe to file under itself.
    key = value if value.__class__ is str else (value.__class__, value)
    result = memo.get(key, _MISSING)
    if result is _MISSING:
        try:
            result = PARSERS[column.kind](column, value)
        except CellError as error:
            result = _Failure(error.message)
        if len(memo) < MEMO_VALUES_PER_COLUMN:
            memo[key] = result
    if result.__class__ is _Failure:
        raise CellError(result.message)
    return result


class _Failed:
    """The parsed value of a cell that could not be read (parse_column)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "FAILED"


FAILED: Any = _Failed()


def parse_column(column: Column, values: Sequence[CellValue]) -> tuple[list[Any], list[tuple[int, str]]]:
    """parse_cell for every cell of one column, without a call per cell.

    Returns the parsed values, FAILED where a cell could not be read, and (index, message) for
    each such cell, in order. Shares parse_cell's memo and parsers, so both give the same answers.
    """
    # Each distinct value is parsed (or found in the memo) once; the loops over all the cells
    # run inside dict.fromkeys and map. Text is its own key; anything else is keyed with its
    # type, because 1, 1.0 and True are equal keys that do not parse alike.
    distinct: dict[Any, Any] = dict.fromkeys(values)
    if all(value.__class__ is str for value in distinct):
        keys: Sequence[Any] = values
    else:
        keys = [value if value.__class__ is str else (value.__class__, value) for value in values]
        distinct = dict.fromkeys(keys)
    memo = _memo_of(column)
    parser = PARSERS[column.kind]
    failed: dict[Any, str] = {}
    for key in distinct:
        result = memo.get(key, _MISSING)
        if result is _MISSING:
            value = key if key.__class__ is str else key[1]
            try:
                result = parser(column, value)
            except CellError as error:
                result = _Failure(error.message)
            if len(memo) < MEMO_VALUES_PER_COLUMN:
                memo[key] = result
        if result.__class__ is _Failure:
            failed[key] = result.message
            result = FAILED
        distinct[key] = result
    parsed = list(map(distinct.__getitem__, keys))
    failures = [(index, failed[key]) for index, key in enumerate(keys) if key in failed] if failed else []
    return parsed, failures
