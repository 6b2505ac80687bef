"""The household facts' per-capita figure: Σ net ÷ size, rounded once, half up, to the fen — on
SQLite and PostgreSQL alike (SUM over bigint is numeric on PostgreSQL)."""

from __future__ import annotations

import pytest

from figures.periods import Quarter
from households.facts import HouseholdQuarterFact, facts_refresh
from households.models import Relation
from tests.conftest import Staff
from tests.factories import Tree, household, income, member


@pytest.mark.parametrize(
    ("wages", "people", "expected_fen"),
    [
        ("2000", 2, 400_000),  # 8,000.00 ÷ 2 = 4,000.00 exactly
        ("2500.01", 3, 333_335),  # 10,000.04 ÷ 3 = 3,333.3466… → 3,333.35
        ("2500.02", 3, 333_336),  # 10,000.08 ÷ 3 = 3,333.36
        ("0.01", 8, 1),  # 0.04 ÷ 8 = 0.005 → 0.01 (half up)
    ],
)
def test_the_trailing_per_capita_fact_is_rounded_once_half_up(
    tree: Tree, staff: Staff, wages: str, people: int, expected_fen: int
) -> None:
    members = [member(), *[member(Relation.SON, name=f"子{n}", birth="20000101") for n in range(people - 1)]]
    target = household(staff.village_clerk, tree.village_a1, members=members)
    for quarter in ("2025Q3", "2025Q4", "2026Q1", "2026Q2"):
        income(staff.village_clerk, target, quarter, wages_migrant_work=wages)

    facts_refresh(period=Quarter(2026, 2), within=tree.county.prefix)

    assert HouseholdQuarterFact.objects.get(household=target).per_capita_fen == expected_fen
