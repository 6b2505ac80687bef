"""Hand-built households for the alert tests: each one set up to trip (or just miss) one rule.

The quarter under test is 2026Q2 (ended); the year's 监测范围 is 7,000 元/人·年 on the county.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from figures.periods import Quarter
from households.facts import facts_refresh
from households.models import (
    AssistanceMeasure,
    EliminationMethod,
    Household,
    HouseholdType,
    Labour,
    MonitoringCase,
    MonitoringCategory,
    Relation,
    RiskType,
)
from households.services import MemberData, monitoring_case_register
from regions.models import Region, User
from tests.factories import household, id_number, income, threshold

PERIOD = Quarter(2026, 2)
TRAILING = ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]


def exact_id(birth: str) -> str:
    """A valid 身份证号 with exactly this birth date (YYYYMMDD), unique per call."""
    number = id_number(birth)
    assert number[6:14] == birth, "more than 500 numbers for one birth date in this run"
    return number


def person(
    relation: str = Relation.HEAD, *, birth: str = "19800101", labour: str = Labour.ORDINARY, **extra: object
) -> MemberData:
    name = "户主甲" if relation == Relation.HEAD else "成员乙"
    return MemberData(name=name, id_number=exact_id(birth), relation=relation, labour=labour, **extra)  # type: ignore[arg-type]


def two_people(**head: object) -> list[MemberData]:
    return [person(**head), person(Relation.SPOUSE, birth="19820202")]  # type: ignore[arg-type]


def set_threshold(county: Region) -> None:
    threshold(county, 2026, "7000")
    threshold(county, 2025, "6900")


def quarters_of_income(by: User, target: Household, quarters: list[str], wages: str) -> None:
    for quarter in quarters:
        income(by, target, quarter, wages_migrant_work=wages)


def below_threshold(by: User, village: Region, **fields: object) -> Household:
    """Two people, 2,000 元 a quarter: 8,000 ÷ 2 = 4,000 元/人 over four quarters, below 7,000."""
    target = household(by, village, members=two_people(), **fields)  # type: ignore[arg-type]
    quarters_of_income(by, target, TRAILING, "2000")
    return target


def above_threshold(by: User, village: Region) -> Household:
    """Two people, 8,000 元 a quarter: 16,000 元/人, above the line."""
    target = household(by, village, members=two_people())
    quarters_of_income(by, target, TRAILING, "8000")
    return target


def open_case(by: User, target: Household, month: date, *, with_measures: bool = True) -> MonitoringCase:
    category = (
        MonitoringCategory.UNSTABLE if target.household_type == HouseholdType.LIFTED else MonitoringCategory.MARGINAL
    )
    return monitoring_case_register(
        by=by,
        household=target,
        category=category,
        identified_month=month,
        risk_types=RiskType.objects.filter(code="illness"),
        measures=AssistanceMeasure.objects.filter(code="health") if with_measures else AssistanceMeasure.objects.none(),
    )


def eliminated_case(target: Household, identified: date, eliminated: date) -> MonitoringCase:
    """A case eliminated in the past, written as an imported record of the past would be."""
    return MonitoringCase.objects.create(
        household=target,
        category=MonitoringCategory.UNSTABLE,
        identified_month=identified,
        eliminated_month=eliminated,
        elimination_method=EliminationMethod.ASSISTED,
    )


def refresh(county: Region, period: Quarter = PERIOD) -> None:
    facts_refresh(period=period, within=county.prefix)


def defaults(rule: object) -> dict[str, Decimal]:
    return {parameter.key: parameter.default for parameter in rule.parameters}  # type: ignore[attr-defined]
