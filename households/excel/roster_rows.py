"""The rows of a 花名册 as the planner reads them: parsed column by column, grouped by household."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from households.excel.columns import ROSTER_COLUMNS, Column
from households.excel.normalise import FAILED, parse_column
from households.services import MEMBER_FIELDS as SERVICE_MEMBER_FIELDS
from regions.models import Level, Region, regions_visible_to
from workbooks.plan import Plan

COLUMNS = {column.key: column for column in ROSTER_COLUMNS}
# Member field → roster column, for the member fields a roster row sets besides the 身份证号 it is matched by.
MEMBER_KEYS = [
    (name, "member_name" if name == "name" else name) for name in SERVICE_MEMBER_FIELDS if name != "id_number"
]
# The columns that must agree across a household's rows.
HOUSEHOLD_KEYS = [c.key for c in ROSTER_COLUMNS if c.level in ("household", "case")] + ["_village"]


@dataclass
class ParsedRow:
    number: int
    values: dict[str, Any]
    ok: bool = True


class Group:
    """The rows of one household in the file, as indexes into the parsed cells."""

    def __init__(self, key: tuple[Any, ...], indexes: list[int], cells: Cells, village_of: list[Any]) -> None:
        self.key = key
        self.indexes = indexes
        self.cells = cells
        self.village_of = village_of
        self._rows: list[ParsedRow] | None = None
        self._first: ParsedRow | None = None

    def row(self, index: int) -> ParsedRow:
        values = self.cells.values(index)
        values["_village"] = self.village_of[index]
        return ParsedRow(self.cells.numbers[index], values, self.cells.ok[index])

    @property
    def first(self) -> ParsedRow:
        if self._first is None:
            self._first = self.row(self.indexes[0])
        return self._first

    @property
    def rows(self) -> list[ParsedRow]:
        """Every row as a ParsedRow: built only on the paths that need them all (errors)."""
        if self._rows is None:
            self._rows = [self.first, *(self.row(index) for index in self.indexes[1:])]
        return self._rows

    @property
    def all_ok(self) -> bool:
        ok = self.cells.ok
        return all(ok[index] for index in self.indexes)


class Villages:
    """The villages the uploader may write to, found by code or by names."""

    def __init__(self, user: Any) -> None:
        visible = list(regions_visible_to(user).filter(level=Level.VILLAGE).select_related("parent", "parent__parent"))
        self.by_code = {v.code: v for v in visible}
        self.by_names: dict[tuple[str, str], Region] = {}
        self.by_name: dict[str, list[Region]] = defaultdict(list)
        for village in visible:
            township = village.parent.name if village.parent else ""
            self.by_names[(township, village.name)] = village
            self.by_name[village.name].append(village)

    def find(self, values: dict[str, Any]) -> Region | str:
        """The village for a row, or a Chinese message saying why there is none."""
        code = values.get("region_code")
        if code:
            village = self.by_code.get(code)
            if village is not None:
                return village
            if Region.objects.filter(code=code).exists():
                return f"区划代码 {code} 不在您的管辖范围内"
            return f"区划代码 {code} 不存在或不是村级代码"
        name, township = values.get("village") or "", values.get("township") or ""
        if not name:
            return "请填写村名或村的区划代码"
        if township and (township, name) in self.by_names:
            return self.by_names[(township, name)]
        matches = self.by_name.get(name, [])
        if len(matches) == 1 and not township:
            return matches[0]
        if len(matches) > 1:
            return f"村名“{name}”有重名，请填写乡镇或区划代码"
        return f"“{township}{name}”不在您的管辖范围内或不存在"


class ParsedColumns:
    """The file's cells parsed a column at a time, fed a block of rows at a time.

    The pipeline feeds it each block as the isolated reader sends it, so the parent parses the first
    rows while the child still reads the rest; each raw block is let go once parsed.
    """

    # Raw cells kept after parsing: they name a row with errors the way the clerk typed it.
    KEEP_RAW = ("household_number", "member_name")
    REQUIRED_ORDER = {column.key: order for order, column in enumerate(ROSTER_COLUMNS) if column.required}

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {}
        self.raw: dict[str, list[Any]] = {}
        # (row index, 0 = unreadable cell / 1 = blank required cell, column order, column, message)
        self.problems: list[tuple[int, int, int, Column, str]] = []

    def feed(self, first: int, raw: dict[str, Sequence[Any]]) -> None:
        """Parse a block of rows (column key → raw values) whose first row is the file's row index `first`."""
        for order, key in enumerate(list(raw)):
            values = raw.pop(key)
            if key in self.KEEP_RAW:
                self.raw.setdefault(key, []).extend(values)
            column = COLUMNS.get(key)
            if column is None or column.derived:
                continue
            results, failures = parse_column(column, values)
            if key in self.columns:
                self.columns[key].extend(results)
            else:
                self.columns[key] = results
            self.problems.extend((first + index, 0, order, column, message) for index, message in failures)
            if key in self.REQUIRED_ORDER:
                # A cell that failed to parse is already reported; only a truly blank one is "empty".
                blanks = [first + index for index, value in enumerate(values) if value is None or value == ""]
                self.problems.extend((index, 1, self.REQUIRED_ORDER[key], column, "必填项为空") for index in blanks)


