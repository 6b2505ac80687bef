"""What a record register declares: its model, key, columns, references, many-to-many columns and scope.

Everything here is data: the planner (planner.py), the register (sheet.py) and the exporter
(export.py) read it, and nothing in a declaration runs by itself. See workbooks/records/__init__.py
for how an app declares one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet

from workbooks.headers import CellValue

Parser = Callable[[CellValue], Any]
Renderer = Callable[[Any], Any]
Scope = Callable[[Any], QuerySet[Any]]


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Column:
    """One column of the sheet: how its cells are read, which field they fill, how it is exported."""

    key: str
    header: str
    # Cell → clean value, or workbooks.cells.CellError with a Chinese reason; blank cells come in too.
    parse: Parser
    # The model field the column fills (its name; a foreign key is filled by a Reference instead).
    field: str | None = None
    # What the export reads for the column: a path for QuerySet.values() (default: the field).
    export: str | None = None
    # The exported value (as values() gives it) → the cell; choices give their label here.
    render: Renderer = _same
    aliases: tuple[str, ...] = ()
    required: bool = False
    help: str = ""
    # The drop-down's labels (called when a workbook is written).
    options: Callable[[], Sequence[str]] | None = None
    # The cells' number format: "@" keeps long digit strings as text, "0.00" for money, "yyyy-mm-dd".
    number_format: str = ""
    # Applied to the exported value for a role that may not see personal data.
    mask: Renderer | None = None
    width: int = 0

    @property
    def export_path(self) -> str | None:
        return self.export or self.field


@dataclass(frozen=True)
class Lookup:
    """One way a reference's target is found: the cell's value equals the target's `path`."""

    column: str  # the key of the column holding the natural key
    path: str  # e.g. "credit_code", "number", "members__id_number"
    # Further conditions on the match, e.g. Q(members__is_active=True) for a member's 身份证号.
    condition: Q | None = None
    # Filled, it narrows what the other lookups find and must agree with it; alone it finds nothing, and
    # its column does not put the reference in the file (a split's own 年度 settles which 文号 is its parent).
    narrows: bool = False


@dataclass(frozen=True)
class Check:
    """A column "仅供核对": when filled it must equal the target's `path` (a field or an annotation of the scope)."""

    column: str
    path: str


@dataclass(frozen=True)
class Reference:
    """A foreign key filled from natural keys (户编号, 统一社会信用代码, a list item's name).

    The target is looked up only in `scope(user)`: a key the user cannot see reads exactly as one
    that does not exist. When several lookups are filled, they must find the same target.
    """

    field: str  # the foreign key's name, e.g. "household"
    lookups: tuple[Lookup, ...]
    scope: Scope
    checks: tuple[Check, ...] = ()
    # The confirmation refuses the batch when a target it refers to changed after the preview;
    # None: when the target has a version.
    checked: bool | None = None


@dataclass(frozen=True)
class Many:
    """A many-to-many column: names separated by 、 (or , ; ，；), each found in `scope(user)`."""

    field: str  # the many-to-many field's name, e.g. "industries"
    column: str  # the key of its column
    scope: Scope
    path: str = "name"
    # Whether a target found by name may go with this record (e.g. an industry of the entity's county).
    fits: Callable[[models.Model, Any], bool] | None = None
    unknown: str = "“{value}”不存在或不可选"
    separators: str = "、,，;；"


@dataclass(frozen=True)
class Period:
    """Rows with equal `group` values may not overlap in time; checked among the file's own rows."""

    group: tuple[str, ...]  # field names, e.g. ("cooperative", "household")
    start: str
    end: str
    message: str = "与第{row}行的期间重叠"


@dataclass(frozen=True)
class Planned:
    """A row of the file as a register's `across` rule sees it."""

    number: int
    values: Mapping[str, Any]  # column key → the cell as parsed
    record: Any  # the record as the file wants it (the recorded one itself when the row changes nothing)
    before: Any  # the record as recorded; None for a new one

    @property
    def changed(self) -> bool:
        return self.record is not self.before


