"""What the registry already holds for the households a 花名册 names, read as plain rows in bulk."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from households.models import Household, Member, MonitoringCase, Relation
from workbooks.plan import in_chunks

# The household columns a roster import reads, compares or keeps.
HOUSEHOLD_READ = [f.attname for f in Household._meta.concrete_fields]
MEMBER_READ = [f.attname for f in Member._meta.concrete_fields]
CASE_READ = [f.attname for f in MonitoringCase._meta.concrete_fields]


@dataclass
class Existing:
    """Households by 户编号 and by their 户主's 身份证号, with their members and cases, as dicts."""

    by_number: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_head: dict[str, dict[str, Any]] = field(default_factory=dict)
    members_of: dict[int, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    cases_of: dict[int, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    # Case id → its risk type ids.
    risks_of: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    # Every 身份证号 of the file already registered → the row of the household it is registered in.
    holder_of: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Village id → code, for the scope check of every household read.
    village_codes: dict[int, str] = field(default_factory=dict)


def read_existing(numbers: list[str], id_numbers: list[str]) -> Existing:
    """Everything the roster planner compares the file with, in a handful of queries."""
    from regions.models import Region

    existing = Existing()
    households = Household.objects.order_by().values(*HOUSEHOLD_READ)
    by_pk: dict[int, dict[str, Any]] = {}
    for row in in_chunks(households, "number", numbers):
        existing.by_number[row["number"]] = row
        by_pk[row["id"]] = row
    registered = Member.objects.order_by().values_list("id_number", "household_id", "relation", "is_active")
    known = {
        number: (household, relation, active)
        for number, household, relation, active in in_chunks(registered, "id_number", id_numbers)
    }
    head_households = {
        number: household
        for number, (household, relation, active) in known.items()
        if relation == Relation.HEAD and active
    }
    missing = set(head_households.values()) - set(by_pk)
    for row in in_chunks(households, "id", list(missing)):
        by_pk[row["id"]] = row
    for number, household_id in head_households.items():
        existing.by_head[number] = by_pk[household_id]
    members = Member.objects.order_by().values(*MEMBER_READ)
    for row in in_chunks(members, "household_id", list(by_pk)):
        existing.members_of[row["household_id"]].append(row)
    cases = MonitoringCase.objects.order_by().values(*CASE_READ)
    case_ids = []
    for row in in_chunks(cases, "household_id", list(by_pk)):
        existing.cases_of[row["household_id"]].append(row)
        case_ids.append(row["id"])
    through = MonitoringCase.risk_types.through.objects.order_by().values_list("monitoringcase_id", "risktype_id")
    for case_id, risk_id in in_chunks(through, "monitoringcase_id", case_ids):
        existing.risks_of[case_id].append(risk_id)
    others = {household for household, _, _ in known.values()} - set(by_pk)
    by_pk.update({row["id"]: row for row in in_chunks(households, "id", list(others))})
    existing.holder_of = {number: by_pk[household] for number, (household, _, _) in known.items()}
    villages = {row["village_id"] for row in by_pk.values()}
    existing.village_codes = dict(in_chunks(Region.objects.order_by().values_list("id", "code"), "id", list(villages)))
    return existing


def matching_case(
    existing: Existing, household: dict[str, Any] | None, wanted: dict[str, Any]
) -> dict[str, Any] | None:
    """The registered case the file's case columns describe, as an export writes them: the open one, or
    (when the household has none and the file's case is eliminated) the latest eliminated one."""
    if household is None:
        return None
    cases = existing.cases_of.get(household["id"], [])
    open_case = next((case for case in cases if case["eliminated_month"] is None), None)
    if open_case is not None:
        return open_case
    if wanted["eliminated_month"] is None or not cases:
        return None  # a new case opens (or is recorded)
    return max(cases, key=lambda case: (case["eliminated_month"], case["identified_month"], case["id"]))
