"""收入表: one row per household and quarter. Validated, then staged for writing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count

from households.closing import closed_message, closed_village_quarters
from households.excel.columns import INCOME_COLUMNS
from households.excel.normalise import parse_column
from households.models import AMOUNT_FIELDS, Household, HouseholdStatus, IncomeRecord, Member, Relation
from households.quarter import Quarter
from workbooks.apply import create_fields
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


class IncomePlanner:
    """Validates a 收入表 against the registry and the models' rules, and stages the writes."""

    def __init__(self, *, user: Any, sheet: str, stager: Stager) -> None:
        self.user = user
        self.stager = stager
        self.plan = Plan(sheet=sheet, counts={"income": Counter()})
        self.rules = FieldRules(IncomeRecord)
        self.checked: set[int] = set()
        self.head_names: dict[int, str] = {}
        self.closed: set[tuple[int, int, int]] = set()  # (village id, year, quarter) locked by the county

    def run(self, table: Table) -> Plan:
        """Plan the table's rows; its cells are parsed a column at a time (each distinct value once)."""
        plan = self.plan
        numbers = table.row_numbers
        raw = table.take_columns()
        who = {key: raw.get(key) for key in ("household_number", "head_name")}
        columns: dict[str, list[Any]] = {}
        problems: list[tuple[int, int, Any, str]] = []  # (row index, column order, column, message)
        for order, (key, cells) in enumerate(raw.items()):
            column = COLUMNS.get(key)
            if column is None or column.derived:
                continue
            columns[key], failures = parse_column(column, cells)
            problems.extend((index, order, column, message) for index, message in failures)
        problems.sort(key=lambda problem: problem[:2])
        bad: set[int] = set()
        for index, _, column, message in problems:
            plan.error(numbers[index], column, message)
            bad.add(index)
        parsed: list[tuple[int, dict[str, Any]]] = []
        keys = list(columns)
        for index, cells_of_row in enumerate(zip(*columns.values(), strict=True) if keys else ()):
            row = dict(zip(keys, cells_of_row, strict=True))
            if index not in bad:
                # (The reader refuses a file without these columns; a blank cell is this row's error.)
                blank = [key for key in REQUIRED if row.get(key) in (None, "")]
                if blank:
                    plan.error(numbers[index], COLUMNS[blank[0]], "必填项为空")
                    bad.add(index)
                else:
                    parsed.append((numbers[index], row))
        plan.counts["income"].error += len(bad)
        households = self._households({v["household_number"] for _, v in parsed})
        self.closed = closed_village_quarters({h.village_id for h in households.values()})
        records = self._records(households)
        seen: dict[tuple[str, int, int], int] = {}
        for row_number, values in parsed:
            self._plan_row(row_number, values, households, records, seen)
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

    @staticmethod
    def _records(households: dict[str, Household]) -> dict[tuple[int, int, int], dict[str, Any]]:
        """The recorded quarters of these households, as rows (most of a re-imported file is unchanged)."""
        rows = IncomeRecord.objects.order_by().values("id", "household_id", "year", "quarter", "version", *UPDATED)
        found = in_chunks(rows, "household_id", [h.pk for h in households.values()])
        return {(r["household_id"], r["year"], r["quarter"]): r for r in found}

    def _error(self, row: int, key: str, message: str) -> None:
        self.plan.error(row, COLUMNS[key], message)
        self.plan.counts["income"].error += 1

    def _plan_row(
        self,
        row: int,
        values: dict[str, Any],
        households: dict[str, Household],
        records: dict[tuple[int, int, int], dict[str, Any]],
        seen: dict[tuple[str, int, int], int],
    ) -> None:
        plan = self.plan
        counter = plan.counts["income"]
        number, year, quarter = values["household_number"], values["year"], values["quarter"]
        if (number, year, quarter) in seen:
            self._error(row, "quarter", f"与第{seen[(number, year, quarter)]}行重复（同一户同一季度）")
            return
        seen[(number, year, quarter)] = row
        household = households.get(number)
        if household is None:
            self._error(row, "household_number", f"户编号 {number} 不存在或不在您的管辖范围内")
            return
        head_name = values.get("head_name")
        if head_name and head_name != self.head_names.get(household.pk, head_name):
            # 仅供核对 means checked: a mistyped 户编号 must not send income to another household.
            self._error(row, "head_name", f"户主姓名“{head_name}”与户编号 {number} 登记的户主不一致，请核对户编号")
            return
        existing = records.get((household.pk, year, quarter))
        is_new = existing is None
        size = values.get("household_size")
        if existing is None and size is None:
            size = getattr(household, "active_size", 0)
            if not size:
                self._error(row, "household_number", "该户没有在户成员，不能计算人均纯收入")
                return
        if existing is None:
            before: dict[str, Any] = {"household_size": size, **dict.fromkeys(AMOUNT_FIELDS, ZERO)}
        else:
            before = {name: existing[name] for name in UPDATED}
        after = {name: before[name] for name in ("household_size", *AMOUNT_FIELDS)}
        if size is not None:
            after["household_size"] = size
        after.update({name: ZERO if values[name] is None else values[name] for name in AMOUNT_FIELDS if name in values})
        changed = [name for name in after if after[name] != before[name]]
        if not is_new and not changed:
            counter.unchanged += 1  # (a cancelled household's quarters read back as exported: nothing to do)
            return
        if household.status != HouseholdStatus.ACTIVE:
            self._error(row, "household_number", f"户编号 {number} 已注销，不能录入收入")
            return
        if (household.village_id, year, quarter) in self.closed:
            self._error(row, "quarter", closed_message(Quarter(year, quarter)))
            return
        record = IncomeRecord(household=household, year=year, quarter=quarter, **after)
        if existing is not None:
            record.pk, record.version = existing["id"], existing["version"]
        record.compute()
        fields = {f.attname: getattr(record, f.attname) for f in IncomeRecord._meta.concrete_fields}
        # Amounts left at zero break no rule: the fields the file set (and the totals, the quarter) are judged.
        judged = [name for name in self.rules.fields if name not in AMOUNT_FIELDS or fields[name] != ZERO]
        errors = self.rules.errors({name: fields[name] for name in judged})
        try:
            record.clean()
        except ValidationError as error:
            errors.update({name: "；".join(messages) for name, messages in error.message_dict.items()})
        if errors:
            for name, message in errors.items():
                self._error(row, name if name in COLUMNS else "quarter", message)
            return
        subject = f"{number} {year}年第{quarter}季度"
        for name in changed:
            if not is_new and len(plan.changes) < 2000:
                label = str(getattr(IncomeRecord._meta.get_field(name), "verbose_name", name))
                plan.changes.append(Change(subject, row, label, shown(before[name]), shown(getattr(record, name))))
        if household.pk not in self.checked:
            # The record's household size was read with the household: its members must not move meanwhile.
            self.checked.add(household.pk)
            self.stager.add(
                phase=0, model=Household, action=StagedAction.CHECK, object_id=household.pk, version=household.version
            )
        if is_new:
            counter.new += 1
            values_of = {name: fields[name] for name in CREATE_FIELDS}
            self.stager.add(phase=0, model=IncomeRecord, action=StagedAction.CREATE, values=values_of, row=row)
            return
        counter.updated += 1
        names = UPDATED
        self.stager.add(
            phase=0,
            model=IncomeRecord,
            action=StagedAction.UPDATE,
            object_id=record.pk,
            version=record.version,
            values={name: getattr(record, name) for name in names},
            before=before,
            row=row,
        )
