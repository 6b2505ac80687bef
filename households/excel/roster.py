"""花名册: one row per member, household and case columns repeated. Validated, then staged for writing."""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from households.excel.columns import Column
from households.excel.normalise import FAILED
from households.excel.roster_case import CasePlanning
from households.excel.roster_existing import read_existing
from households.excel.roster_rows import (
    COLUMNS,
    MEMBER_KEYS,
    Cells,
    Group,
    ParsedColumns,
    Villages,
    consistent,
    count_errors,
    group_rows,
    one_household_per_person,
)
from households.models import (
    Household,
    HouseholdStatus,
    Member,
    MonitoringCase,
    Relation,
    RiskType,
    member_identity,
)
from regions.models import Region
from workbooks.apply import new_row_defaults
from workbooks.models import StagedAction
from workbooks.plan import Change, Counter, Plan, shown
from workbooks.reader import Table
from workbooks.rules import FieldRules
from workbooks.staging import Stager

HOUSEHOLD_FIELDS = ["household_type", "lifted_year", "relocated", "phone"]
# The member fields a roster row sets, besides the 身份证号 it is matched by.
MEMBER_FIELDS = [name for name, _ in MEMBER_KEYS]
RULED_MEMBER_FIELDS = (*MEMBER_FIELDS, "id_number")
# What _local_number makes: never typed into a file by hand (a later batch could make the same).
LOCAL_NUMBER = re.compile(r"^L\d{12}-\d+-\d{3}$")


# Phases: households; members who are not 户主 after the import, then those who are (one active 户主
# per household is checked row by row); new members; cases.
PHASE_HOUSEHOLDS, PHASE_MEMBERS, PHASE_HEADS, PHASE_NEW_MEMBERS = 0, 1, 2, 3  # then the cases (roster_case)