@dataclass(frozen=True)
class Record:
    """A register whose rows are records of one model, created or updated by their natural key."""

    name: str  # the batch's kind, e.g. "memberships"
    label: str  # 中文名称, e.g. "合作社成员户"
    model: type[models.Model]
    # Field names whose values identify a record (a foreign key by its name): what "the same row" means.
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    permission: str  # needed to import, e.g. "cooperatives.add_membership"
    undo_permission: str
    # The records the user sees (exported, and matched by key); those the user may change.
    visible: Scope
    managed: Scope
    # The region code path announced to the figures when records change, e.g. "household__village__code".
    region_code: str
    references: tuple[Reference, ...] = ()
    many: tuple[Many, ...] = ()
    periods: tuple[Period, ...] = ()
    # A new or changed record the user may not write: (field name, message), else None.
    writable: Callable[[Any, Any], tuple[str, str] | None] | None = None
    # Rules across the file's rows and the recorded data (sums within a limit): given the user and the
    # rows that passed every other check, errors as (row number, column key or field name, message).
    across: Callable[[Any, Sequence[Planned]], Iterable[tuple[int, str, str]]] | None = None
    # Values of a new record's fields that no column fills (the day its status began).
    defaults: Callable[[], dict[str, Any]] = field(default=dict)
    # How a record is named in the preview's list of changes.
    subject: Callable[[Any], str] = str
    # Column keys whose cells are shown beside an error, so the clerk recognises the row.
    who: tuple[str, ...] = ()
    ordering: tuple[str, ...] = ("pk",)
    # Annotations the export reads (e.g. the 户主's name), as a callable building fresh expressions.
    annotations: Callable[[], dict[str, Any]] = field(default=dict)
    # The 说明 sheet's general notes for this register.
    notes: tuple[str, ...] = ()
    # The message for a key held by a record the user cannot see (the key is unique beyond their scope).
    taken: str = "已被登记，不能重复登记"

    @cached_property
    def by_key(self) -> dict[str, Column]:
        return {column.key: column for column in self.columns}

    @cached_property
    def key_attnames(self) -> tuple[str, ...]:
        return tuple(self.model._meta.get_field(name).attname for name in self.key)  # type: ignore[union-attr]

    @cached_property
    def reference_attnames(self) -> dict[str, str]:
        """Each reference's foreign key name → its attname ("household" → "household_id")."""
        return {r.field: self.model._meta.get_field(r.field).attname for r in self.references}  # type: ignore[union-attr]

    @cached_property
    def updated_attnames(self) -> tuple[str, ...]:
        """What an update may change (and undo puts back): the columns' fields and references but the key."""
        names = [column.field for column in self.columns if column.field] + [r.field for r in self.references]
        attnames = [self.model._meta.get_field(name).attname for name in names]  # type: ignore[union-attr]
        return tuple(dict.fromkeys(a for a in attnames if a not in self.key_attnames))

    def column_of_field(self, name: str, present: Sequence[str]) -> Column | None:
        """The column a field's error belongs to: its own, its reference's first filled lookup, its many column."""
        for column in self.columns:
            if column.field == name:
                return column
        for reference in self.references:
            if reference.field == name:
                keys = [lookup.column for lookup in reference.lookups if not lookup.narrows]
                return self.by_key[next((key for key in keys if key in present), keys[0])]
        for many in self.many:
            if many.field == name:
                return self.by_key[many.column]
        return None

    def column_named(self, name: str, present: Sequence[str]) -> Column:
        """The column an `across` error names: by its key when the file has it, else by its field, else the key's."""
        if name in present:
            return self.by_key[name]
        return self.column_of_field(name, present) or self.key_column(present)

    def key_column(self, present: Sequence[str]) -> Column:
        """Where an error about the whole row goes: the first key column in the file."""
        for name in self.key:
            column = self.column_of_field(name, present)
            if column is not None and column.key in present:
                return column
        return self.columns[0]
