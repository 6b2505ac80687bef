"""The data rows below a sheet's header, a block at a time: what the reader's isolated child sends.

Plain Python, no Django (the isolated child imports it). Blocks let the parent start on the first
rows while the child still reads the rest.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Sequence

from workbooks.headers import CellValue, FileRefused

Merge = tuple[tuple[int, int], tuple[int, int]]
# Rows per block: a few dozen blocks for the largest file.
BLOCK_ROWS = 8192


def is_blank(values: Sequence[CellValue]) -> bool:
    return not any(value.strip() if isinstance(value, str) else value is not None for value in values)


def collect_blocks(
    rows: Iterable[Sequence[CellValue]], *, header_row: int, positions: list[int], merged: list[Merge], max_rows: int
) -> Iterator[tuple[list[int], list[tuple[CellValue, ...]]]]:
    """The non-blank rows below the header (rows above and at header_row, 1-based, are skipped), in
    blocks: their row numbers (1-based) and their values at `positions` (0-based), column by column.

    FileRefused past max_rows.
    """
    pick = operator.itemgetter(*positions)
    needed_width = max(positions) + 1
    slot_of = {position: slot for slot, position in enumerate(positions)}
    # A cell merged across rows below the header (户编号 spanning a household's members) holds
    # its value in the top-left cell only; every row of the merge means that value.
    starts: dict[int, list[Merge]] = {}
    for merge in merged:
        (top, left), (bottom, right) = merge
        if top >= header_row and (bottom > top or right > left):
            starts.setdefault(top, []).append(merge)
    active: list[tuple[int, list[tuple[int, CellValue]]]] = []
    # Most columns repeat a handful of texts (乡镇, 户类型, 是/否); sharing one string object per
    # distinct text makes the rows several times smaller to hold and to send to the parent.
    shared: dict[str, str] = {}
    count = 0
    numbers: list[int] = []
    packed: list[tuple[CellValue, ...]] = []
    for index, row in enumerate(rows):
        if index < header_row:
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
        if not (isinstance(first, str) and first and not first.isspace()) and is_blank(values):
            continue
        if count >= max_rows:
            raise FileRefused(f"超过行数上限 {max_rows} 行，请拆分为多个文件后分别导入")
        count += 1
        numbers.append(index + 1)
        packed.append(tuple([shared.setdefault(v, v) if v.__class__ is str else v for v in values]))  # type: ignore[arg-type]
        if len(packed) == BLOCK_ROWS:
            yield numbers, list(zip(*packed, strict=True))
            numbers, packed = [], []
    if packed:
        # Column by column, as the validator reads them. (At least MIN_HEADER_MATCHES columns are
        # mapped, so every row is a tuple of the same width.)
        yield numbers, list(zip(*packed, strict=True))


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
