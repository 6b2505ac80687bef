"""A register is a declaration: its columns, how its rows are validated and staged, and its write steps.

The pipeline (batches.py) knows registers only through this interface. An app declares its
registers in its `sheets.py` and registers them when it is ready; the pipeline then parses,
stages, applies and undoes their files without knowing what they hold.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Protocol

from django.db import models

from workbooks.apply import Step
from workbooks.plan import Plan
from workbooks.reader import ColumnSpec, Table
from workbooks.staging import Stager


class CellParser(Protocol):
    def feed(self, first: int, raw: dict[str, Sequence[Any]]) -> None:
        """Parse a block of rows (column key → raw values) starting at the file's row index `first`."""


class Register(ABC):
    """One kind of workbook a user can import."""

    name: str  # stored on the batch, e.g. "roster"
    label: str  # 中文名称, e.g. "花名册"
    columns: Sequence[ColumnSpec]
    permission: str  # needed to import, e.g. "households.add_household"
    # The write steps, applied phase by phase and undone in reverse.
    steps: tuple[Step, ...]
    # The permission to undo a batch.
    undo_permission: str
    # Models whose staged versions the confirmation locks and checks, in this (fixed) order.
    checked: tuple[type[models.Model], ...]

    def cell_parser(self) -> CellParser | None:
        """What parses the file's cells while it is read, a block of rows at a time (the parent's work
        overlaps the isolated child's); stage() finds it on the Table as `parsed`. None: stage() parses."""
        return None

    @abstractmethod
    def stage(self, *, table: Table, user: Any, stager: Stager) -> Plan:
        """Validate every row with the models' rules and stage the writes; errors go in the plan."""

    def preview(self, *, batch: Any, user: Any) -> dict[str, Any]:
        """What the batch page shows of the stored errors, changes and refusal (a register masks here)."""
        return {
            "changes": batch.changes[:300],
            "errors": batch.errors[:300],
            "refusal": batch.refusal,
            "can_download": self.may_download(batch=batch, user=user),
        }

    def may_download(self, *, batch: Any, user: Any) -> bool:
        """Whether the user may download the upload and its error workbook (the page found the batch in scope)."""
        if batch.file_purged_at is not None or not batch.file:
            return False
        return bool(batch.uploaded_by_id == user.pk and batch.file.storage.exists(batch.file.name))

    def count_label(self, name: str) -> str:
        """How the batch page names one of the plan's counts (e.g. "households" → 农户)."""
        return name

    def template_url(self) -> str | None:
        """Where the register's blank template is downloaded (the import page links it); None: nowhere."""
        return None

    def export_url(self) -> str | None:
        """Where the user's records of this register are exported as a workbook; None: not from the import page."""
        return None

    def records_link(self) -> tuple[str, str] | None:
        """Where an applied batch's records are seen: (link text, URL); None: no link."""
        return None

    def after_apply(self, *, batch_id: int, created: dict[str, list[int]]) -> None:
        """What set-based steps cannot say (many-to-many rows, derived facts); same transaction."""
        return None

    def before_undo(self, *, batch_id: int) -> None:
        """Undo what after_apply did, before the rows themselves are put back."""
        return None

    def after_undo(self, *, batch_id: int, deleted: dict[str, list[int]]) -> None:
        """Refresh what depends on the rows undone."""
        return None


_registry: dict[str, Register] = {}


def register(sheet: Register) -> Register:
    """Make a register known to the pipeline (from an app's ready())."""
    _registry[sheet.name] = sheet
    return sheet


def get(name: str) -> Register:
    """The register of that name; LookupError for an unknown one."""
    try:
        return _registry[name]
    except KeyError:
        raise LookupError(name) from None


def all_registers() -> list[Register]:
    return list(_registry.values())
