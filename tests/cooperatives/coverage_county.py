"""A small county whose 产业与双绑 figures for 2026Q2 (date 2026-06-30) are worked out by hand in
tests/cooperatives/test_coverage_figures.py. Households through the services, everything of issue 10
with the ORM (Model.full_clean() then save()), as the registers' own services are written elsewhere.

大姚县 > 金碧镇 (大村村 a1, 石丫村 a2), 湾碧乡 (湾碧村 b1). Enterprises: E1 (省级, registered at the
county), E2 (县级, registered at 金碧镇). Cooperatives on 2026-06-30:

| 社 | registered | level | status | binding |
|---|---|---|---|---|
| C1 | a1 | 县级 | in force | E1 since 2025-01-01 |
| C2 | a1 | — | in force | E2 since 2026-01-01 |
| C3 | b1 | — | in force | E1 2025-01-01 – 2026-03-31 (ended before the date) |
| C4 | a2 | — | cancelled 2026-05-01 | E1 since 2025-01-01 |
| C5 | b1 | 省级 | in force | E1 since 2025-06-01 |

Households (members: two working-age adults, 普通劳动力, unless the row says otherwise):

| 户 | village | type | labour | memberships | participation |
|---|---|---|---|---|---|
| H1 | a1 | 脱贫户 | yes | C1 and C2 (in two cooperatives) | 2026 核桃 |
| H2 | a1 | 脱贫户 | yes | C3 (binding ended) | — |
| H3 | a1 | 脱贫户 | none (丧失/无劳动力) | C1 | 2026 核桃 |
| H4 | a1 | 一般农户, not monitored | yes | C1 | 2026 核桃 |
| H5 | a2 | 一般农户, 监测 since 2025-01 | yes | C4 (cancelled cooperative) | — |
| H6 | a2 | 脱贫户 | yes | — | 2025 only |
| H7 | b1 | 脱贫户 | yes | C5 | — |
| H8 | b1 | 脱贫户 | yes | C5, left on 2026-06-30 (the date) | — |

Planned scale 2026: county 核桃 100 亩, 金碧镇 核桃 80 亩, a1 烤烟 30 亩, a2 核桃 10 亩; reported:
a1 核桃 60 and 烤烟 30, b1 核桃 50. Family farm F1 at a1.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from stdnum.cn import uscc

from cooperatives.models import (
    Binding,
    EarningKind,
    Entity,
    EntityKind,
    EntityLevel,
    EntityStatus,
    JoiningMethod,
    LinkageType,
    Membership,
)
from households.models import Household, HouseholdType, Labour, MonitoringCategory, Relation, RiskType
from households.services import monitoring_case_register
from industries.models import Industry, IndustryCategory, Participation, ScalePlan, ScaleReport, ScaleUnit
from regions.models import Region, User
from tests.factories import Tree, household, member

DAY = date(2026, 6, 30)
_serials = iter(range(1, 10_000))


def credit_code() -> str:
    """A fresh valid 统一社会信用代码 (the organisation code's own check character found by trying)."""
    base = f"93532326MA{next(_serials):06d}"
    for character in string.digits + string.ascii_uppercase:
        candidate = base + character + uscc.calc_check_digit(base + character)
        if uscc.is_valid(candidate):
            return candidate
    raise AssertionError("no valid code")


def saved(row: Any) -> Any:
    row.full_clean()
    row.save()
    return row


def entity(kind: str, name: str, region: Region, **fields: Any) -> Entity:
    return saved(Entity(kind=kind, name=name, credit_code=credit_code(), region=region, **fields))


def bind(enterprise: Entity, cooperative: Entity, started: date, ended: date | None = None) -> Binding:
    binding = saved(Binding(enterprise=enterprise, cooperative=cooperative, started_on=started, ended_on=ended))
    binding.linkage_types.set([LinkageType.objects.get(code="consignment")])
    return binding


def join(cooperative: Entity, member_household: Household, left: date | None = None) -> Membership:
    return saved(
        Membership(
            cooperative=cooperative,
            household=member_household,
            joining_method=JoiningMethod.objects.get(code="money"),
            joined_on=date(2025, 6, 1),
            left_on=left,
        )
    )


@dataclass
class CoverageCounty:
    households: dict[str, Household]
    entities: dict[str, Entity]
    industries: dict[str, Industry]


def build(tree: Tree, by: User) -> CoverageCounty:
    no_labour = [
        member(labour=Labour.LOST),
        member(Relation.SPOUSE, name="李四", birth="19820202", labour=Labour.NONE),
    ]
    h = {
        "H1": household(by, tree.village_a1),
        "H2": household(by, tree.village_a1),
        "H3": household(by, tree.village_a1, members=no_labour),
        "H4": household(by, tree.village_a1, household_type=HouseholdType.ORDINARY),
        "H5": household(by, tree.village_a2, household_type=HouseholdType.ORDINARY),
        "H6": household(by, tree.village_a2),
        "H7": household(by, tree.village_b1),
        "H8": household(by, tree.village_b1),
    }
    monitoring_case_register(
        by=by,
        household=h["H5"],
        category=MonitoringCategory.MARGINAL,
        identified_month=date(2025, 1, 1),
        risk_types=[RiskType.objects.get_or_create(code="illness", defaults={"name": "因病"})[0]],
    )

    e1 = entity(EntityKind.ENTERPRISE, "云岭核桃公司", tree.county, level=EntityLevel.PROVINCIAL)
    e2 = entity(EntityKind.ENTERPRISE, "金碧烤烟公司", tree.township_a, level=EntityLevel.COUNTY)
    cooperative = EntityKind.COOPERATIVE
    c1 = entity(cooperative, "大村核桃合作社", tree.village_a1, level=EntityLevel.COUNTY)
    c2 = entity(cooperative, "大村烤烟合作社", tree.village_a1)
    c3 = entity(cooperative, "湾碧花椒合作社", tree.village_b1)
    c4 = entity(
        cooperative,
        "石丫黑山羊合作社",
        tree.village_a2,
        status=EntityStatus.CANCELLED,
        cancelled_on=date(2026, 5, 1),
    )
    c5 = entity(cooperative, "湾碧芒果合作社", tree.village_b1, level=EntityLevel.PROVINCIAL)
    f1 = entity(EntityKind.FAMILY_FARM, "大村张家农场", tree.village_a1)
    bind(e1, c1, date(2025, 1, 1))
    bind(e2, c2, date(2026, 1, 1))
    bind(e1, c3, date(2025, 1, 1), date(2026, 3, 31))
    bind(e1, c4, date(2025, 1, 1))
    bind(e1, c5, date(2025, 6, 1))

    join(c1, h["H1"])
    join(c2, h["H1"])
    join(c3, h["H2"])
    join(c1, h["H3"])
    join(c1, h["H4"])
    join(c4, h["H5"])
    join(c5, h["H7"])
    join(c5, h["H8"], left=DAY)

    fruit = IndustryCategory.objects.get(code="forestry_fruit")
    mu = ScaleUnit.objects.get(code="mu")
    walnut = saved(Industry(county=tree.county, name="核桃", category=fruit, unit=mu))
    tobacco = saved(
        Industry(county=tree.county, name="烤烟", category=IndustryCategory.objects.get(code="planting"), unit=mu)
    )
    for key, year in (("H1", 2026), ("H3", 2026), ("H4", 2026), ("H6", 2025)):
        saved(Participation(household=h[key], year=year, industry=walnut, scale=Decimal("3")))
    for region, industry, scale in (
        (tree.county, walnut, "100"),
        (tree.township_a, walnut, "80"),
        (tree.village_a1, tobacco, "30"),
        (tree.village_a2, walnut, "10"),
    ):
        saved(ScalePlan(region=region, year=2026, industry=industry, scale=Decimal(scale)))
    for village, industry, scale in (
        (tree.village_a1, walnut, "60"),
        (tree.village_a1, tobacco, "30"),
        (tree.village_b1, walnut, "50"),
    ):
        saved(ScaleReport(village=village, year=2026, industry=industry, scale=Decimal(scale)))
    return CoverageCounty(
        households=h,
        entities={"E1": e1, "E2": e2, "C1": c1, "C2": c2, "C3": c3, "C4": c4, "C5": c5, "F1": f1},
        industries={"核桃": walnut, "烤烟": tobacco},
    )


def earning_kind(code: str) -> EarningKind:
    return EarningKind.objects.get(code=code)
