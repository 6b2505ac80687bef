"""The rows of a 花名册 as the planner reads them: parsed column by column, grouped by household.

Also the cheap instance builder the planner uses for the records it creates or reads back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import signals
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute

from households.excel.columns import ROSTER_COLUMNS, Column, Kind
from households.excel.forked import ForkedParse
from households.excel.normalise import FAILED, parse_column
from households.excel.plan import Plan
from households.excel.prepared import MEMBER_FIELDS
from households.id_numbers import remember_valid_numbers
from households.models import Household, Member
from regions.models import Level, Region, regions_visible_to

COLUMNS = {column.key: column for column in ROSTER_COLUMNS}
# Below this many rows a file's 身份证号 are parsed in process: a fork costs more than it saves.
FORK_MIN_ROWS = 20000
MEMBER_DEFAULTS = {
    "health": "healthy",
    "schooling": "none",
    "work_place": "",
    "work_months": 0,
    "medical_insurance": True,
}
# Member field → roster column.
MEMBER_KEYS = [(name, "member_name" if name == "name" else name) for name in MEMBER_FIELDS]
# The columns that must agree across a household's rows.
HOUSEHOLD_KEYS = [c.key for c in ROSTER_COLUMNS if c.level in ("household", "case")] + ["_village"]


class Builder:
    """New model instances from field values, as Model(**values) would make them, but cheaper.

    Model(**kwargs) resolves every keyword and looks up every missing field's default: 20–30 µs
    an instance on this hardware, several seconds for a county roster. For a model whose fields
    are plain attributes (no descriptor with a setter but ForeignKey ids, which only clear a
    cache a new instance does not have) and with no pre_init/post_init receivers, __init__ comes
    down to a fresh ModelState and one attribute per field: that is built directly. Otherwise,
    Model.__init__ itself.
    """

    def __init__(self, model: type[Any], defaults: dict[str, Any]) -> None:
        self.model = model
        fields = model._meta.concrete_fields
        self.attnames = [model_field.attname for model_field in fields]
        self.template: dict[str, Any] = {}
        self.calls: list[tuple[str, Any]] = []
        for model_field in fields:
            if model_field.attname in defaults:
                self.template[model_field.attname] = defaults[model_field.attname]
            elif model_field.has_default() and callable(model_field.default):
                self.template[model_field.attname] = None  # keeps the fields' order; called per instance
                self.calls.append((model_field.attname, model_field.default))
            else:
                self.template[model_field.attname] = model_field.get_default()
        self.plain = all(
            not hasattr(type(getattr(model, name, None)), "__set__")
            or isinstance(getattr(model, name, None), ForeignKeyDeferredAttribute)
            for name in self.attnames
        )
        self.direct = False

    def prepare(self) -> None:
        """Decide once per import whether instances may be built directly (signal receivers can change)."""
        model = self.model
        self.direct = self.plain and not (
            signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model)
        )

    def from_db(self, rows: Iterable[Sequence[Any]], alias: str = "default") -> Iterator[Any]:
        """Model.from_db for rows of values_list(*attnames): saved instances, built the same cheap way."""
        model, attnames = self.model, self.attnames
        if not self.direct:
            for row in rows:
                yield model.from_db(alias, attnames, row)
            return
        new = object.__new__
        for row in rows:
            instance: Any = new(model)
            state = ModelState()
            state.adding, state.db = False, alias
            # _state, then the fields in their order, as __init__ sets them: the instance dicts
            # then share one key table (a third of the memory of a dict each).
            attributes = instance.__dict__
            attributes["_state"] = state
            attributes.update(zip(attnames, row, strict=True))
            yield instance

    def build(self, values: dict[str, Any]) -> Any:
        """An unsaved instance with `values` (attname → value) and every other field's default."""
        state = {**self.template, **values}
        for name, default in self.calls:
            if name not in values:
                state[name] = default()
        if not self.direct:
            return self.model(*[state[name] for name in self.attnames])
        instance: Any = object.__new__(self.model)
        attributes = instance.__dict__
        attributes["_state"] = ModelState()
        attributes.update(state)
        return instance


MEMBER_BUILDER = Builder(Member, MEMBER_DEFAULTS)
HOUSEHOLD_BUILDER = Builder(Household, {})


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


class Cells:
    """The file's parsed cells, column by column; rows are built one household at a time.

    A dict per row for 200,000 rows would cost seconds and hundreds of MiB before anything is
    validated, so cells are parsed a column at a time and a row's dict exists only while its
    household is being planned.
    """

    # Raw cells kept after parsing: they name a row with errors the way the clerk typed it.
    KEEP_RAW = ("household_number", "member_name")

    def __init__(self, plan: Plan, numbers: list[int], raw: dict[str, Sequence[Any]]) -> None:
        """Parse every column of `raw`, which is consumed: each raw column is let go once parsed."""
        self.numbers = numbers
        self.raw = {key: raw[key] for key in self.KEEP_RAW if key in raw}
        self.ok = [True] * len(numbers)
        self.keys: list[str] = []
        parsed: list[list[Any]] = []
        # (row index, 0 = unreadable cell / 1 = blank required cell, column order, column, message)
        problems: list[tuple[int, int, int, Column, str]] = []
        required_order = {column.key: order for order, column in enumerate(ROSTER_COLUMNS) if column.required}
        # The 身份证号 column is parsed by a forked child meanwhile, and taken last (forked.py).
        forked = [(COLUMNS[key], raw[key]) for key in raw if key in COLUMNS and COLUMNS[key].kind is Kind.ID_NUMBER]
        later = ForkedParse(forked) if forked and len(numbers) >= FORK_MIN_ROWS else None
        columns = sorted(enumerate(list(raw)), key=lambda item: later is not None and item[1] in later.columns)
        try:
            for order, key in columns:
                values = raw.pop(key)
                column = COLUMNS.get(key)
                if column is None or column.derived:
                    continue
                if later is not None and key in later.columns:
                    results, failures = later.result(key)
                    remember_valid_numbers(value for value in results if value and value is not FAILED)
                else:
                    results, failures = parse_column(column, values)
                self.keys.append(key)
                parsed.append(results)
                problems.extend((index, 0, order, column, message) for index, message in failures)
                if key in required_order:
                    # A cell that failed to parse is already reported; only a truly blank one is "empty".
                    blanks = [index for index, value in enumerate(values) if value is None or value == ""]
                    problems.extend((index, 1, required_order[key], column, "必填项为空") for index in blanks)
                del values
        finally:
            if later is not None:
                later.close()
        # Reported row by row, as a clerk reads them: unreadable cells, then blank required ones.
        problems.sort(key=lambda problem: problem[:3])
        for index, _, _, column, message in problems:
            plan.error(numbers[index], column, message)
            self.ok[index] = False
        self.columns = dict(zip(self.keys, parsed, strict=True))
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
