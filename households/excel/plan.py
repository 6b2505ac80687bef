"""What an import would do, before it does it: counts, errors and old → new changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from households.excel.columns import Column

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
    """The validated content of one file and the writes it implies."""

    sheet: str
    counts: dict[str, Counter]
    errors: list[RowError] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    # Model instances to write, filled by the kind-specific planner.
    writes: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    @property
    def has_changes(self) -> bool:
        return any(c.new or c.updated for c in self.counts.values())

    def error(self, row: int, column: Column | str, message: str) -> None:
        header = column.header if isinstance(column, Column) else column
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


def in_chunks(queryset: Any, field_name: str, values: list[Any] | set[Any], size: int = 5000) -> list[Any]:
    """queryset.filter(field__in=values), in chunks: SQLite caps the number of parameters."""
    ordered = list(values)
    found: list[Any] = []
    for start in range(0, len(ordered), size):
        found.extend(queryset.filter(**{f"{field_name}__in": ordered[start : start + size]}))
    return found