class RosterPlanner(CasePlanning):
    """Validates a roster against the registry and the models' rules, and stages the writes."""

    def __init__(self, *, user: Any, sheet: str, stager: Stager) -> None:
        self.user = user
        self.stager = stager
        self.plan = Plan(sheet=sheet, counts={"households": Counter(), "members": Counter(), "cases": Counter()})
        self.scope_prefix = user.scope_prefix()
        # The risk types of every county the user's scope covers; a row's names are read in its county's.
        self.risk_entries = list(
            RiskType.objects.visible_to(user).values_list("pk", "name", "region__code", "is_active")
        )
        self.risk_names = {pk: name for pk, name, _, _ in self.risk_entries}
        self.risk_types_by_county: dict[str, dict[str, tuple[int, bool]]] = {}
        self.household_rules = FieldRules(Household)
        self.member_rules = FieldRules(Member)
        self.case_rules = FieldRules(MonitoringCase)
        self.household_defaults = new_row_defaults(Household)
        self.member_defaults = new_row_defaults(Member)
        self.case_defaults = new_row_defaults(MonitoringCase)
        self.local_numbers: dict[int, int] = {}
        self.random_bytes, self.random_used = b"", 0

    def run(self, table: Table) -> Plan:
        plan = self.plan
        parsed = table.parsed
        if not isinstance(parsed, ParsedColumns):  # not parsed while the file was read
            parsed = ParsedColumns()
            parsed.feed(0, table.take_columns())
        cells = Cells(plan, table.row_numbers, parsed)
        self.villages = Villages(self.user)
        self.village_by_pk = {village.pk: village for village in self.villages.by_code.values()}
        groups, village_of = group_rows(plan, cells, self.villages)
        cells.find_differing(groups, village_of)
        ids = cells.columns.get("id_number") or []
        id_numbers = [ids[i] for indexes in groups.values() for i in indexes if ids[i] and ids[i] is not FAILED]
        one_household_per_person(plan, cells, groups)
        self.existing = read_existing([key[1] for key in groups if key[0] == "number"], id_numbers)
        self.member_columns = [(name, cells.columns[key]) for name, key in MEMBER_KEYS if key in cells.columns]
        # Members' cells judged a column at a time; a row is judged in full only when one of them fails.
        skipped = (None, FAILED)
        self.member_failing = set().union(
            *(self.member_rules.failing(name, column, skip=skipped) for name, column in self.member_columns),
            self.member_rules.failing("id_number", ids, skip=skipped),
        )
        # And the households' cells, at every row (a household's rows agree: consistent()).
        numbers = cells.columns.get("household_number")
        self.household_failing = set().union(
            *(
                self.household_rules.failing(name, cells.columns[name], skip=(FAILED,))
                for name in HOUSEHOLD_FIELDS
                if name in cells.columns
            ),
            self.household_rules.failing("number", numbers, skip=(None, "", FAILED)) if numbers is not None else set(),
        )
        self.household_cleaned: dict[tuple[Any, ...], dict[str, list[str]]] = {}
        for key, indexes in groups.items():
            self._plan_group(Group(key, indexes, cells, village_of))
        if plan.errors:
            count_errors(plan, cells, groups)
        return plan

    # -- one household -------------------------------------------------------------------------

    def _local_number(self, village: Region) -> str:
        """户编号 for a household the file gives none: L, the village's code, the batch and a running number.

        The batch makes it unique when two files add households to one village at the same time; it is
        never built from the 户主's 身份证号 (a 户编号 is shown to roles that may not see that).
        """
        following = self.local_numbers.get(village.pk, 1)
        self.local_numbers[village.pk] = following + 1
        return f"L{village.code}-{self.stager.batch_id}-{following:03d}"

    def _new_uuid(self) -> uuid.UUID:
        """uuid.uuid4(), its random bytes read for many households at once (a system call each costs more)."""
        start = self.random_used
        if start >= len(self.random_bytes):
            self.random_bytes, start = os.urandom(16 * 4096), 0
        self.random_used = start + 16
        return uuid.UUID(bytes=self.random_bytes[start : start + 16], version=4)

    def _in_scope(self, household: dict[str, Any]) -> bool:
        prefix = self.scope_prefix
        code = self.existing.village_codes.get(household["village_id"], "")
        return prefix == "" or (prefix is not None and code.startswith(prefix))

    def _changed(self, subject: str, row: int, model: type[models.Model], name: str, old: Any, new: Any) -> None:
        if len(self.plan.changes) >= 2000:
            return
        field: Any = model._meta.get_field(name.removesuffix("_id"))
        choices = dict(field.flatchoices) if field.choices else {}
        if name == "village_id":
            old = getattr(self.village_by_pk.get(old), "name", old)
            new = getattr(self.village_by_pk.get(new), "name", new)
        label = str(field.verbose_name)
        self.plan.changes.append(
            Change(subject, row, label, shown(choices.get(old, old)), shown(choices.get(new, new)))
        )

    def _rule_errors(self, rules: FieldRules, values: dict[str, Any], row: int) -> bool:
        errors = rules.errors(values)
        for name, message in errors.items():
            self.plan.error(row, _column_for(name), message)
        return bool(errors)

    def _plan_group(self, group: Group) -> None:
        plan = self.plan
        if not group.all_ok or not consistent(plan, group):
            return
        first = group.first
        values = first.values
        cells = group.cells
        relations = cells.columns.get("relation")
        head = next((i for i in group.indexes if relations is not None and relations[i] == Relation.HEAD), None)
        head_id = cells.get("id_number", head) if head is not None else None
        if group.key[0] == "number":
            existing = self.existing.by_number.get(group.key[1])
        else:  # no 户编号 in the file: the household its 户主 heads, if any
            existing = self.existing.by_head.get(head_id) if head_id else None
        village: Region = values["_village"]
        if existing is not None and not self._in_scope(existing):
            message = f"户编号 {values.get('household_number') or ''} 不可用：已被占用或不在您的管辖范围内"
            plan.error(first.number, COLUMNS["household_number"], message)
            return
        wanted = {"village_id": village.pk, **{name: values[name] for name in HOUSEHOLD_FIELDS if name in values}}
        if existing is None and LOCAL_NUMBER.match(values.get("household_number") or ""):
            message = "以“L+村代码”开头的户编号由系统生成，新户请留空户编号"
            plan.error(first.number, COLUMNS["household_number"], message)
            return
        if existing is None:
            number = values.get("household_number") or (self._local_number(village) if head_id else None)
            if number is None:
                plan.error(first.number, COLUMNS["household_number"], "户编号为空时须有户主行（与户主关系为“户主”）")
                return
            after = {**self.household_defaults, "uuid": self._new_uuid(), "number": number, **wanted}
            after.setdefault("household_type", "")
        else:
            after = {**existing, **wanted}
        judged = {k: v for k, v in after.items() if k != "village_id"}
        file_number = cells.get("household_number", group.indexes[0])
        if not self._household_passes(group.indexes[0], judged, wanted, file_number) and self._rule_errors(
            self.household_rules, judged, first.number
        ):
            return
        cleaned = self._household_clean(after, village)
        if cleaned:
            for name, messages in cleaned.items():
                plan.error(first.number, _column_for(name), "；".join(messages))
            return
        changed = [name for name in wanted if existing is not None and existing[name] != after[name]]
        for name in changed:
            self._changed(after["number"], first.number, Household, name, existing[name], after[name])  # type: ignore[index]
        members = self._plan_members(group, existing, after["number"])
        if members is None:
            return
        staged_members, everyone, tally = members
        case = self._plan_case(group, existing, after, village, everyone)
        if case is None:
            return
        staged_case = case
        cancelled = existing is not None and existing["status"] != HouseholdStatus.ACTIVE
        if cancelled and (changed or staged_members or staged_case):
            # Read back as exported it is unchanged; changed, it is refused as on the household's page.
            plan.error(first.number, COLUMNS["household_number"], f"户编号 {after['number']} 已注销，不能修改")
            return
        # Members count only once their household is sure to be written (else they are errors).
        members_counter = plan.counts["members"]
        members_counter.new += tally.new
        members_counter.updated += tally.updated
        members_counter.unchanged += tally.unchanged
        counter = plan.counts["households"]
        stager = self.stager
        if existing is None:
            counter.new += 1
            stager.add(
                phase=PHASE_HOUSEHOLDS, model=Household, action=StagedAction.CREATE, values=after, row=first.number
            )
        else:
            if changed:
                counter.updated += 1
            else:
                counter.unchanged += 1
            if changed or staged_members or staged_case:
                fields = ["village_id", *HOUSEHOLD_FIELDS]
                stager.add(
                    phase=PHASE_HOUSEHOLDS,
                    model=Household,
                    action=StagedAction.UPDATE if changed else StagedAction.CHECK,
                    object_id=existing["id"],
                    version=existing["version"],
                    values={name: after[name] for name in fields} if changed else None,
                    before={name: existing[name] for name in fields} if changed else None,
                    row=first.number,
                )
        for write in staged_members:
            stager.add(**write)
        if staged_case:
            stager.add(**staged_case)

    def _plan_members(
        self, group: Group, household: dict[str, Any] | None, number: str
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Counter] | None:
        """The staged member writes, every active member after the import and their tally; None on errors."""
        plan = self.plan
        counter = Counter()
        cells = group.cells
        ids = cells.columns["id_number"]
        current = {m["id_number"]: m for m in self.existing.members_of.get(household["id"], [])} if household else {}
        ok = True
        seen: dict[str, int] = {}
        writes: list[dict[str, Any]] = []
        results: list[tuple[str, dict[str, Any]]] = []
        for index in group.indexes:
            row = cells.numbers[index]
            id_number = ids[index]
            if id_number in seen:
                plan.error(row, COLUMNS["id_number"], f"与第{seen[id_number]}行身份证号重复")
                ok = False
                continue
            seen[id_number] = row
            other = self.existing.holder_of.get(id_number)
            if other is not None and (household is None or other["id"] != household["id"]):
                where = f"户编号 {other['number']} 名下" if self._in_scope(other) else "您管辖范围以外的农户名下"
                plan.error(row, COLUMNS["id_number"], f"该身份证号已登记在{where}")
                ok = False
                continue
            file_values = {name: column[index] for name, column in self.member_columns if column[index] is not None}
            member = current.get(id_number)
            try:
                normalised, birth_date, sex = member_identity(id_number)
            except ValidationError as error:
                plan.error(row, COLUMNS["id_number"], "；".join(error.messages))
                ok = False
                continue
            if member is None:
                after = {**self.member_defaults, **file_values, "id_number": normalised}
                after.update(birth_date=birth_date, sex=sex, household_id=household["id"] if household else None)
                action = StagedAction.CREATE
            else:
                after = {**member, **file_values, "is_active": True}
                action = StagedAction.UPDATE
            judged = not self._member_passes(index, after, file_values, ids[index])
            if judged and self._rule_errors(self.member_rules, {k: after[k] for k in RULED_MEMBER_FIELDS}, row):
                ok = False
                continue
            results.append((action, after))
            if member is None:
                counter.new += 1
                phase = PHASE_NEW_MEMBERS
                writes.append(
                    {
                        "phase": phase,
                        "model": Member,
                        "action": action,
                        "values": after,
                        "row": row,
                        "parent_key": "" if household else number,
                    }
                )
                continue
            fields = [*MEMBER_FIELDS, "is_active"]
            changed = [name for name in fields if member[name] != after[name]]
            if not changed:
                counter.unchanged += 1
                continue
            counter.updated += 1
            for name in changed:
                self._changed(f"{number} {after['name']}", row, Member, name, member[name], after[name])
            writes.append(
                {
                    "phase": PHASE_HEADS if after["relation"] == Relation.HEAD else PHASE_MEMBERS,
                    "model": Member,
                    "action": action,
                    "object_id": member["id"],
                    "values": {name: after[name] for name in fields},
                    "before": {name: member[name] for name in fields},
                    "row": row,
                }
            )
        if not ok:
            return None
        listed = {after["id_number"] for _, after in results}
        everyone = [after for _, after in results] + [
            m for m in current.values() if m["is_active"] and m["id_number"] not in listed
        ]
        heads = [m for m in everyone if m["relation"] == Relation.HEAD]
        if len(heads) != 1:
            message = "该户没有户主" if not heads else f"一户只能有一名户主，当前有{len(heads)}名"
            plan.error(group.first.number, COLUMNS["relation"], message)
            return None
        return writes, everyone, counter

    def _household_passes(self, index: int, after: dict[str, Any], wanted: dict[str, Any], file_number: Any) -> bool:
        """Whether a household's values break no field rule: the file's cells were judged by column, the
        values it keeps (the registry's, the defaults, a generated 户编号) are judged here."""
        if index in self.household_failing:
            return False
        error = self.household_rules.error
        for name in self.household_rules.fields:
            if name in wanted or (name == "number" and after["number"] == file_number):
                continue
            if error(name, after[name]) is not None:
                return False
        return True

    def _household_clean(self, after: dict[str, Any], village: Region) -> dict[str, list[str]]:
        """Household.clean()'s messages for these values, once per distinct combination of what it reads."""
        reads = [name for name in Household.CLEAN_READS if name != "village"]
        key = (village.pk, *(after[name] for name in reads))
        found = self.household_cleaned.get(key)
        if found is None:
            try:
                Household(**{name: after[name] for name in reads}, village=village).clean()
                found = {}
            except ValidationError as error:
                found = error.message_dict
            self.household_cleaned[key] = found
        return found

    def _member_passes(self, index: int, after: dict[str, Any], file_values: dict[str, Any], cell: Any) -> bool:
        """Whether a member's values break no field rule: the file's cells were judged by column, the
        values it keeps (the registry's, the defaults, the normalised 身份证号 if it differs) are judged here."""
        if index in self.member_failing:
            return False
        error = self.member_rules.error
        for name in MEMBER_FIELDS:
            if name not in file_values and error(name, after[name]) is not None:
                return False
        return after["id_number"] == cell or error("id_number", after["id_number"]) is None


def _column_for(field_name: str) -> Column:
    mapping = {"name": "member_name", "village": "village", "village_id": "village", "__all__": "household_number"}
    return COLUMNS.get(mapping.get(field_name, field_name), COLUMNS["household_number"])
