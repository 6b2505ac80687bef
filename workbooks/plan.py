"""What an import would do, before it does it: counts, errors and old → new changes."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import F, Lookup

from workbooks.reader import ColumnSpec

MAX_STORED_CHANGES = 2000
MAX_STORED_ERRORS = 5000


@dataclass
class RowError:
    """One problem, located the way a clerk finds it in Excel: sheet, row, column."""

    sheet: str
    row: int
    column: str
    message: str
    # The row's 户编号 and name, so the clerk recognises it without opening the file.
    who: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "message": self.message, "who": self.who}


@dataclass
class Counter:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    error: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged, "error": self.error}


@dataclass
class Change:
    """An update the import would make: which record, which field, old → new (as displayed)."""

    subject: str
    row: int
    field: str
    old: str
    new: str

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "row": self.row, "field": self.field, "old": self.old, "new": self.new}


@dataclass
class Plan:
    """What checking one file found: counts, errors and the changes it would make (old → new)."""

    sheet: str
    counts: dict[str, Counter]
    errors: list[RowError] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    @property
    def has_changes(self) -> bool:
        return any(c.new or c.updated for c in self.counts.values())

    def error(self, row: int, column: ColumnSpec | str, message: str) -> None:
        header = column if isinstance(column, str) else column.header
        self.errors.append(RowError(self.sheet, row, header, message))

    def describe_rows(self, who_by_row: dict[int, str]) -> None:
        for error in self.errors:
            error.who = str(who_by_row.get(error.row, "")).strip()

    def summary(self) -> dict[str, Any]:
        return {name: counter.as_dict() for name, counter in self.counts.items()}


def shown(value: Any) -> str:
    """A value as the preview shows it."""
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


class AnyOf(Lookup):
    """`field = ANY(%s)` with the whole list as one array parameter (PostgreSQL).

    `field__in` sends one parameter per value, and psycopg rewrites and quotes a 5,000-value
    query in Python for every chunk; an import looks up 200,000 身份证号.
    """

    lookup_name = "any_of"  # used as an expression, never registered
    prepare_rhs = False

    # Texts go as one string split on the server: psycopg quotes a list element by element in Python.
    SEPARATOR = "\x1f"

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, list[Any]]:
        values = list(value)
        if values and all(item.__class__ is str and item for item in values):
            joined = self.SEPARATOR.join(values)
            if joined.count(self.SEPARATOR) == len(values) - 1:
                return "string_to_array(%s, %s)", [joined, self.SEPARATOR]
        return "%s", [values]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs_sql} = ANY({rhs_sql})", [*lhs_params, *rhs_params]


def in_chunks(queryset: Any, field_name: str, values: list[Any] | set[Any], size: int = 5000) -> list[Any]:
    """queryset.filter(field__in=values), in chunks: SQLite caps the number of parameters."""
    ordered = list(values)
    found: list[Any] = []
    if connections[queryset.db].vendor == "postgresql":
        size = 50000
        for start in range(0, len(ordered), size):
            found.extend(queryset.filter(AnyOf(F(field_name), ordered[start : start + size])))
        return found
    for start in range(0, len(ordered), size):
        found.extend(queryset.filter(**{f"{field_name}__in": ordered[start : start + size]}))
    return found


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Suspend the cyclic garbage collector while an import builds a few million objects.

    Its passes over an ever larger heap cost an import of 200,000 rows a sixth of its time, and
    nothing in there needs collecting before the end; what is left over is collected after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
