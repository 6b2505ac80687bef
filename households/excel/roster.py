"""花名册 import: one row per member, household columns repeated; plan, then write in bulk."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from households.excel.columns import ROSTER_COLUMNS, Column
from households.excel.normalise import CellError, parse_cell
from households.excel.plan import Change, Counter, Plan, in_chunks, shown
from households.models import (
    MAX_RISK_TYPES,
    Household,
    Member,
    MonitoringCase,
    Relation,
    RiskType,
)
from regions.models import Level, Region, regions_visible_to

COLUMNS = {column.key: column for column in ROSTER_COLUMNS}
HOUSEHOLD_FIELDS = ["household_type", "lifted_year", "relocated", "phone"]
MEMBER_FIELDS = ["name", "relation", "labour", "health", "schooling", "work_place", "work_months", "medical_insurance"]
CASE_FIELDS = ["category", "identified_month", "eliminated_month", "elimination_method"]
MEMBER_DEFAULTS = {
    "health": "healthy",
    "schooling": "none",
    "work_place": "",
    "work_months": 0,
    "medical_insurance": True,
}


@dataclass
class ParsedRow:
    number: int
    values: dict[str, Any]
    ok: bool = True


@dataclass
class Group:
    """The rows of one household in the file."""

    key: tuple[Any, ...]
    rows: list[ParsedRow] = field(default_factory=list)


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


def _parse_rows(plan: Plan, raw_rows: list[Any]) -> list[ParsedRow]:
    parsed: list[ParsedRow] = []
    for raw in raw_rows:
        row = ParsedRow(number=raw.row_number, values={})
        for key, value in raw.values.items():
            column = COLUMNS.get(key)
            if column is None or column.derived:
                continue
            try:
                row.values[key] = parse_cell(column, value)
            except CellError as error:
                plan.error(row.number, column, str(error))
                row.ok = False
        for column in ROSTER_COLUMNS:
            # A cell that failed to parse is already reported; only a truly blank one is "empty".
            blank = raw.values.get(column.key) in (None, "")
            if column.required and column.key in raw.values and blank:
                plan.error(row.number, column, "必填项为空")
                row.ok = False
        parsed.append(row)
    return parsed


def _group(plan: Plan, rows: list[ParsedRow], villages: Villages) -> list[Group]:
    groups: dict[tuple[Any, ...], Group] = {}
    for row in rows:
        found = villages.find(row.values)
        if isinstance(found, str):
            plan.error(
                row.number, COLUMNS["region_code"] if row.values.get("region_code") else COLUMNS["village"], found
            )
            row.ok = False
            continue
        row.values["_village"] = found
        number = row.values.get("household_number") or ""
        key = ("number", number) if number else ("head", found.pk, row.values.get("head_name") or "")
        groups.setdefault(key, Group(key=key)).rows.append(row)
    return list(groups.values())


def _consistent(plan: Plan, group: Group) -> bool:
    """Household and case columns must agree across the household's rows."""
    first = group.rows[0]
    keys = [c.key for c in ROSTER_COLUMNS if c.level in ("household", "case")] + ["_village"]
    ok = True
    for row in group.rows[1:]:
        for key in keys:
            if key in row.values and key in first.values and row.values[key] != first.values[key]:
                column = COLUMNS.get(key, COLUMNS["village"])
                plan.error(row.number, column, f"与同户第{first.number}行不一致")
                ok = False
    return ok


