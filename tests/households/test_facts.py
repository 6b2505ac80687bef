"""The quarterly household facts: rebuilt whole once, then only where the data changed."""

from __future__ import annotations

from decimal import Decimal

from figures.periods import Quarter
from households.facts import HOUSEHOLD_FACTS, FactsBuild, HouseholdQuarterFact
from households.models import Household
from households.services import household_update
from regions.models import DataChange
from tests.assessment import worked_county
from tests.conftest import Staff
from tests.factories import Tree, income

PERIOD = Quarter(2026, 2)


def mark(village_code: str) -> None:
    """Scribble on a village's facts: a rebuild of that village wipes the mark."""
    HouseholdQuarterFact.objects.filter(village_code=village_code).update(members=99)


def marked(village_code: str) -> bool:
    return HouseholdQuarterFact.objects.filter(village_code=village_code, members=99).exists()


def test_after_a_change_in_one_village_only_that_village_is_rebuilt(tree: Tree, staff: Staff) -> None:
    households = worked_county.build(tree, staff.county_admin)
    HOUSEHOLD_FACTS.refresh(period=PERIOD, within=tree.county.prefix)
    mark(tree.village_b1.code)
    mark(tree.village_a1.code)
    income(staff.county_admin, households["H1"], "2026Q3", wages_migrant_work="100")  # a1 changes
    record = households["H1"].income_records.get(year=2026, quarter=2)
    from households.services import income_record_save

    income_record_save(
        by=staff.county_admin,
        household=households["H1"],
        quarter=PERIOD,
        amounts={"wages_migrant_work": Decimal("4000"), "operating_planting": Decimal("600")},
        record=record,
        expected_version=record.version,
    )
    HOUSEHOLD_FACTS.refresh(period=PERIOD, within=tree.county.prefix)
    assert marked(tree.village_b1.code)  # not rewritten
    assert not marked(tree.village_a1.code)  # rewritten
    h1 = HouseholdQuarterFact.objects.get(household=households["H1"], year=2026, quarter=2)
    # 3,000 × 3 + 4,600 = 13,600 over 2 people
    assert (h1.trailing_net_fen, h1.per_capita_fen) == (1_360_000, 680_000)


def test_a_household_that_moves_village_keeps_one_fact_row(tree: Tree, staff: Staff) -> None:
    households = worked_county.build(tree, staff.county_admin)
    HOUSEHOLD_FACTS.refresh(period=PERIOD, within=tree.county.prefix)
    moved = Household.objects.get(pk=households["H1"].pk)
    moved.village = tree.village_b1
    household_update(by=staff.county_admin, household=moved, expected_version=moved.version)
    HOUSEHOLD_FACTS.refresh(period=PERIOD, within=tree.county.prefix)
    rows = HouseholdQuarterFact.objects.filter(household=moved, year=2026, quarter=2)
    assert [row.village_code for row in rows] == [tree.village_b1.code]


def test_facts_are_rebuilt_whole_when_the_change_record_has_gaps(tree: Tree, staff: Staff) -> None:
    households = worked_county.build(tree, staff.county_admin)
    HOUSEHOLD_FACTS.refresh(period=PERIOD, within=tree.county.prefix)
    mark(tree.village_b1.code)
    mark(tree.village_a1.code)
    income(staff.county_admin, households["H4"], "2026Q2", wages_migrant_work="5000")
    DataChange.objects.all().delete()  # pruned
    HOUSEHOLD_FACTS.refresh(period=PERIOD, within=tree.county.prefix)
    assert not marked(tree.village_b1.code) and not marked(tree.village_a1.code)
    assert HouseholdQuarterFact.objects.get(household=households["H4"], year=2026, quarter=2).recorded
    assert FactsBuild.objects.get(county=tree.county, year=2026, quarter=2).version > 0
