"""A small county whose 衔接资金 and 村集体经济 figures are worked out by hand in
tests/funds/test_figures*.py. Households through the services; every row of funds/ with the ORM
(full_clean() then save()), as the registers' own services are written elsewhere.

大姚县 > 金碧镇 (大村村 a1, 石丫村 a2), 湾碧乡 (湾碧村 b1).

Allocations (元):

| | year | level | issued | amount | |
|---|---|---|---|---|---|
| A1 | 2025 | 中央 | 2024-11-20 (提前下达) | 1,000,000.00 | county |
| S1 | 2025 | 中央 | 2025-02-10 | 300,000.00 | split of A1 to 金碧镇 |
| A2 | 2025 | 省级 | 2025-05-15 | 500,000.00 | county |
| A3 | 2025 | 县级 | 2025-08-01 (after 2025Q2) | 200,000.00 | county |
| B1 | 2024 | 中央 | 2024-03-01 | 800,000.00 | county |

Projects (status 批准实施 unless said; linkage text unless said):

| | where | type | year | funding lines | beneficiaries | 双绑 |
|---|---|---|---|---|---|---|
| P1 | a1 | 种养殖基地 | 2025 | A1 400,000 + A2 300,000 (two levels) | H1 脱贫, H2 监测, H3 一般 | — |
| P2 | a2 | 配套设施 | 2025 | S1 250,000 | H4 脱贫, H1 | C1 |
| P3 | b1 | 乡村建设 | 2025 | A1 200,000 + A3 150,000 | — | — |
| P4 | county | 项目管理费 | 2025 | A2 10,000 | — | — |
| P5 | b1 | 加工流通, 入库 | 2025 | A3 50,000 | none (no linkage) | E1 |
| P6 | b1 | 种养殖基地, 资产移交 | 2024 | B1 600,000 | H5 脱贫 | — |
| P7 | a1 | 产业发展, 储备 | 2025 | — | — (not in the library) | — |
| P8 | a1 | 产业服务支撑, 入库, no linkage text | 2025 | — | H1 | — |

Payments: P1/A1 100,000 on 2025-03-10 and 150,000 on 2025-09-20; P1/A2 100,000 on 2025-06-30 (the
quarter's last day); P2/S1 200,000 on 2025-11-05; P3/A1 200,000 on 2025-12-20; P3/A3 50,000 on
2026-01-15 (2025 money paid in a later year); P6/B1 600,000 on 2024-10-01.

Collective income (经营性收入 = the first four lines; 补助 and 其他 not in it):

| | 2024Q2 | 2024Q4 | 2025Q2 | 2025Q4 | 2025 profile |
|---|---|---|---|---|---|
| a1 | 15,000.00 | 40,000.00 | 20,000.00 | 50,000.00 (30,000.10 + 9,999.90 + 5,000.05 + 4,999.95) | — |
| a2 | — | 45,000.00 | not reported | 42,000.00 (+ 补助 100,000.00) | 脱贫村 |
| b1 | 50,000.00 | 100,000.00 | 60,000.00 | 120,000.00 | 脱贫村, 党建综合体 |
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from stdnum.cn import uscc

from cooperatives.models import Entity, EntityKind
from funds.models import (
    Allocation,
    Beneficiary,
    CollectiveIncome,
    Funding,
    FundLevel,
    Payment,
    Project,
    ProjectStatus,
    ProjectType,
    VillageProfile,
)
from households.models import Household, HouseholdType, MonitoringCategory, RiskType
from households.services import monitoring_case_register
from regions.models import Region, User
from tests.factories import Tree, household

_serials = iter(range(1, 10_000))


def credit_code() -> str:
    """A fresh valid 统一社会信用代码 (the organisation code's own check character found by trying)."""
    base = f"93532326MF{next(_serials):06d}"
    for character in string.digits + string.ascii_uppercase:
        candidate = base + character + uscc.calc_check_digit(base + character)
        if uscc.is_valid(candidate):
            return candidate
    raise AssertionError("no valid code")


def saved(row: Any) -> Any:
    row.full_clean()
    row.save()
    return row


def allocation(region: Region, year: int, level: str, issued: date, amount: str, **extra: Any) -> Allocation:
    number = f"测试〔{year}〕{next(_serials)}号"
    return saved(
        Allocation(
            region=region,
            year=year,
            level=level,
            document_number=number,
            issued_on=issued,
            amount=Decimal(amount),
            **extra,
        )
    )


def project(code: str, region: Region, type_code: str, year: int, **fields: Any) -> Project:
    fields.setdefault("status", ProjectStatus.APPROVED)
    fields.setdefault("linkage_mechanism", "吸纳务工、土地流转和分红")
    return saved(
        Project(
            code=code,
            name=f"项目{code}",
            year=year,
            region=region,
            project_type=ProjectType.objects.get(code=type_code),
            **fields,
        )
    )


def fund(target: Project, source: Allocation, amount: str) -> Funding:
    return saved(Funding(project=target, allocation=source, amount=Decimal(amount)))


def pay(line: Funding, on: date, amount: str) -> Payment:
    return saved(Payment(funding=line, paid_on=on, amount=Decimal(amount)))


def benefit(target: Project, *households: Household) -> None:
    for each in households:
        saved(Beneficiary(project=target, household=each))


def report(village: Region, year: int, quarter: int, *operating: str, subsidy: str = "0") -> CollectiveIncome:
    lines = dict(
        zip(
            ("business_income", "contracting_income", "investment_income", "asset_income"),
            [Decimal(amount) for amount in operating],
            strict=False,
        )
    )
    return saved(
        CollectiveIncome(village=village, year=year, quarter=quarter, subsidy_income=Decimal(subsidy), **lines)
    )


@dataclass
class FundCounty:
    allocations: dict[str, Allocation]
    projects: dict[str, Project]
    fundings: dict[str, Funding]
    households: dict[str, Household]


def build(tree: Tree, by: User) -> FundCounty:
    h = {
        "H1": household(by, tree.village_a1),
        "H2": household(by, tree.village_a1, household_type=HouseholdType.ORDINARY),
        "H3": household(by, tree.village_a1, household_type=HouseholdType.ORDINARY),
        "H4": household(by, tree.village_a2),
        "H5": household(by, tree.village_b1),
    }
    monitoring_case_register(
        by=by,
        household=h["H2"],
        category=MonitoringCategory.MARGINAL,
        identified_month=date(2025, 1, 1),
        risk_types=[RiskType.objects.get_or_create(code="illness", defaults={"name": "因病"})[0]],
    )
    c1 = saved(
        Entity(kind=EntityKind.COOPERATIVE, name="石丫烤烟合作社", credit_code=credit_code(), region=tree.village_a2)
    )
    e1 = saved(Entity(kind=EntityKind.ENTERPRISE, name="云岭芒果公司", credit_code=credit_code(), region=tree.county))

    a1 = allocation(tree.county, 2025, FundLevel.CENTRAL, date(2024, 11, 20), "1000000.00")
    s1 = allocation(tree.township_a, 2025, FundLevel.CENTRAL, date(2025, 2, 10), "300000.00", parent=a1)
    a2 = allocation(tree.county, 2025, FundLevel.PROVINCIAL, date(2025, 5, 15), "500000.00")
    a3 = allocation(tree.county, 2025, FundLevel.COUNTY, date(2025, 8, 1), "200000.00")
    b1 = allocation(tree.county, 2024, FundLevel.CENTRAL, date(2024, 3, 1), "800000.00")

    p = {
        "P1": project("P1", tree.village_a1, "industry_base", 2025),
        "P2": project("P2", tree.village_a2, "industry_facilities", 2025),
        "P3": project("P3", tree.village_b1, "rural_construction", 2025),
        "P4": project("P4", tree.county, "management_fee", 2025),
        "P5": project("P5", tree.village_b1, "industry_processing", 2025, status=ProjectStatus.LIBRARY),
        "P6": project("P6", tree.village_b1, "industry_base", 2024, status=ProjectStatus.HANDED_OVER),
        "P7": project("P7", tree.village_a1, "industry", 2025, status=ProjectStatus.RESERVE, linkage_mechanism=""),
        "P8": project(
            "P8", tree.village_a1, "industry_services", 2025, status=ProjectStatus.LIBRARY, linkage_mechanism=""
        ),
    }
    benefit(p["P1"], h["H1"], h["H2"], h["H3"])
    benefit(p["P2"], h["H4"], h["H1"])
    benefit(p["P6"], h["H5"])
    benefit(p["P8"], h["H1"])
    p["P2"].supported_entities.add(c1)
    p["P5"].supported_entities.add(e1)

    f = {
        "P1/A1": fund(p["P1"], a1, "400000.00"),
        "P1/A2": fund(p["P1"], a2, "300000.00"),
        "P2/S1": fund(p["P2"], s1, "250000.00"),
        "P3/A1": fund(p["P3"], a1, "200000.00"),
        "P3/A3": fund(p["P3"], a3, "150000.00"),
        "P4/A2": fund(p["P4"], a2, "10000.00"),
        "P5/A3": fund(p["P5"], a3, "50000.00"),
        "P6/B1": fund(p["P6"], b1, "600000.00"),
    }
    pay(f["P1/A1"], date(2025, 3, 10), "100000.00")
    pay(f["P1/A1"], date(2025, 9, 20), "150000.00")
    pay(f["P1/A2"], date(2025, 6, 30), "100000.00")
    pay(f["P2/S1"], date(2025, 11, 5), "200000.00")
    pay(f["P3/A1"], date(2025, 12, 20), "200000.00")
    pay(f["P3/A3"], date(2026, 1, 15), "50000.00")
    pay(f["P6/B1"], date(2024, 10, 1), "600000.00")

    saved(VillageProfile(village=tree.village_a2, year=2025, was_poverty_village=True))
    saved(VillageProfile(village=tree.village_b1, year=2025, was_poverty_village=True, has_party_complex=True))
    report(tree.village_a1, 2024, 2, "15000.00")
    report(tree.village_a1, 2024, 4, "40000.00")
    report(tree.village_a1, 2025, 2, "20000.00")
    report(tree.village_a1, 2025, 4, "30000.10", "9999.90", "5000.05", "4999.95", subsidy="20000.00")
    report(tree.village_a2, 2024, 4, "45000.00")
    report(tree.village_a2, 2025, 4, "42000.00", subsidy="100000.00")
    report(tree.village_b1, 2024, 2, "50000.00")
    report(tree.village_b1, 2024, 4, "60000.00", "40000.00")
    report(tree.village_b1, 2025, 2, "60000.00")
    report(tree.village_b1, 2025, 4, "100000.00", "0", "20000.00")
    return FundCounty(
        allocations={"A1": a1, "S1": s1, "A2": a2, "A3": a3, "B1": b1},
        projects=p,
        fundings=f,
        households=h,
    )
