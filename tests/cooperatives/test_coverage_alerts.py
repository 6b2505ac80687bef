"""The 疑点 rule of the cooperatives: a year's recorded 财产性收入 below that year's 分红 + 土地流转租金
from the household's cooperatives (tests/cooperatives/coverage_county.py has the households)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from assessment.alerts import alerts_raise
from assessment.models import Alert
from cooperatives.alert_rules import PropertyIncomeBelowEarnings
from cooperatives.models import Earning
from figures import alerts as alert_registry
from figures.periods import Quarter
from households.models import Household, HouseholdStatus
from tests.conftest import Staff
from tests.cooperatives import coverage_county
from tests.cooperatives.coverage_county import CoverageCounty, earning_kind, saved
from tests.factories import Tree, income

PERIOD = Quarter(2026, 2)


def earn(county: CoverageCounty, household: str, cooperative: str, kind: str, amount: str, year: int = 2026) -> None:
    saved(
        Earning(
            household=county.households[household],
            cooperative=county.entities[cooperative],
            year=year,
            kind=earning_kind(kind),
            amount=Decimal(amount),
        )
    )


@pytest.fixture
def county(tree: Tree, staff: Staff) -> CoverageCounty:
    built = coverage_county.build(tree, staff.county_admin)
    by = staff.county_admin
    h1, h7 = built.households["H1"], built.households["H7"]
    # H1 recorded 100 + 200 = 300 of 财产性收入 in 2026Q1–Q2; its cooperatives paid 250 + 100 = 350
    # (the 1,000 of 务工工资 is not 财产性收入).
    income(by, h1, "2026Q1", property_dividends="100", wages_migrant_work="2000")
    income(by, h1, "2026Q2", property_land_transfer="200", wages_migrant_work="2000")
    earn(built, "H1", "C1", "dividend", "250")
    earn(built, "H1", "C2", "land_rent", "100")
    earn(built, "H1", "C1", "wages", "1000")
    # H7 recorded exactly what C5 paid; its 2025 dividend is another year's.
    income(by, h7, "2026Q1", property_dividends="300", property_other="200")
    earn(built, "H7", "C5", "dividend", "500")
    earn(built, "H7", "C5", "dividend", "9999", year=2025)
    # H2 was paid a dividend but has no income record in 2026 (季度收入未录入 says so, not this rule).
    earn(built, "H2", "C3", "dividend", "100")
    return built


def test_a_household_whose_recorded_property_income_is_below_its_cooperative_earnings_is_flagged(
    tree: Tree, county: CoverageCounty
) -> None:
    found = dict(PropertyIncomeBelowEarnings().find(period=PERIOD, within=tree.county.prefix, parameters={}))
    assert set(found) == {county.households["H1"].pk}
    assert found[county.households["H1"].pk] == {
        "已录入财产性收入": "300.00元",
        "合作社分红和租金": "350.00元",
        "比较期间": "2026年第1–2季度",
    }


def test_the_rule_reads_the_years_records_up_to_the_quarter(tree: Tree, county: CoverageCounty) -> None:
    found = dict(PropertyIncomeBelowEarnings().find(period=Quarter(2026, 1), within=tree.county.prefix, parameters={}))
    assert found[county.households["H1"].pk]["已录入财产性收入"] == "100.00元"
    assert found[county.households["H1"].pk]["比较期间"] == "2026年第1季度"


def test_the_rule_stays_inside_the_code_prefix(tree: Tree, county: CoverageCounty) -> None:
    assert not list(PropertyIncomeBelowEarnings().find(period=PERIOD, within=tree.township_b.prefix, parameters={}))


def test_the_engine_raises_it_as_a_data_quality_alert(tree: Tree, county: CoverageCounty) -> None:
    assert "property_income_below_earnings" in alert_registry.data_quality_codes()
    alerts_raise(scope=tree.county, period=PERIOD)
    raised = Alert.objects.get(rule="property_income_below_earnings", year=2026, quarter=2)
    assert raised.household_id == county.households["H1"].pk
    assert raised.figures["合作社分红和租金"] == "350.00元"


def test_a_household_cancelled_by_the_quarters_end_is_not_flagged(tree: Tree, county: CoverageCounty) -> None:
    h1 = Household.objects.filter(pk=county.households["H1"].pk)
    h1.update(status=HouseholdStatus.CANCELLED, cancelled_on=date(2026, 6, 1), cancelled_reason="整户迁出")
    assert not list(PropertyIncomeBelowEarnings().find(period=PERIOD, within=tree.county.prefix, parameters={}))
    h1.update(cancelled_on=date(2026, 8, 1))  # still on the register at 2026-06-30
    assert len(list(PropertyIncomeBelowEarnings().find(period=PERIOD, within=tree.county.prefix, parameters={}))) == 1
