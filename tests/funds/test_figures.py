"""The 衔接资金 figures on the county of tests/funds/fund_county.py, worked out by hand there and below."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assessment.engine import indicators_compute
from assessment.models import IndicatorValue
from figures.periods import Quarter
from regions.models import Region
from tests.conftest import Staff
from tests.factories import Tree
from tests.funds import fund_county
from tests.funds.fund_county import FundCounty

YEAR_END = Quarter(2025, 4)
MID_YEAR = Quarter(2025, 2)
LAST_YEAR = Quarter(2024, 4)
LATER = Quarter(2026, 1)


def d(text: str) -> Decimal:
    return Decimal(text)


@pytest.fixture
def county(tree: Tree, staff: Staff) -> FundCounty:
    built = fund_county.build(tree, staff.county_admin)
    for period in (LAST_YEAR, MID_YEAR, YEAR_END, LATER):
        indicators_compute(scope=tree.county, period=period)
    return built


def stored(code: str, region: Region, period: Quarter = YEAR_END) -> IndicatorValue:
    return IndicatorValue.objects.get(indicator=code, region=region, year=period.year, quarter=period.number)


def figures(code: str, region: Region, period: Quarter = YEAR_END) -> tuple[Decimal, Decimal | None, Decimal | None]:
    value = stored(code, region, period)
    return value.numerator, value.denominator, value.value


def absent(code: str, region: Region, period: Quarter = YEAR_END) -> bool:
    return not IndicatorValue.objects.filter(
        indicator=code, region=region, year=period.year, quarter=period.number
    ).exists()


def test_a_county_counts_its_own_allocations_once_and_a_township_its_splits(tree: Tree, county: FundCounty) -> None:
    # A1 1,000,000 + A2 500,000 + A3 200,000; S1 is part of A1, not more money.
    assert figures("fund_allocated", tree.county) == (d("1700000.00"), d("3"), d("1700000.00"))
    assert figures("fund_allocated", tree.township_a) == (d("300000.00"), d("1"), d("300000.00"))
    assert figures("fund_allocated", tree.township_b) == (d("0.00"), d("0"), d("0.00"))
    # Arranged: 400,000 + 300,000 + 250,000 + 200,000 + 150,000 + 10,000 + 50,000 = 1,360,000 → 0.8
    assert figures("fund_arranged_share", tree.county) == (d("1360000.00"), d("1700000.00"), d("0.8000"))
    # 金碧镇: P2's 250,000 from S1 ÷ 300,000
    assert figures("fund_arranged_share", tree.township_a) == (d("250000.00"), d("300000.00"), d("0.8333"))


def test_industry_share_counts_a_project_funded_by_two_levels_under_each_level(tree: Tree, county: FundCounty) -> None:
    # P1 700,000 (A1 400,000 + A2 300,000) + P2 250,000 (S1) + P5 50,000 (A3) = 1,000,000 ÷ 1,700,000
    assert figures("fund_industry_share", tree.county) == (d("1000000.00"), d("1700000.00"), d("0.5882"))
    assert stored("fund_industry_share", tree.county).records == 4
    # 中央: A1 1,000,000 and its split's lines: P1/A1 400,000 + P2/S1 250,000
    assert figures("fund_industry_share_central", tree.county) == (d("650000.00"), d("1000000.00"), d("0.6500"))
    # 省级: A2 500,000, P1/A2 300,000 (P4's 10,000 is 项目管理费)
    assert figures("fund_industry_share_provincial", tree.county) == (d("300000.00"), d("500000.00"), d("0.6000"))
    assert figures("fund_industry_share_county", tree.county) == (d("50000.00"), d("200000.00"), d("0.2500"))
    assert figures("fund_industry_share_prefectural", tree.county) == (d("0.00"), d("0.00"), None)
    # 金碧镇 holds S1 only: 250,000 ÷ 300,000
    assert figures("fund_industry_share", tree.township_a) == (d("250000.00"), d("300000.00"), d("0.8333"))
    assert figures("fund_industry_share_central", tree.township_a) == (d("250000.00"), d("300000.00"), d("0.8333"))
    # A township without a split holds no money: a figure of nothing.
    assert figures("fund_industry_share_provincial", tree.township_a) == (d("0.00"), d("0.00"), None)
    assert figures("fund_industry_share", tree.township_b) == (d("0.00"), d("0.00"), None)
    assert absent("fund_industry_share", tree.village_a1)


def test_industry_share_on_paid_amounts_counts_payments_up_to_the_quarters_end(tree: Tree, county: FundCounty) -> None:
    # P1/A1 100,000 + 150,000, P1/A2 100,000, P2/S1 200,000 = 550,000 ÷ 1,700,000
    assert figures("fund_industry_share_paid", tree.county) == (d("550000.00"), d("1700000.00"), d("0.3235"))
    assert figures("fund_industry_share_paid_central", tree.county) == (d("450000.00"), d("1000000.00"), d("0.4500"))
    assert figures("fund_industry_share_paid_provincial", tree.county) == (d("100000.00"), d("500000.00"), d("0.2000"))
    assert figures("fund_industry_share_paid_county", tree.county) == (d("0.00"), d("200000.00"), d("0.0000"))
    assert figures("fund_industry_share_paid", tree.township_a) == (d("200000.00"), d("300000.00"), d("0.6667"))


def test_mid_year_reads_the_allocations_issued_and_the_payments_made_by_then(tree: Tree, county: FundCounty) -> None:
    # By 2025-06-30: A1 (issued in 2024) and A2; A3 comes on 2025-08-01.
    assert figures("fund_allocated", tree.county, MID_YEAR)[0] == d("1500000.00")
    # Lines from A1, A2, S1: 400,000 + 300,000 + 250,000 + 200,000 + 10,000 = 1,160,000
    assert figures("fund_arranged_share", tree.county, MID_YEAR) == (d("1160000.00"), d("1500000.00"), d("0.7733"))
    assert figures("fund_industry_share", tree.county, MID_YEAR) == (d("950000.00"), d("1500000.00"), d("0.6333"))
    # Paid: 100,000 on 03-10 and 100,000 on 06-30, the quarter's last day: 200,000 ÷ 1,160,000
    assert figures("fund_spending_progress", tree.county, MID_YEAR) == (d("200000.00"), d("1160000.00"), d("0.1724"))


def test_spending_progress_leaves_a_payment_of_a_later_year_out(tree: Tree, county: FundCounty) -> None:
    # Paid in 2025 on 2025 money: 250,000 + 100,000 + 200,000 + 200,000 = 750,000 ÷ 1,360,000; P3/A3's
    # 50,000 of 2026-01-15 is not in it.
    assert figures("fund_spending_progress", tree.county) == (d("750000.00"), d("1360000.00"), d("0.5515"))
    assert stored("fund_spending_progress", tree.county).records == 5
    assert figures("fund_spending_progress", tree.township_a) == (d("200000.00"), d("250000.00"), d("0.8000"))
    # 2026 has no allocations: the 2026Q1 payment of 2025 money is in no 2026 figure either.
    assert figures("fund_spending_progress", tree.county, LATER) == (d("0.00"), d("0.00"), None)
    assert figures("fund_spending_progress", tree.county, LAST_YEAR) == (d("600000.00"), d("600000.00"), d("1.0000"))


def test_last_years_share_is_its_own_years_money(tree: Tree, county: FundCounty) -> None:
    # 2024: P6 600,000 of B1 800,000 — higher than 2025's 0.5882.
    assert figures("fund_industry_share", tree.county, LAST_YEAR) == (d("600000.00"), d("800000.00"), d("0.7500"))
    assert stored("fund_industry_share_vs_last_year", tree.county).value == d("0.5882")


def test_binding_support_share_counts_projects_that_fund_an_entity(tree: Tree, county: FundCounty) -> None:
    # P2 250,000 (C1) + P5 50,000 (E1) = 300,000 ÷ 1,700,000
    assert figures("fund_binding_support_share", tree.county) == (d("300000.00"), d("1700000.00"), d("0.1765"))
    assert figures("fund_binding_support_share", tree.township_a) == (d("250000.00"), d("300000.00"), d("0.8333"))


def test_households_per_million_counts_each_lifted_or_monitored_beneficiary_once(
    tree: Tree, county: FundCounty
) -> None:
    code = "fund_households_linked_per_million"
    # H1 (P1 and P2: once), H2 (监测), H4; not H3 (一般农户); P5 has none. 3 ÷ 1.0 百万元
    assert figures(code, tree.county) == (d("3"), d("1000000.00"), d("3.00"))
    # 金碧镇: P1 700,000 + P2 250,000; H1, H2, H4 → 3 ÷ 0.95 = 3.157… → 3.16
    assert figures(code, tree.township_a) == (d("3"), d("950000.00"), d("3.16"))
    assert figures(code, tree.township_b) == (d("0"), d("50000.00"), d("0.00"))
    assert figures(code, tree.village_a1) == (d("2"), d("700000.00"), d("2.86"))
    # 石丫村's P2 also benefits H1, who lives in 大村村: counted for 金碧镇 and the county, not for 石丫村
    # (whose list would otherwise name another village's household).
    assert figures(code, tree.village_a2) == (d("1"), d("250000.00"), d("4.00"))
    # Mid-year P5's only line (A3) is not issued yet.
    assert figures(code, tree.county, MID_YEAR) == (d("3"), d("950000.00"), d("3.16"))


def test_library_industry_projects_without_linkage_are_counted_up_to_the_year(tree: Tree, county: FundCounty) -> None:
    code = "fund_industry_projects_without_linkage"
    # In the library: P1, P2, P5 (no beneficiaries), P6 (2024), P8 (no linkage text); P7 is 储备.
    assert figures(code, tree.county) == (d("2"), d("5"), d("2"))
    assert figures(code, tree.township_a) == (d("1"), d("3"), d("1"))
    assert figures(code, tree.township_b) == (d("1"), d("2"), d("1"))
    assert figures(code, tree.village_a2) == (d("0"), d("1"), d("0"))
    assert figures(code, tree.county, LAST_YEAR) == (d("0"), d("1"), d("0"))