class RosterPlanner:
    """Validates a roster against the registry and the models' rules, and lists the writes."""

    def __init__(self, *, user: Any, sheet: str, lock: bool = False) -> None:
        self.user = user
        self.lock = lock
        self.plan = Plan(
            sheet=sheet,
            counts={"households": Counter(), "members": Counter(), "cases": Counter()},
            writes={
                "new_households": [],
                "updated_households": [],
                "new_members": [],
                "updated_members": [],
                "new_cases": [],
                "updated_cases": [],
                "case_risks": [],
            },
        )
        self.risk_types = {r.name: r for r in RiskType.objects.all()}

    def run(self, raw_rows: list[Any]) -> Plan:
        plan = self.plan
        rows = _parse_rows(plan, raw_rows)
        groups = _group(plan, rows, Villages(self.user))
        numbers = [g.key[1] for g in groups if g.key[0] == "number"]
        id_numbers = [r.values["id_number"] for g in groups for r in g.rows if r.values.get("id_number")]
        existing = self._existing_households(numbers, id_numbers)
        members_by_id = {
            m.id_number: m for m in in_chunks(Member.objects.select_related("household"), "id_number", id_numbers)
        }
        for group in groups:
            self._plan_group(group, existing, members_by_id)
        error_rows = {e.row for e in plan.errors}
        household_of_row = {row.number: group.key for group in groups for row in group.rows}
        plan.counts["members"].error = len(error_rows)
        plan.counts["households"].error = len({household_of_row.get(row, ("row", row)) for row in error_rows})
        plan.describe_rows(
            {
                raw.row_number: f"{raw.values.get('household_number') or ''} {raw.values.get('member_name') or ''}"
                for raw in raw_rows
            }
        )
        return plan

    def _existing_households(self, numbers: list[str], id_numbers: list[str]) -> dict[tuple[str, str], Household]:
        """Existing households by ("number", 户编号) and by ("head", 户主身份证号)."""
        members = Prefetch("members", queryset=Member.objects.all())
        cases = Prefetch("monitoring_cases", queryset=MonitoringCase.objects.open().prefetch_related("risk_types"))
        households = Household.objects.select_related("village").prefetch_related(members, cases)
        if self.lock:
            households = households.select_for_update(of=("self",))
        found: dict[tuple[str, str], Household] = {}
        by_pk: dict[int, Household] = {}
        for household in in_chunks(households, "number", numbers):
            found[("number", household.number)] = household
            by_pk[household.pk] = household
        heads = Member.objects.filter(relation=Relation.HEAD).values_list("id_number", "household_id")
        head_households = dict(in_chunks(heads, "id_number", id_numbers))
        missing = set(head_households.values()) - set(by_pk)
        for household in in_chunks(households, "pk", missing):
            by_pk[household.pk] = household
        for id_number, household_id in head_households.items():
            found[("head", id_number)] = by_pk[household_id]
        return found

    def _plan_group(
        self, group: Group, existing: dict[tuple[str, str], Household], members_by_id: dict[str, Member]
    ) -> None:
        plan = self.plan
        first = group.rows[0]
        if not all(row.ok for row in group.rows) or not _consistent(plan, group):
            return
        values = first.values
        head_row = next((r for r in group.rows if r.values.get("relation") == Relation.HEAD), None)
        household = existing.get(("number", group.key[1])) if group.key[0] == "number" else None
        if household is None and head_row is not None:
            household = existing.get(("head", head_row.values.get("id_number", "")))
        village: Region = values["_village"]
        if household is not None and not self._in_scope(household):
            plan.error(first.number, COLUMNS["household_number"], f"户编号 {household.number} 不在您的管辖范围内")
            return
        is_new = household is None
        if household is None:
            number = values.get("household_number") or self._local_number(village, head_row)
            if number is None:
                plan.error(first.number, COLUMNS["household_number"], "户编号为空时须有户主行（与户主关系为“户主”）")
                return
            household = Household(number=number, village=village, household_type=values.get("household_type", ""))
        changed = self._apply_fields(household, values, group.rows[0].number, is_new, "village", village)
        for name in HOUSEHOLD_FIELDS:
            if name in values:
                changed |= self._apply_fields(household, values, first.number, is_new, name, values[name])
        try:
            household.clean()
        except ValidationError as error:
            for field_name, messages in error.message_dict.items():
                plan.error(first.number, self._column_for(field_name), "；".join(messages))
            return
        members = self._plan_members(group, household, members_by_id)
        if members is None:
            return
        case_ok = self._plan_case(group, household, members)
        if not case_ok:
            return
        counter = plan.counts["households"]
        if is_new:
            counter.new += 1
            plan.writes["new_households"].append(household)
        elif changed:
            counter.updated += 1
            plan.writes["updated_households"].append(household)
        else:
            counter.unchanged += 1

    def _in_scope(self, household: Household) -> bool:
        prefix = self.user.scope_prefix()
        return prefix == "" or (prefix is not None and household.village.code.startswith(prefix))

    @staticmethod
    def _local_number(village: Region, head_row: ParsedRow | None) -> str | None:
        if head_row is None or not head_row.values.get("id_number"):
            return None
        return f"L{head_row.values['id_number']}"

    def _apply_fields(self, instance: Any, values: dict[str, Any], row: int, is_new: bool, name: str, new: Any) -> bool:
        """Set one field; record old → new for an existing record. True when it changed."""
        old = getattr(instance, name)
        if old == new:
            return False
        setattr(instance, name, new)
        if not is_new and len(self.plan.changes) < 2000:
            model_field = instance._meta.get_field(name)
            label = str(model_field.verbose_name)
            choices = dict(model_field.flatchoices) if model_field.choices else {}
            self.plan.changes.append(
                Change(str(instance), row, label, shown(choices.get(old, old)), shown(choices.get(new, new)))
            )
        return True

    @staticmethod
    def _column_for(field_name: str) -> Column:
        mapping = {"name": "member_name", "village": "village", "__all__": "household_number"}
        return COLUMNS.get(mapping.get(field_name, field_name), COLUMNS["household_number"])

    def _plan_members(
        self, group: Group, household: Household, members_by_id: dict[str, Member]
    ) -> list[Member] | None:
        plan = self.plan
        counter = plan.counts["members"]
        in_file: list[tuple[ParsedRow, Member, bool, bool]] = []
        ok = True
        seen: dict[str, int] = {}
        for row in group.rows:
            id_number = row.values["id_number"]
            if id_number in seen:
                plan.error(row.number, COLUMNS["id_number"], f"与第{seen[id_number]}行身份证号重复")
                ok = False
                continue
            seen[id_number] = row.number
            member = members_by_id.get(id_number)
            if member is not None and household.pk is not None and member.household_id != household.pk:
                plan.error(row.number, COLUMNS["id_number"], f"该身份证号已登记在户编号 {member.household.number} 名下")
                ok = False
                continue
            if member is not None and household.pk is None:
                plan.error(row.number, COLUMNS["id_number"], f"该身份证号已登记在户编号 {member.household.number} 名下")
                ok = False
                continue
            is_new = member is None
            if member is None:
                member = Member(household=household, id_number=id_number, **MEMBER_DEFAULTS)
            changed = False
            for name in MEMBER_FIELDS:
                key = "member_name" if name == "name" else name
                if key in row.values and row.values[key] is not None:
                    changed |= self._apply_fields(member, row.values, row.number, is_new, name, row.values[key])
            if not member.is_active:
                changed |= self._apply_fields(member, row.values, row.number, is_new, "is_active", True)
            try:
                member.clean()
            except ValidationError as error:
                for messages in error.message_dict.values():
                    plan.error(row.number, COLUMNS["id_number"], "；".join(messages))
                ok = False
                continue
            in_file.append((row, member, is_new, changed))
        if not ok:
            return None
        listed = {m.id_number for _, m, _, _ in in_file}
        others = (
            [m for m in household.members.all() if m.is_active and m.id_number not in listed] if household.pk else []
        )
        everyone = [m for _, m, _, _ in in_file] + others
        heads = [m for m in everyone if m.relation == Relation.HEAD]
        if len(heads) != 1:
            message = "该户没有户主" if not heads else f"一户只能有一名户主，当前有{len(heads)}名"
            plan.error(group.rows[0].number, COLUMNS["relation"], message)
            return None
        for _row, member, is_new, changed in in_file:
            if is_new:
                counter.new += 1
                plan.writes["new_members"].append(member)
            elif changed:
                counter.updated += 1
                plan.writes["updated_members"].append(member)
            else:
                counter.unchanged += 1
        return everyone

    def _plan_case(self, group: Group, household: Household, members: list[Member]) -> bool:
        plan = self.plan
        first = group.rows[0]
        values = first.values
        if not values.get("category"):
            return True
        risk_names = [values[f"risk_type_{n}"] for n in range(1, MAX_RISK_TYPES + 1) if values.get(f"risk_type_{n}")]
        unknown = [name for name in risk_names if name not in self.risk_types]
        if unknown:
            plan.error(first.number, COLUMNS["risk_type_1"], f"未知的风险类型：{'、'.join(unknown)}")
            return False
        if not risk_names:
            plan.error(first.number, COLUMNS["risk_type_1"], "监测对象须填写至少一项风险类型")
            return False
        open_case = next(iter(household.monitoring_cases.all()), None) if household.pk else None
        is_new = open_case is None
        case = open_case or MonitoringCase(household=household)
        eliminated = values.get("eliminated")
        wanted = {
            "category": values["category"],
            "identified_month": values.get("identified_month"),
            "eliminated_month": values.get("eliminated_month") if eliminated is not False else None,
            "elimination_method": (values.get("elimination_method") or "") if eliminated is not False else "",
        }
        if wanted["identified_month"] is None:
            plan.error(first.number, COLUMNS["identified_month"], "监测对象须填写识别时间")
            return False
        changed = False
        for name, value in wanted.items():
            changed |= self._apply_fields(case, values, first.number, is_new, name, value)
        current_risks = sorted(r.name for r in case.risk_types.all()) if case.pk else []
        if sorted(risk_names) != current_risks:
            changed = True
        household._prefetched_objects_cache = {  # type: ignore[attr-defined]
            **getattr(household, "_prefetched_objects_cache", {}),
            "members": members,
        }
        case.household = household
        try:
            case.clean()
        except ValidationError as error:
            for field_name, messages in error.message_dict.items():
                plan.error(first.number, COLUMNS.get(field_name, COLUMNS["category"]), "；".join(messages))
            return False
        counter = plan.counts["cases"]
        if is_new:
            counter.new += 1
            plan.writes["new_cases"].append(case)
        elif changed:
            counter.updated += 1
            plan.writes["updated_cases"].append(case)
        else:
            counter.unchanged += 1
            return True
        plan.writes["case_risks"].append((case, [self.risk_types[name] for name in risk_names]))
        return True


