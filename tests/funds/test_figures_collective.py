"""The 村集体经济 figures on the county of tests/funds/fund_county.py, worked out by hand there and below."""

from __future__ import annotations

import pytest

from assessment.engine import indicators_compute
from figures.periods import Quarter
from tests.conftest import Staff
from tests.factories import Tree
from tests.funds import fund_county
from tests.funds.fund_county import FundCounty
from tests.funds.test_figures import MID_YEAR, YEAR_END, d, figures, stored


@pytest.fixture
def county(tree: Tree, staff: Staff) -> FundCounty:
    built = fund_county.build(tree, staff.county_admin)
    for period in (Quarter(2024, 2), Quarter(2024, 4), MID_YEAR, YEAR_END):
        indicators_compute(scope=tree.county, period=period)
    return built


def test_a_village_exactly_at_50000_reaches_the_floor(tree: Tree, county: FundCounty) -> None:
    code = "collective_villages_over_floor_share"
    # 30,000.10 + 9,999.90 + 5,000.05 + 4,999.95 = 50,000.00 exactly (its 补助 20,000 is not 经营性收入)
    assert figures(code, tree.village_a1) == (d("1"), d("1"), d("1.0000"))
    # 石丫村 42,000 (its 补助 100,000 does not lift it); 湾碧村 120,000
    assert figures(code, tree.village_a2) == (d("0"), d("1"), d("0.0000"))
    assert figures(code, tree.township_a) == (d("1"), d("2"), d("0.5000"))
    assert figures(code, tree.county) == (d("2"), d("3"), d("0.6667"))


def test_a_village_without_a_report_is_left_out_not_counted_as_zero(tree: Tree, county: FundCounty) -> None:
    # 2025Q2: 石丫村 has not reported; 大村村 20,000, 湾碧村 60,000.
    assert figures("collective_income_reported", tree.county, MID_YEAR) == (d("2"), d("3"), d("0.6667"))
    assert figures("collective_income_reported", tree.village_a2, MID_YEAR) == (d("0"), d("1"), d("0.0000"))
    assert figures("collective_villages_over_floor_share", tree.county, MID_YEAR) == (d("1"), d("2"), d("0.5000"))
    assert figures("collective_operating_income_average", tree.county, MID_YEAR) == (
        d("80000.00"),
        d("2"),
        d("40000.00"),
    )
    assert figures("collective_operating_income_average", tree.village_a2, MID_YEAR) == (d("0.00"), d("0"), None)
    assert figures("collective_income_reported", tree.county) == (d("3"), d("3"), d("1.0000"))


def test_average_operating_income_is_rounded_once(tree: Tree, county: FundCounty) -> None:
    code = "collective_operating_income_average"
    # (50,000 + 42,000 + 120,000) ÷ 3 = 70,666.666… → 70,666.67
    assert figures(code, tree.county) == (d("212000.00"), d("3"), d("70666.67"))
    assert figures(code, tree.township_a) == (d("92000.00"), d("2"), d("46000.00"))
    assert figures(code, tree.village_b1) == (d("120000.00"), d("1"), d("120000.00"))


def test_poverty_villages_and_party_complexes_read_the_years_profile(tree: Tree, county: FundCounty) -> None:
    # 脱贫村 in 2025: 石丫村 (42,000) and 湾碧村 (120,000)
    assert figures("collective_poverty_villages_over_floor_share", tree.county) == (d("1"), d("2"), d("0.5000"))
    assert figures("collective_poverty_villages_over_floor_share", tree.township_a) == (d("0"), d("1"), d("0.0000"))
    # 党建综合体: 湾碧村 only, against 80,000
    assert figures("collective_party_complex_over_line_share", tree.county) == (d("1"), d("1"), d("1.0000"))
    assert figures("collective_party_complex_over_line_share", tree.township_a) == (d("0"), d("0"), None)
    # No profiles for 2024: no 脱贫村 then.
    assert figures("collective_poverty_villages_over_floor_share", tree.county, Quarter(2024, 4))[2] is None


def test_growth_compares_the_villages_that_reported_in_both_years(tree: Tree, county: FundCounty) -> None:
    code = "collective_operating_income_growth"
    # 2025Q4 212,000 over 2024Q4 40,000 + 45,000 + 100,000 = 185,000 → 0.145945… → 0.1459
    assert figures(code, tree.county) == (d("212000.00"), d("185000.00"), d("0.1459"))
    assert stored(code, tree.county).records == 3
    assert figures(code, tree.township_a) == (d("92000.00"), d("85000.00"), d("0.0824"))
    # 2025Q2: 石丫村 has no report, so it is out of both sides: (20,000 + 60,000) ÷ (15,000 + 50,000) − 1
    assert figures(code, tree.county, MID_YEAR) == (d("80000.00"), d("65000.00"), d("0.2308"))


def test_villages_below_the_floor_are_counted_with_their_gap(tree: Tree, county: FundCounty) -> None:
    assert figures("collective_villages_below_floor", tree.county) == (d("1"), d("3"), d("1"))
    assert figures("collective_floor_gap", tree.county) == (d("8000.00"), d("3"), d("8000.00"))
    assert figures("collective_floor_gap", tree.township_b) == (d("0.00"), d("1"), d("0.00"))
    # Mid-year 大村村 has 20,000: 30,000 short.
    assert figures("collective_floor_gap", tree.county, MID_YEAR) == (d("30000.00"), d("2"), d("30000.00"))
