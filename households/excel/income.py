"""收入表 import: one row per household and quarter; plan, then write in bulk."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from households.excel.columns import INCOME_COLUMNS
from households.excel.normalise import CellError, parse_cell
from households.excel.plan import Change, Counter, Plan, in_chunks, shown
from households.models import AMOUNT_FIELDS, Household, HouseholdStatus, IncomeRecord, Member
from households.services import income_facts_refresh

COLUMNS = {column.key: column for column in INCOME_COLUMNS}


class IncomePlanner:
    """Validates a 收入表 against the registry and lists the records to create or correct."""

    def __init__(self, *, user: Any, sheet: str, lock: bool = False) -> None:
        self.user = user
        self.lock = lock
        self.plan = Plan(
            sheet=sheet,
            counts={"income": Counter()},
            writes={"new_records": [], "updated_records": []},
        )

    def run(self, raw_rows: list[Any]) -> Plan:
        plan = self.plan
        parsed: list[tuple[int, dict[str, Any]]] = []
        for raw in raw_rows:
            values: dict[str, Any] = {}
            ok = True
            for key, value in raw.values.items():
                column = COLUMNS.get(key)
                if column is None or column.derived:
                    continue
                try:
                    values[key] = parse_cell(column, value)
                except CellError as error:
                    plan.error(raw.row_number, column, str(error))
                    ok = False
            for key in ("household_number", "year", "quarter"):
                if ok and values.get(key) in (None, ""):
                    plan.error(raw.row_number, COLUMNS[key], "必填项为空")
                    ok = False
            if ok:
                parsed.append((raw.row_number, values))
            else:
                plan.counts["income"].error += 1
        households = self._households({v["household_number"] for _, v in parsed})
        records = self._records(households)
        seen: dict[tuple[str, int, int], int] = {}
        for row, values in parsed:
            self._plan_row(row, values, households, records, seen)
        plan.describe_rows(
            {
                raw.row_number: f"{raw.values.get('household_number') or ''} {raw.values.get('head_name') or ''}"
                for raw in raw_rows
            }
        )
        return plan

    def _households(self, numbers: set[str]) -> dict[str, Household]:
        """Visible households by 户编号, each with its active member count (row-locked when confirming)."""
        visible = Household.objects.visible_to(self.user)
        if self.lock:
            visible = visible.select_for_update(of=("self",))
        households = in_chunks(visible, "number", numbers)
        active = Member.objects.filter(is_active=True).order_by().values("household").annotate(n=Count("pk"))
        sizes = {row["household"]: row["n"] for row in in_chunks(active, "household", [h.pk for h in households])}
        for household in households:
            household.active_size = sizes.get(household.pk, 0)
        return {h.number: h for h in households}

    @staticmethod
    def _records(households: dict[str, Household]) -> dict[tuple[int, int, int], IncomeRecord]:
        records = in_chunks(IncomeRecord.objects.all(), "household_id", [h.pk for h in households.values()])
        return {(r.household_id, r.year, r.quarter): r for r in records}

    def _plan_row(
        self,
        row: int,
        values: dict[str, Any],
        households: dict[str, Household],
        records: dict[tuple[int, int, int], IncomeRecord],
        seen: dict[tuple[str, int, int], int],
    ) -> None:
        plan = self.plan
        counter = plan.counts["income"]
        number, year, quarter = values["household_number"], values["year"], values["quarter"]
        if (number, year, quarter) in seen:
            plan.error(row, COLUMNS["quarter"], f"与第{seen[(number, year, quarter)]}行重复（同一户同一季度）")
            counter.error += 1
            return
        seen[(number, year, quarter)] = row
        household = households.get(number)
        if household is None:
            plan.error(row, COLUMNS["household_number"], f"户编号 {number} 不存在或不在您的管辖范围内")
            counter.error += 1
            return
        if household.status != HouseholdStatus.ACTIVE:
            plan.error(row, COLUMNS["household_number"], f"户编号 {number} 已注销，不能录入收入")
            counter.error += 1
            return
        record = records.get((household.pk, year, quarter))
        is_new = record is None
        if record is None:
            size = getattr(household, "active_size", 0)
            if not size:
                plan.error(row, COLUMNS["household_number"], "该户没有在户成员，不能计算人均纯收入")
                counter.error += 1
                return
            record = IncomeRecord(household=household, year=year, quarter=quarter, household_size=size)
        changed = False
        for name in AMOUNT_FIELDS:
            if name not in values:
                continue
            new = values[name] if values[name] is not None else Decimal("0.00")
            old = getattr(record, name)
            if old != new:
                setattr(record, name, new)
                changed = True
                if not is_new and len(plan.changes) < 2000:
                    label = str(getattr(IncomeRecord._meta.get_field(name), "verbose_name", name))
                    plan.changes.append(Change(f"{number} {year}年第{quarter}季度", row, label, shown(old), shown(new)))
        record.compute()
        if is_new:
            counter.new += 1
            plan.writes["new_records"].append(record)
        elif changed:
            counter.updated += 1
            plan.writes["updated_records"].append(record)
        else:
            counter.unchanged += 1


def income_apply(plan: Plan, *, user: Any, reason: str) -> dict[str, Any]:
    """Write a planned 收入表 in bulk and refresh the touched households' income facts."""
    history = {"default_user": user, "default_change_reason": reason}
    bulk_create_with_history(plan.writes["new_records"], IncomeRecord, batch_size=2000, **history)
    for record in plan.writes["updated_records"]:
        record.version += 1
    bulk_update_with_history(
        plan.writes["updated_records"],
        IncomeRecord,
        [*AMOUNT_FIELDS, "net_income", "per_capita_net_income", "version"],
        batch_size=2000,
        **history,
    )
    touched = {r.household_id for r in plan.writes["new_records"]} | {
        r.household_id for r in plan.writes["updated_records"]
    }
    income_facts_refresh(household_ids=touched)
    return {}
