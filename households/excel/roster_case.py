"""The monitoring-case columns of a 花名册 household: validated against the registry and staged."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from households.excel.roster_existing import Existing, matching_case
from households.excel.roster_rows import COLUMNS, Group
from households.models import LABOUR_CAPABLE, MAX_RISK_TYPES, Household, MonitoringCase
from regions.models import Region, county_code_of
from workbooks.models import StagedAction
from workbooks.plan import Change, Plan, shown
from workbooks.rules import FieldRules

CASE_FIELDS = ["category", "identified_month", "eliminated_month", "elimination_method"]
RISKS = "_risk_type_ids"  # staged beside a case's fields; written by after_apply
PHASE_CASES, PHASE_NEW_CASES = 4, 5


class CasePlanning:
    """RosterPlanner's case half: the attributes below are the planner's."""

    plan: Plan
    existing: Existing
    risk_entries: list[tuple[int, str, str | None, bool]]
    risk_names: dict[int, str]
    risk_types_by_county: dict[str, dict[str, tuple[int, bool]]]
    case_rules: FieldRules
    case_defaults: dict[str, Any]

    def _changed(self, subject: str, row: int, model: Any, name: str, old: Any, new: Any) -> None:
        raise NotImplementedError

    def _rule_errors(self, rules: FieldRules, values: dict[str, Any], row: int) -> bool:
        raise NotImplementedError

    def _risk_types_of(self, village: Region) -> dict[str, tuple[int, bool]]:
        """name → (id, active) of the risk types a household of the village may have: the province's and its
        county's own. Another county's name is not among them, and so reads as an unknown one."""
        county = county_code_of(village.code)
        found = self.risk_types_by_county.get(county)
        if found is None:
            found = {
                name: (pk, active)
                for pk, name, region_code, active in self.risk_entries
                if region_code is None or region_code == county
            }
            self.risk_types_by_county[county] = found
        return found

    def _plan_case(
        self,
        group: Group,
        household: dict[str, Any] | None,
        after_household: dict[str, Any],
        village: Region,
        members: list[dict[str, Any]],
    ) -> dict[str, Any] | None:
        """The staged case write ({} when none), or None on errors."""
        plan = self.plan
        first = group.first
        values = first.values
        if not values.get("category"):
            return {}
        entries = [(n, values[f"risk_type_{n}"]) for n in range(1, MAX_RISK_TYPES + 1) if values.get(f"risk_type_{n}")]
        names = [name for _, name in entries]
        risk_types = self._risk_types_of(village)
        unknown = [(n, name) for n, name in entries if name not in risk_types]
        if unknown:
            column = COLUMNS[f"risk_type_{unknown[0][0]}"]
            plan.error(first.number, column, f"未知的风险类型：{'、'.join(name for _, name in unknown)}")
            return None
        if not names:
            plan.error(first.number, COLUMNS["risk_type_1"], "监测对象须填写至少一项风险类型")
            return None
        repeated = [(n, name) for index, (n, name) in enumerate(entries) if name in names[:index]]
        if repeated:
            column = COLUMNS[f"risk_type_{repeated[0][0]}"]
            plan.error(first.number, column, f"风险类型重复：{'、'.join(name for _, name in repeated)}")
            return None
        eliminated = values.get("eliminated")
        wanted = {
            "category": values["category"],
            "identified_month": values.get("identified_month"),
            "eliminated_month": values.get("eliminated_month") if eliminated is not False else None,
            "elimination_method": (values.get("elimination_method") or "") if eliminated is not False else "",
        }
        if wanted["identified_month"] is None:
            plan.error(first.number, COLUMNS["identified_month"], "监测对象须填写识别时间")
            return None
        for month in ("identified_month", "eliminated_month"):
            if wanted[month] is not None:
                wanted[month] = wanted[month].replace(day=1)
        current = matching_case(self.existing, household, wanted)
        after = {
            **(current or {**self.case_defaults, "household_id": household["id"] if household else None}),
            **wanted,
        }
        if self._rule_errors(self.case_rules, {name: after[name] for name in CASE_FIELDS}, first.number):
            return None
        case = MonitoringCase(
            **{k: v for k, v in after.items() if k not in ("household_id", "id")}, pk=(current or {}).get("id")
        )
        instance = Household(**{k: v for k, v in after_household.items() if k != "village_id"}, village=village)
        case.household = instance
        case.household_has_labour = any(m["is_active"] and m["labour"] in LABOUR_CAPABLE for m in members)
        case.household_cases = [
            (other["id"], other["identified_month"], other["eliminated_month"])
            for other in (self.existing.cases_of.get(household["id"], []) if household else [])
        ]
        try:
            case.clean()
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                plan.error(first.number, COLUMNS.get(name, COLUMNS["category"]), "；".join(messages))
            return None
        risk_ids = sorted(risk_types[name][0] for name in names)
        old_risks = sorted(self.existing.risks_of.get(current["id"], [])) if current is not None else []
        stopped = [(n, name) for n, name in entries if not risk_types[name][1] and risk_types[name][0] not in old_risks]
        if stopped:
            column = COLUMNS[f"risk_type_{stopped[0][0]}"]
            plan.error(first.number, column, f"风险类型已停用，不能新填：{'、'.join(name for _, name in stopped)}")
            return None
        counter = plan.counts["cases"]
        if current is None:
            counter.new += 1
            return {
                "phase": PHASE_NEW_CASES,
                "model": MonitoringCase,
                "action": StagedAction.CREATE,
                "values": {**after, RISKS: risk_ids},
                "parent_key": "" if household else instance.number,
                "row": first.number,
            }
        changed = [name for name in CASE_FIELDS if current[name] != after[name]]
        subject = f"{instance.number} 监测对象"
        for name in changed:
            self._changed(subject, first.number, MonitoringCase, name, current[name], after[name])
        if old_risks != risk_ids:
            old_names = "、".join(self.risk_names[pk] for pk in old_risks)
            plan.changes.append(Change(subject, first.number, "风险类型", shown(old_names), "、".join(names)))
        if not changed and old_risks == risk_ids:
            counter.unchanged += 1
            return {}
        counter.updated += 1
        return {
            "phase": PHASE_CASES,
            "model": MonitoringCase,
            "action": StagedAction.UPDATE,
            "object_id": current["id"],
            "version": current["version"],
            "values": {**{name: after[name] for name in CASE_FIELDS}, RISKS: risk_ids},
            "before": {**{name: current[name] for name in CASE_FIELDS}, RISKS: old_risks},
            "row": first.number,
        }