class Cells:
    """The file's parsed cells, column by column; rows are built one household at a time.

    A dict per row for 200,000 rows would cost seconds and hundreds of MiB before anything is
    validated, so cells are parsed a column at a time and a row's dict exists only while its
    household is being planned.
    """

    def __init__(self, plan: Plan, numbers: list[int], parsed: ParsedColumns) -> None:
        """The parsed cells, with every unreadable and blank required cell reported in the plan."""
        self.numbers = numbers
        self.raw = parsed.raw
        self.ok = [True] * len(numbers)
        # Reported row by row, as a clerk reads them: unreadable cells, then blank required ones.
        for index, _, _, column, message in sorted(parsed.problems, key=lambda problem: problem[:3]):
            plan.error(numbers[index], column, message)
            self.ok[index] = False
        self.columns = parsed.columns
        # Households whose rows disagree on a household or case column (find_differing).
        self.differing: set[tuple[Any, ...]] = set()

    def find_differing(self, groups: dict[tuple[Any, ...], list[int]], village_of: list[Any]) -> None:
        """Note the households whose rows do not all agree with their first row on the household columns.

        One pass over the rows, comparing each row's household columns at once (a tuple built in
        C) with its household's first row; consistent looks at the few that differ in detail.
        """
        group_of: list[tuple[Any, ...] | None] = [None] * len(self.numbers)
        for key, indexes in groups.items():
            for index in indexes:
                group_of[index] = key
        columns = [column for key, column in self.columns.items() if key in HOUSEHOLD_KEYS]
        firsts: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        differing = self.differing
        for household, signature in zip(group_of, zip(*columns, village_of, strict=True), strict=True):
            if household is not None and firsts.setdefault(household, signature) != signature:
                differing.add(household)

    def get(self, key: str, index: int) -> Any:
        """One parsed cell; None when the column is absent or the cell could not be read."""
        column = self.columns.get(key)
        if column is None:
            return None
        value = column[index]
        return None if value is FAILED else value

    def values(self, index: int) -> dict[str, Any]:
        """A row as column key → parsed value; unreadable cells are left out."""
        values = {key: column[index] for key, column in self.columns.items()}
        if self.ok[index] or FAILED not in values.values():
            return values
        return {key: value for key, value in values.items() if value is not FAILED}


def group_rows(plan: Plan, cells: Cells, villages: Villages) -> tuple[dict[tuple[Any, ...], list[int]], list[Any]]:
    """Row indexes by household, and each row's village; rows without a village are reported and left out."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    village_of: list[Any] = [None] * len(cells.numbers)
    found_by_place: dict[tuple[Any, Any, Any], Region | str] = {}
    place_columns = [cells.columns.get(key) for key in ("region_code", "village", "township")]
    numbers = cells.columns.get("household_number")
    heads = cells.columns.get("head_name")
    ok = cells.ok
    for index in range(len(cells.numbers)):
        code, name, township = (
            None if column is None or column[index] is FAILED else column[index] for column in place_columns
        )
        place = (code, name, township)
        found = found_by_place.get(place)
        if found is None:
            found = found_by_place[place] = villages.find({"region_code": code, "village": name, "township": township})
        if isinstance(found, str):
            plan.error(cells.numbers[index], COLUMNS["region_code"] if code else COLUMNS["village"], found)
            ok[index] = False
            continue
        village_of[index] = found
        number = numbers[index] if numbers is not None else None
        if number is FAILED or not number:
            head = heads[index] if heads is not None else None
            key: tuple[Any, ...] = ("head", found.pk, "" if head is FAILED or not head else head)
        else:
            key = ("number", number)
        group = groups.get(key)
        if group is None:
            groups[key] = [index]
        else:
            group.append(index)
    return groups, village_of


def consistent(plan: Plan, group: Group) -> bool:
    """Household and case columns must agree across the household's rows."""
    if len(group.indexes) == 1 or group.key not in group.cells.differing:
        return True  # usually they do (Cells.find_differing)
    first = group.first
    ok = True
    for row in group.rows[1:]:
        for key in HOUSEHOLD_KEYS:
            if key in row.values and key in first.values and row.values[key] != first.values[key]:
                column = COLUMNS.get(key, COLUMNS["village"])
                plan.error(row.number, column, f"与同户第{first.number}行不一致")
                ok = False
    return ok


def count_errors(plan: Plan, cells: Cells, groups: dict[tuple[Any, ...], list[int]]) -> None:
    """Members and households with errors, and who each error's row is."""
    error_rows = {e.row for e in plan.errors}
    index_of = {number: index for index, number in enumerate(cells.numbers) if number in error_rows}
    household_of_row = {
        cells.numbers[i]: key for key, indexes in groups.items() for i in indexes if cells.numbers[i] in error_rows
    }
    plan.counts["members"].error = len(error_rows)
    plan.counts["households"].error = len({household_of_row.get(row, ("row", row)) for row in error_rows})
    raw_numbers, raw_names = cells.raw.get("household_number"), cells.raw.get("member_name")

    def who(index: int) -> str:
        number = raw_numbers[index] if raw_numbers is not None else None
        name = raw_names[index] if raw_names is not None else None
        return f"{number or ''} {name or ''}"

    plan.describe_rows({row: who(index) for row, index in index_of.items()})


def one_household_per_person(plan: Plan, cells: Cells, groups: dict[tuple[Any, ...], list[int]]) -> None:
    """A 身份证号 listed under two households of the file is an error on the later row."""
    ids = cells.columns.get("id_number")
    if ids is None:
        return
    first: dict[str, tuple[tuple[Any, ...], int]] = {}
    for key, indexes in groups.items():
        for index in indexes:
            number = ids[index]
            if not number or number is FAILED:
                continue
            seen_key, seen_row = first.setdefault(number, (key, cells.numbers[index]))
            if seen_key != key:
                plan.error(cells.numbers[index], COLUMNS["id_number"], f"与第{seen_row}行身份证号重复（不同户）")
                cells.ok[index] = False
