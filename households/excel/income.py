"""收入表: one row per household and quarter. Validated, then staged for writing.

A file holds hundreds of thousands of rows, most of them quarters already recorded and unchanged,
so the planner works a column at a time: cells are parsed and judged by the models' field rules
column by column (each distinct value once), the recorded quarters are read in chunks and compared
with the file as they come, and only what a row needs survives it. A row that breaks a rule is
planned once more the way a form saves a record (an IncomeRecord, its field rules and clean()),
which words its messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count

from households.closing import closed_message, closed_village_quarters
from households.excel.columns import INCOME_COLUMNS
from households.excel.normalise import parse_column
from households.models import (
    AMOUNT_FIELDS,
    Household,
    HouseholdStatus,
    IncomeRecord,
    Member,
    Relation,
    income_figures,
)
from households.quarter import Quarter
from workbooks.apply import create_fields, new_row_defaults
from workbooks.models import StagedAction
from workbooks.plan import Change, Counter, Plan, in_chunks, shown
from workbooks.reader import Table
from workbooks.rules import FieldRules
from workbooks.staging import Stager

COLUMNS = {column.key: column for column in INCOME_COLUMNS}
TOTALS = ["net_income", "per_capita_net_income"]
REQUIRED = ("household_number", "year", "quarter")
ZERO = Decimal("0.00")
CREATE_FIELDS = create_fields(IncomeRecord)
# What an import may change on a recorded quarter (and undo puts back).
UPDATED = ("household_size", *AMOUNT_FIELDS, *TOTALS)
COMPARED = ("household_size", *AMOUNT_FIELDS)
# Households whose recorded quarters are read (and compared) at a time: a bounded slice of the registry.
RECORD_CHUNK = 5000
# A recorded quarter the file leaves as it is.
UNCHANGED = object()


class IncomePlanner:
    """Validates a 收入表 against the registry and the models' rules, and stages the writes."""

    def __init__(self, *, user: Any, sheet: str, stager: Stager) -> None:
        self.user = user
        self.stager = stager
        self.plan = Plan(sheet=sheet, counts={"income": Counter()})
        self.rules = FieldRules(IncomeRecord)
        self.checked: set[int] = set()
        self.head_names: dict[int, str] = {}
        self.defaults = new_row_defaults(IncomeRecord)
        self.closed: set[tuple[int, int, int]] = set()  # (village id, year, quarter) locked by the county

    def run(self, table: Table) -> Plan:
        """Plan the table's rows; its cells are parsed a column at a time (each distinct value once)."""
        plan = self.plan
        numbers = table.row_numbers
        raw = table.take_columns()
        who = {key: raw.get(key) for key in ("household_number", "head_name")}
        self._numbers = numbers
        self.columns = columns = self._parse(raw, numbers)
        self._size_column = columns.get("household_size")
        self._amount_columns = [(name, columns[name]) for name in AMOUNT_FIELDS if name in columns]
        # Amounts the file has no column for: a recorded quarter keeps its own, which are judged row by row.
        self._kept_amounts = [name for name in AMOUNT_FIELDS if name not in columns]
        self._periods: dict[tuple[int, int], bool] = {}
        self._new_amounts: dict[str, Any] = {**dict.fromkeys(AMOUNT_FIELDS, ZERO), "household_size": None}
        count = len(numbers)
        bad = set(self._unreadable)
        blank_cells = [columns.get(key) or [None] * count for key in REQUIRED]
        rows: list[int] = []
        for index, required in enumerate(zip(*blank_cells, strict=True)):
            if index in bad:
                continue
            blank = [key for key, value in zip(REQUIRED, required, strict=True) if value in (None, "")]
            if blank:
                # (The reader refuses a file without these columns; a blank cell is this row's error.)
                plan.error(numbers[index], COLUMNS[blank[0]], "必填项为空")
                bad.add(index)
            else:
                rows.append(index)
        plan.counts["income"].error += len(bad)
        first_planned = len(plan.errors)
        households = self._households({columns["household_number"][index] for index in rows})
        self.closed = closed_village_quarters({h.village_id for h in households.values()})
        keys = self._match(rows, households)
        found = self._compare(keys)
        self.cell_errors = self._judge_columns()
        for index, household in keys.values():
            self._plan_row(index, household, found.get(index))
        # Rows were planned in two passes: their errors in row order, as a clerk reads them.
        plan.errors[first_planned:] = sorted(plan.errors[first_planned:], key=lambda error: error.row)
        error_rows = {error.row for error in plan.errors}

        def raw_cell(key: str, index: int) -> Any:
            cells = who[key]
            return (cells[index] if cells is not None else None) or ""

        plan.describe_rows(
            {
                number: f"{raw_cell('household_number', index)} {raw_cell('head_name', index)}"
                for index, number in enumerate(numbers)
                if number in error_rows
            }
        )
        return plan

    def _parse(self, raw: dict[str, Sequence[Any]], numbers: list[int]) -> dict[str, list[Any]]:
        """The parsed columns; unreadable cells are reported row by row and noted in _unreadable."""
        columns: dict[str, list[Any]] = {}
        problems: list[tuple[int, int, Any, str]] = []  # (row index, column order, column, message)
        for order, key in enumerate(list(raw)):
            cells = raw.pop(key) if key not in ("household_number", "head_name") else raw[key]
            column = COLUMNS.get(key)
            if column is None or column.derived:
                continue
            columns[key], failures = parse_column(column, cells)
            problems.extend((index, order, column, message) for index, message in failures)
        problems.sort(key=lambda problem: problem[:2])
        self._unreadable: set[int] = set()
        for index, _, column, message in problems:
            self.plan.error(numbers[index], column, message)
            self._unreadable.add(index)
        return columns

    def _households(self, numbers: set[str]) -> dict[str, Household]:
        """Visible households by 户编号, each with its active member count."""
        households = in_chunks(Household.objects.visible_to(self.user), "number", numbers)
        active = Member.objects.filter(is_active=True).order_by().values("household").annotate(n=Count("pk"))
        sizes = {row["household"]: row["n"] for row in in_chunks(active, "household", [h.pk for h in households])}
        heads = (
            Member.objects.filter(is_active=True, relation=Relation.HEAD).order_by().values_list("household", "name")
        )
        self.head_names = dict(in_chunks(heads, "household", [h.pk for h in households]))
        for household in households:
            household.active_size = sizes.get(household.pk, 0)
        return {h.number: h for h in households}

    def _match(self, rows: list[int], households: dict[str, Household]) -> dict[tuple[int, int, int], tuple[int, Any]]:
        """(household id, year, quarter) → (row index, household) for the rows that name a household of
        the user's and its 户主 (if given) rightly, each quarter once; the others are reported."""
        columns, numbers = self.columns, self._numbers
        number_of, year_of, quarter_of = (columns[key] for key in REQUIRED)
        head_of = columns.get("head_name")
        seen: dict[tuple[str, int, int], int] = {}
        keys: dict[tuple[int, int, int], tuple[int, Any]] = {}
        for index in rows:
            row = numbers[index]
            number, year, quarter = number_of[index], year_of[index], quarter_of[index]
            earlier = seen.setdefault((number, year, quarter), row)
            if earlier != row:
                self._error(row, "quarter", f"与第{earlier}行重复（同一户同一季度）")
                continue
            household = households.get(number)
            if household is None:
                self._error(row, "household_number", f"户编号 {number} 不存在或不在您的管辖范围内")
                continue
            head_name = head_of[index] if head_of is not None else None
            if head_name and head_name != self.head_names.get(household.pk, head_name):
                # 仅供核对 means checked: a mistyped 户编号 must not send income to another household.
                message = f"户主姓名“{head_name}”与户编号 {number} 登记的户主不一致，请核对户编号"
                self._error(row, "head_name", message)
                continue
            keys[(household.pk, year, quarter)] = (index, household)
        return keys

    def _file_values(self, index: int, before: dict[str, Any]) -> dict[str, Any]:
        """A row's household size and amounts after the import: the file's where it has the column."""
        after = dict(before)
        size = self._size_column[index] if self._size_column is not None else None
        if size is not None:
            after["household_size"] = size
        for name, column in self._amount_columns:
            value = column[index]
            after[name] = ZERO if value is None else value
        return after

    def _new_values(self, index: int, size: int) -> dict[str, Any]:
        """_file_values of a quarter not recorded yet (household size given): amounts not in the file are zero."""
        after = dict(self._new_amounts)
        after["household_size"] = size
        for name, column in self._amount_columns:
            value = column[index]
            if value is not None:
                after[name] = value
        return after

    def _compare(self, keys: dict[tuple[int, int, int], tuple[int, Any]]) -> dict[int, Any]:
        """Row index → UNCHANGED or (id, version, values before) for the rows whose quarter is recorded.

        Read a slice of households at a time and compared at once: the registry's 200,000 quarters
        are never held together.
        """
        found: dict[int, Any] = {}
        household_ids = sorted({household.pk for _, household in keys.values()})
        rows = IncomeRecord.objects.order_by().values_list("id", "household_id", "year", "quarter", "version", *UPDATED)
        for start in range(0, len(household_ids), RECORD_CHUNK):
            for record in in_chunks(rows, "household_id", household_ids[start : start + RECORD_CHUNK]):
                match = keys.get(record[1:4])
                if match is None:
                    continue
                before = dict(zip(UPDATED, record[5:], strict=True))
                after = self._file_values(match[0], before)
                if any(after[name] != before[name] for name in COMPARED):
                    found[match[0]] = (record[0], record[4], before)
                else:
                    found[match[0]] = UNCHANGED
        return found

    def _judge_columns(self) -> set[int]:
        """The rows with a cell of the file that breaks a field rule (amounts left at zero break none)."""
        failing: set[int] = set()
        for name in ("year", "quarter", "household_size", *AMOUNT_FIELDS):
            column = self.columns.get(name)
            if column is not None:
                skip = (None, ZERO) if name in AMOUNT_FIELDS else (None,)
                failing |= self.rules.failing(name, column, skip=skip)
        return failing

    def _error(self, row: int, key: str, message: str) -> None:
        self.plan.error(row, COLUMNS[key], message)
        self.plan.counts["income"].error += 1

    def _plan_row(self, index: int, household: Household, existing: Any) -> None:
        plan = self.plan
        counter = plan.counts["income"]
        if existing is UNCHANGED:
            counter.unchanged += 1  # (a cancelled household's quarters read back as exported: nothing to do)
            return
        row = self._numbers[index]
        columns = self.columns
        number, year, quarter = (columns[key][index] for key in REQUIRED)
        is_new = existing is None
        if is_new:
            size = self._size_column[index] if self._size_column is not None else None
            if size is None:
                size = getattr(household, "active_size", 0)
                if not size:
                    self._error(row, "household_number", "该户没有在户成员，不能计算人均纯收入")
                    return
            record_id = version = None
            before: dict[str, Any] = {}
            after = self._new_values(index, size)
        else:
            record_id, version, before = existing
            after = self._file_values(index, {name: before[name] for name in COMPARED})
        if household.status != HouseholdStatus.ACTIVE:
            self._error(row, "household_number", f"户编号 {number} 已注销，不能录入收入")
            return
        if (household.village_id, year, quarter) in self.closed:
            self._error(row, "quarter", closed_message(Quarter(year, quarter)))
            return
        if not self._passes(index, year, quarter, after) and self._report(
            row, household, year, quarter, after, record_id, version
        ):
            return
        net_income, per_capita = income_figures(after, after["household_size"])
        after["net_income"], after["per_capita_net_income"] = net_income, per_capita
        if not is_new and len(plan.changes) < 2000:
            subject = f"{number} {year}年第{quarter}季度"
            for name in COMPARED:
                if after[name] != before[name]:
                    label = str(getattr(IncomeRecord._meta.get_field(name), "verbose_name", name))
                    plan.changes.append(Change(subject, row, label, shown(before[name]), shown(after[name])))
        if household.pk not in self.checked:
            # The record's household size was read with the household: its members must not move meanwhile.
            self.checked.add(household.pk)
            self.stager.add(
                phase=0, model=Household, action=StagedAction.CHECK, object_id=household.pk, version=household.version
            )
        if is_new:
            counter.new += 1
            values = {**self.defaults, **after, "household_id": household.pk, "year": year, "quarter": quarter}
            self.stager.add(phase=0, model=IncomeRecord, action=StagedAction.CREATE, values=values, row=row)
            return
        counter.updated += 1
        self.stager.add(
            phase=0,
            model=IncomeRecord,
            action=StagedAction.UPDATE,
            object_id=record_id,
            version=version,
            values={name: after[name] for name in UPDATED},
            before=before,
            row=row,
        )

    def _passes(self, index: int, year: int, quarter: int, after: dict[str, Any]) -> bool:
        """Whether the row breaks no rule of the model: its judged cells, the values it keeps, its period."""
        if index in self.cell_errors:
            return False
        rules = self.rules
        from_file = self._size_column is not None and self._size_column[index] is not None
        if not from_file and rules.error("household_size", after["household_size"]) is not None:
            return False
        for name in self._kept_amounts:
            value = after[name]
            if value != ZERO and rules.error(name, value) is not None:
                return False
        period = (year, quarter)
        if period not in self._periods:
            # IncomeRecord.clean judges the period alone (a quarter that has not begun): once per period.
            try:
                IncomeRecord(year=year, quarter=quarter).clean()
                self._periods[period] = True
            except ValidationError:
                self._periods[period] = False
        return self._periods[period]

    def _report(
        self,
        row: int,
        household: Household,
        year: int,
        quarter: int,
        after: dict[str, Any],
        record_id: int | None,
        version: int | None,
    ) -> bool:
        """Report the errors of a row that breaks a rule, worded as the model words them for a form."""
        record = IncomeRecord(household=household, year=year, quarter=quarter, **after)
        if record_id is not None and version is not None:
            record.pk, record.version = record_id, version
        record.compute()
        fields = {f.attname: getattr(record, f.attname) for f in IncomeRecord._meta.concrete_fields}
        # Amounts left at zero break no rule: the fields the file set (and the totals, the quarter) are judged.
        judged = [name for name in self.rules.fields if name not in AMOUNT_FIELDS or fields[name] != ZERO]
        errors = self.rules.errors({name: fields[name] for name in judged})
        try:
            record.clean()
        except ValidationError as error:
            errors.update({name: "；".join(messages) for name, messages in error.message_dict.items()})
        for name, message in errors.items():
            self._error(row, name if name in COLUMNS else "quarter", message)
        return bool(errors)
