"""A small worked county for the funds Excel registers, written through the services, and the helpers
that export, check and confirm their workbooks.

大姚县 > 金碧镇 (大村村 a1, 石丫村 a2), 湾碧乡 (湾碧村 b1). Amounts in 元:

| allocation | 2025 | level | 文号 | amount | |
|---|---|---|---|---|---|
| central | 中央 | 云财农〔2025〕1号 | 1,000,000.00 | county |
| provincial | 省级 | 云财农〔2025〕1号 (the same document) | 500,000.07 | county |
| split | 中央 | 大财农〔2025〕3号 | 200,000.00 | central split to 金碧镇 |

used of central: split 200,000.00 + P1 300,000.05 + PB 100,000.00 = 600,000.05 (left 399,999.95).

| project | where | type | status | beneficiaries | 双绑 | funding (paid) |
|---|---|---|---|---|---|---|
| XM-A-001 (P1) | a1 | 种养殖基地 | 入库 | H-A1-001 | the a1 cooperative | central 300,000.05 (50,000.00 |
| | | | | | | ZF-001), split 100,000.00 (20,000.00, no 凭证号) |
| XM-A-002 (P2) | 金碧镇 | 乡村建设 | 储备 | — | — | — |
| XM-A-003 (P3) | a2 | 加工流通 | 入库 | H-A2-001 | — | — |
| XM-B-001 (PB) | b1 | 种养殖基地 | 入库 | H-B1-001 | — | central 100,000.00 (10,000.00 ZF-B1) |

Collective income: a1 2025Q1 12,345.67 + 0.33 (填报中); a1 2025Q2 30,000.00 (已审核); a2 2025Q1 8,000.00.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.test import Client
from django.urls import reverse

from cooperatives.models import Entity
from funds import services
from funds.models import (
    Allocation,
    Beneficiary,
    CollectiveIncome,
    Funding,
    FundLevel,
    Payment,
    Project,
    ProjectStep,
)
from funds.sheets import SHEETS
from households.models import Household
from regions.models import Region, User
from tests.conftest import Staff
from tests.cooperatives.sheet_world import workbook
from tests.factories import Tree, household, member
from tests.funds.factories import bound_pair, library_project, project_type

DOCUMENT = "云财农〔2025〕1号"


@dataclass
class World:
    central: Allocation
    provincial: Allocation
    split: Allocation
    household_a1: Household
    household_a2: Household
    household_b1: Household
    cooperative: Entity
    p1: Project
    p2: Project
    p3: Project
    pb: Project
    line_central: Funding
    line_split: Funding
    line_b: Funding


def build_world(tree: Tree, staff: Staff) -> World:
    admin, township, other = staff.county_admin, staff.township_admin, staff.other_township_admin

    def county_money(level: str, amount: str) -> Allocation:
        return services.allocation_create(
            by=admin,
            county=tree.county,
            year=2025,
            level=level,
            document_number=DOCUMENT,
            issued_on=date(2025, 3, 1),
            amount=Decimal(amount),
        )

    central = county_money(FundLevel.CENTRAL, "1000000.00")
    provincial = county_money(FundLevel.PROVINCIAL, "500000.07")
    split = services.allocation_split(
        by=admin,
        parent=central,
        township=tree.township_a,
        amount=Decimal("200000.00"),
        document_number="大财农〔2025〕3号",
        issued_on=date(2025, 3, 20),
    )
    household_a1 = household(staff.village_clerk, tree.village_a1, number="H-A1-001", members=[member(name="张三")])
    household_a2 = household(staff.other_village_clerk, tree.village_a2, number="H-A2-001", members=[member()])
    household_b1 = household(other, tree.village_b1, number="H-B1-001", members=[member(name="赵六")])
    _enterprise, cooperative = bound_pair(tree.county, tree.village_a1)
    p1 = library_project(township, tree.village_a1, [household_a1], code="XM-A-001", entities=[cooperative])
    p2 = services.project_create(
        by=township,
        code="XM-A-002",
        name="金碧镇产业路",
        year=2025,
        region=tree.township_a,
        project_type=project_type("rural_construction"),
        on=date(2025, 3, 1),
    )
    p3 = library_project(township, tree.village_a2, [household_a2], code="XM-A-003", type_code="industry_processing")
    pb = library_project(other, tree.village_b1, [household_b1], code="XM-B-001")
    line_central = services.funding_create(by=admin, project=p1, allocation=central, amount=Decimal("300000.05"))
    line_split = services.funding_create(by=township, project=p1, allocation=split, amount=Decimal("100000.00"))
    line_b = services.funding_create(by=admin, project=pb, allocation=central, amount=Decimal("100000.00"))
    services.payment_create(
        by=township, funding=line_central, paid_on=date(2025, 4, 1), amount=Decimal("50000"), voucher="ZF-001"
    )
    services.payment_create(by=township, funding=line_split, paid_on=date(2025, 5, 1), amount=Decimal("20000"))
    services.payment_create(
        by=other, funding=line_b, paid_on=date(2025, 6, 1), amount=Decimal("10000"), voucher="ZF-B1"
    )
    clerk = staff.village_clerk
    services.collective_income_save(
        by=clerk,
        village=tree.village_a1,
        year=2025,
        quarter=1,
        amounts={"business_income": Decimal("12345.67"), "subsidy_income": Decimal("0.33")},
    )
    second = services.collective_income_save(
        by=clerk, village=tree.village_a1, year=2025, quarter=2, amounts={"asset_income": Decimal("30000")}
    )
    second = services.collective_income_submit(by=clerk, income=second, expected_version=second.version)
    services.collective_income_approve(by=township, income=second, expected_version=second.version)
    services.collective_income_save(
        by=staff.other_village_clerk,
        village=tree.village_a2,
        year=2025,
        quarter=1,
        amounts={"business_income": Decimal("8000")},
    )
    for row in (p1, p3, pb):
        row.refresh_from_db()
    return World(
        central,
        provincial,
        split,
        household_a1,
        household_a2,
        household_b1,
        cooperative,
        p1,
        p2,
        p3,
        pb,
        line_central,
        line_split,
        line_b,
    )


# Workbooks --------------------------------------------------------------------------------------


def sheet(name: str, rows: list[dict[str, Any]], *, drop: tuple[str, ...] = ()) -> bytes:
    """A file of the register with every column but `drop`, the rows given by header (data from row 2)."""
    header = [column.header for column in SHEETS[name].columns if column.header not in drop]
    return workbook(header, [[row.get(title) for title in header] for row in rows])


def exported(user: User, name: str) -> bytes:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("fund_sheet_export", args=[name]))
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def region_code(region: Region) -> str:
    return region.code


# Every table an import of these registers may write, history (and many-to-many history) included.
def _tables() -> list[Any]:
    models: list[Any] = [Allocation, Project, Beneficiary, Funding, Payment, CollectiveIncome]
    histories = [model.history.model for model in models]
    entities = Project.supported_entities.through
    return [*models, *histories, ProjectStep, entities, Project.history.model.supported_entities.model]


def checksums() -> dict[str, str]:
    sums = {}
    with connection.cursor() as cursor:
        for model in _tables():
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT * FROM {table} ORDER BY 1")
            sums[model._meta.db_table] = hashlib.sha256(repr(cursor.fetchall()).encode()).hexdigest()
    return sums
