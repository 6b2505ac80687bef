"""A small county whose every figure for 2026Q2 is worked out by hand in tests/assessment/test_engine.py.

Five households, all entered through the services (household_size is the size when entered):

| 户 | village | type | size | 2024Q3–2025Q2 (prior) | 2025Q3–2026Q1 | 2026Q2 |
|---|---|---|---|---|---|---|
| H1 | 大村村 a1 | 脱贫户 | 2 | wages 2,500 (2025Q2: + planting 1,000) | wages 3,000 | wages 3,000 + planting 600 |
| H2 | 大村村 a1 | 脱贫户 | 3 | wages 7,500 | wages 9,000 | wages 9,000 |
| H3 | 石丫村 a2 | 一般农户, 监测 2025-01 | 2 | 2025Q1–Q2 only: wages 4,000 | wages 4,000 | 低保 4,000 |
| H4 | 湾碧村 b1 | 脱贫户 | 2 | wages 5,000 | wages 5,000 | — (not entered) |
| H5 | 湾碧村 b1 | 脱贫户 | 2 | wages 3,000 | wages 3,680.91 | wages 3,680.90 |

The threshold for 2026 is 8,700 (set on the province); 石丫村 has a rural population of 50 and
大村村 of 1,000 (湾碧村 none).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from households.models import Household, HouseholdType, MonitoringCategory, RiskType
from households.population import VillagePopulation
from households.services import monitoring_case_register
from regions.models import User
from tests.factories import Tree, household, income, member, threshold

PERIOD = "2026Q2"
PRIOR = ["2024Q3", "2024Q4", "2025Q1", "2025Q2"]
TRAILING_EARLY = ["2025Q3", "2025Q4", "2026Q1"]


def build(tree: Tree, clerk: User) -> dict[str, Household]:
    threshold(tree.province, 2026, "8700")
    VillagePopulation.objects.create(village=tree.village_a2, year=2026, population=50)
    VillagePopulation.objects.create(village=tree.village_a1, year=2026, population=1000)

    h1 = household(clerk, tree.village_a1)
    for quarter in PRIOR:
        extra = {"operating_planting": "1000"} if quarter == "2025Q2" else {}
        income(clerk, h1, quarter, wages_migrant_work="2500", **extra)
    for quarter in TRAILING_EARLY:
        income(clerk, h1, quarter, wages_migrant_work="3000")
    income(clerk, h1, PERIOD, wages_migrant_work="3000", operating_planting="600")

    h2 = household(
        clerk,
        tree.village_a1,
        members=[
            member(),
            member("spouse", name="王芳", birth="19820303"),
            member("son", name="张小", birth="20050505"),
        ],
    )
    for quarter in PRIOR:
        income(clerk, h2, quarter, wages_migrant_work="7500")
    for quarter in [*TRAILING_EARLY, PERIOD]:
        income(clerk, h2, quarter, wages_migrant_work="9000")

    h3 = household(clerk, tree.village_a2, household_type=HouseholdType.ORDINARY)
    monitoring_case_register(
        by=clerk,
        household=h3,
        category=MonitoringCategory.MARGINAL,
        identified_month=date(2025, 1, 1),
        risk_types=[RiskType.objects.get_or_create(code="illness", defaults={"name": "因病"})[0]],
    )
    for quarter in ["2025Q1", "2025Q2", *TRAILING_EARLY]:
        income(clerk, h3, quarter, wages_migrant_work="4000")
    income(clerk, h3, PERIOD, transfer_minimum_living="4000")

    h4 = household(clerk, tree.village_b1)
    for quarter in [*PRIOR, *TRAILING_EARLY]:
        income(clerk, h4, quarter, wages_migrant_work="5000")

    h5 = household(clerk, tree.village_b1)
    for quarter in PRIOR:
        income(clerk, h5, quarter, wages_migrant_work="3000")
    for quarter in TRAILING_EARLY:
        income(clerk, h5, quarter, wages_migrant_work="3680.91")
    income(clerk, h5, PERIOD, wages_migrant_work="3680.90")
    return {"H1": h1, "H2": h2, "H3": h3, "H4": h4, "H5": h5}


def d(text: str) -> Decimal:
    return Decimal(text)
