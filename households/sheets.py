"""The households app's Excel registers, 花名册 and 收入表: their columns, write steps and hooks.

The pipeline (workbooks) parses, stages, confirms and undoes their files; the planners in
households/excel/roster.py and income.py validate the rows and stage the writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse

from households.closing import closed_message, closed_village_quarters, hold_counties
from households.excel.access import PersonalDataSheet
from households.excel.columns import INCOME_COLUMNS, ROSTER_COLUMNS
from households.excel.income import UPDATED, IncomePlanner
from households.excel.roster import (
    HOUSEHOLD_FIELDS,
    MEMBER_FIELDS,
    PHASE_HEADS,
    PHASE_HOUSEHOLDS,
    PHASE_MEMBERS,
    PHASE_NEW_MEMBERS,
    RosterPlanner,
)
from households.excel.roster_case import CASE_FIELDS, PHASE_CASES, PHASE_NEW_CASES, RISKS
from households.excel.roster_rows import ParsedColumns
from households.id_numbers import remembering_valid_numbers
from households.models import Household, IncomeRecord, Member, MonitoringCase
from households.quarter import Quarter
from households.services import income_facts_refresh
from regions.models import Level, Region
from regions.services import data_changed
from workbooks.apply import Parent, StaleBatch, Step, create_fields
from workbooks.models import ImportBatch, StagedAction, StagedRow
from workbooks.plan import Plan, in_chunks, without_cycle_collection
from workbooks.reader import Table
from workbooks.registers import register
from workbooks.staging import Stager, staged_ids

HOUSEHOLD_PARENT = Parent("household_id", Household, "number")


class RosterSheet(PersonalDataSheet):
    name = "roster"
    label = "花名册"
    columns = ROSTER_COLUMNS
    permission = "households.add_household"
    undo_permission = "households.change_household"
    steps = (
        Step(Household, StagedAction.CREATE, PHASE_HOUSEHOLDS, create_fields(Household)),
        Step(Household, StagedAction.UPDATE, PHASE_HOUSEHOLDS, ("village_id", *HOUSEHOLD_FIELDS)),
        Step(Member, StagedAction.UPDATE, PHASE_MEMBERS, (*MEMBER_FIELDS, "is_active")),
        Step(Member, StagedAction.UPDATE, PHASE_HEADS, (*MEMBER_FIELDS, "is_active")),
        Step(Member, StagedAction.CREATE, PHASE_NEW_MEMBERS, create_fields(Member), HOUSEHOLD_PARENT),
        Step(MonitoringCase, StagedAction.UPDATE, PHASE_CASES, tuple(CASE_FIELDS)),
        Step(MonitoringCase, StagedAction.CREATE, PHASE_NEW_CASES, create_fields(MonitoringCase), HOUSEHOLD_PARENT),
    )
    checked = (Household, MonitoringCase)

    def count_label(self, name: str) -> str:
        return {"households": "农户", "members": "成员", "cases": "监测对象"}.get(name, name)

    def template_url(self) -> str | None:
        return reverse("import_template", args=[self.name])

    def records_link(self) -> tuple[str, str] | None:
        return ("查看农户台账", reverse("household_list"))

    def cell_parser(self) -> ParsedColumns:
        return ParsedColumns()

    def stage(self, *, table: Table, user: Any, stager: Stager) -> Plan:
        with without_cycle_collection(), remembering_valid_numbers():
            return RosterPlanner(user=user, sheet=table.sheet, stager=stager).run(table)

    def after_apply(self, *, batch_id: int, created: dict[str, list[int]]) -> None:
        from workbooks.models import StagedRow

        through: Any = MonitoringCase.risk_types.through
        staged = StagedRow.objects.filter(batch_id=batch_id, target="households.monitoringcase")
        updated = {row.object_id: row.values[RISKS] for row in staged.filter(action=StagedAction.UPDATE)}
        through.objects.filter(monitoringcase_id__in=list(updated)).delete()
        new_cases = dict(
            MonitoringCase.objects.filter(pk__in=created.get("households.monitoringcase", [])).values_list(
                "household_id", "pk"
            )
        )
        numbers = dict(Household.objects.filter(pk__in=list(new_cases)).values_list("number", "pk"))
        risks = list(updated.items())
        for row in staged.filter(action=StagedAction.CREATE):
            household_id = row.values.get("household_id") or numbers[row.parent_key]
            risks.append((new_cases[household_id], row.values[RISKS]))
        through.objects.bulk_create(
            [through(monitoringcase_id=case, risktype_id=risk) for case, ids in risks for risk in ids], batch_size=5000
        )
        checked = staged_ids(batch_id, Household, StagedAction.CHECK)
        _households_moved_on(checked)
        _announce(batch_id, [*checked, *created.get("households.household", [])])

    def before_undo(self, *, batch_id: int) -> None:
        from workbooks.models import StagedRow

        through: Any = MonitoringCase.risk_types.through
        history: Any = MonitoringCase.history.model
        created = history.objects.filter(import_batch_id=batch_id, history_type="+").values_list("id", flat=True)
        through.objects.filter(monitoringcase_id__in=list(created)).delete()
        staged = StagedRow.objects.filter(
            batch_id=batch_id, target="households.monitoringcase", action=StagedAction.UPDATE
        )
        before = {row.object_id: row.before[RISKS] for row in staged if row.before is not None}
        through.objects.filter(monitoringcase_id__in=list(before)).delete()
        through.objects.bulk_create(
            [through(monitoringcase_id=case, risktype_id=risk) for case, ids in before.items() for risk in ids]
        )

    def after_undo(self, *, batch_id: int, deleted: dict[str, list[int]]) -> None:
        _households_moved_on(staged_ids(batch_id, Household, StagedAction.CHECK))
        _announce(batch_id)


def _households_moved_on(household_ids: list[int]) -> None:
    """A household whose members or case an import wrote has moved on: open forms and previews see it."""
    from django.db.models import F

    ids = sorted(set(household_ids))
    for start in range(0, len(ids), 5000):
        Household.objects.filter(pk__in=ids[start : start + 5000]).update(version=F("version") + 1)


class IncomeSheet(PersonalDataSheet):
    name = "income"
    label = "收入表"
    columns = INCOME_COLUMNS
    permission = "households.add_incomerecord"
    undo_permission = "households.change_incomerecord"
    steps = (
        Step(IncomeRecord, StagedAction.CREATE, 0, create_fields(IncomeRecord)),
        Step(IncomeRecord, StagedAction.UPDATE, 0, UPDATED),
    )
    checked = (Household, IncomeRecord)

    def count_label(self, name: str) -> str:
        return "季度收入" if name == "income" else name

    def template_url(self) -> str | None:
        return reverse("import_template", args=[self.name])

    def records_link(self) -> tuple[str, str] | None:
        return ("查看农户台账", reverse("household_list"))

    def stage(self, *, table: Table, user: Any, stager: Stager) -> Plan:
        return IncomePlanner(user=user, sheet=table.sheet, stager=stager).run(table)

    def after_apply(self, *, batch_id: int, created: dict[str, list[int]]) -> None:
        region = ImportBatch.objects.select_related("region").get(pk=batch_id).region
        hold_counties(within=region.prefix if region is not None else "")
        if _locked_quarters_written(batch_id):
            # Locked after the preview: nothing is written; 重新校验 names the rows.
            raise StaleBatch("closed quarter")
        households = _households(batch_id)
        income_facts_refresh(household_ids=households)
        _announce(batch_id, households)

    def before_undo(self, *, batch_id: int) -> None:
        locked = _locked_quarters_written(batch_id)
        if locked:
            raise ValidationError(closed_message(locked[0]).replace("修改收入", "撤销本批次导入"))

    def after_undo(self, *, batch_id: int, deleted: dict[str, list[int]]) -> None:
        households = _households(batch_id)
        income_facts_refresh(household_ids=households)
        _announce(batch_id, households)


def _locked_quarters_written(batch_id: int) -> list[Quarter]:
    """The locked quarters among the income records this batch wrote (its history rows name the batch)."""
    written = (
        IncomeRecord.history.filter(import_batch_id=batch_id)
        .order_by()
        .values_list("household__village_id", "year", "quarter")
        .distinct()
    )
    closed = closed_village_quarters(village_id for village_id, _, _ in written)
    return sorted({Quarter(year, number) for _, year, number in closed & set(written)})


def _announce(batch_id: int, household_ids: Iterable[int] = ()) -> None:
    """Mark what the batch wrote to as changed: the villages of its households (their figures are
    stale, and only their facts need rebuilding), or else everything under the uploader's region."""
    ids = sorted(set(household_ids))
    if ids:
        # (order_by(): the default ordering by 户编号 would make DISTINCT return a row per household.)
        villages = Household.objects.order_by().values_list("village__code", flat=True).distinct()
        data_changed(codes=set(in_chunks(villages, "pk", ids)))
        return
    region = ImportBatch.objects.select_related("region").get(pk=batch_id).region
    if region is not None and region.level >= Level.COUNTY:
        data_changed(codes=[region.code])
        return
    counties = Region.objects.filter(level=Level.COUNTY)
    if region is not None:
        counties = counties.subtree(region)
    data_changed(codes=counties.values_list("code", flat=True))


def _households(batch_id: int) -> set[int]:
    rows = StagedRow.objects.filter(batch_id=batch_id, target="households.household").exclude(object_id=None)
    return {int(pk) for pk in rows.values_list("object_id", flat=True) if pk is not None}


ROSTER = register(RosterSheet())
INCOME = register(IncomeSheet())