def roster_apply(plan: Plan, *, user: Any, reason: str) -> dict[str, Any]:
    """Write a planned roster in bulk (the caller holds the transaction); returns undo data."""
    writes = plan.writes
    history = {"default_user": user, "default_change_reason": reason}
    bulk_create_with_history(writes["new_households"], Household, batch_size=1000, **history)
    now = timezone.now()
    for household in writes["updated_households"]:
        household.version += 1
        household.updated_at = now
    bulk_update_with_history(
        writes["updated_households"],
        Household,
        ["village", *HOUSEHOLD_FIELDS, "version", "updated_at"],
        batch_size=1000,
        **history,
    )
    for member in writes["new_members"]:
        member.household_id = member.household.pk
    bulk_create_with_history(writes["new_members"], Member, batch_size=2000, **history)
    bulk_update_with_history(
        writes["updated_members"], Member, [*MEMBER_FIELDS, "is_active"], batch_size=2000, **history
    )
    for case in writes["new_cases"]:
        case.household_id = case.household.pk
    bulk_create_with_history(writes["new_cases"], MonitoringCase, batch_size=1000, **history)
    for case in writes["updated_cases"]:
        case.version += 1
    bulk_update_with_history(writes["updated_cases"], MonitoringCase, [*CASE_FIELDS, "version"], **history)
    through = MonitoringCase.risk_types.through
    previous_risks: dict[str, list[int]] = {}
    for case_id, risk_id in through.objects.filter(
        monitoringcase_id__in=[c.pk for c in writes["updated_cases"]]
    ).values_list("monitoringcase_id", "risktype_id"):
        previous_risks.setdefault(str(case_id), []).append(risk_id)
    through.objects.filter(monitoringcase_id__in=[c.pk for c, _ in writes["case_risks"]]).delete()
    through.objects.bulk_create(
        [
            through(monitoringcase_id=case.pk, risktype_id=risk.pk)
            for case, risks in writes["case_risks"]
            for risk in risks
        ],
        batch_size=5000,
    )
    return {"case_risks": previous_risks}
