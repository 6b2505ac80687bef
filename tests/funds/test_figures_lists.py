"""Behind every 衔接资金 and 村集体经济 figure: drill-down lists whose count and sum are the figure,
one query per level, the seeds' targets and scores, and the two dashboard groups."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse

from assessment import dashboard_charts
from assessment.dashboard_selectors import dashboard
from assessment.engine import indicators_compute
from assessment.models import IndicatorValue, Status, Target
from assessment.templatetags.assessment_tags import figure
from figures.periods import Quarter
from figures.registry import Indicator
from funds import indicators as fund_indicators
from funds.targets import fund_targets_ensure
from regions.models import Level, Region
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree
from tests.funds import fund_county
from tests.funds.fund_county import FundCounty
from tests.funds.test_figures import LAST_YEAR, MID_YEAR, YEAR_END, d, stored

INDICATORS: list[Indicator] = fund_indicators.INDICATORS
SHARE = ("amount", "amount")
# What each side's list adds up to the figure by: the rows' amounts, their 经营性收入, their gaps, or
# how many rows there are.
MEASURES = {
    "fund_allocated": ("amount", "count"),
    "fund_households_linked_per_million": ("count", "amount"),
    "fund_industry_projects_without_linkage": ("count", "count"),
    "collective_income_reported": ("count", "count"),
    "collective_villages_over_floor_share": ("count", "count"),
    "collective_poverty_villages_over_floor_share": ("count", "count"),
    "collective_party_complex_over_line_share": ("count", "count"),
    "collective_operating_income_average": ("operating", "count"),
    "collective_operating_income_growth": ("operating", "operating"),
    "collective_villages_below_floor": ("count", "count"),
    "collective_floor_gap": ("gap", "count"),
}


@pytest.fixture
def county(tree: Tree, staff: Staff) -> FundCounty:
    built = fund_county.build(tree, staff.county_admin)
    fund_targets_ensure(county=tree.county)
    for period in (Quarter(2024, 2), LAST_YEAR, MID_YEAR, Quarter(2025, 3), YEAR_END):
        indicators_compute(scope=tree.county, period=period)
    return built


def defaults(indicator: Indicator) -> dict[str, Decimal]:
    return {parameter.key: parameter.default for parameter in indicator.parameters}


def measure(records: QuerySet[Any], how: str) -> Decimal:
    rows = list(records)
    if how == "count":
        return Decimal(len(rows))
    if how == "amount":
        return sum((row.amount for row in rows), Decimal("0.00"))
    if how == "operating":
        return sum((row.operating_income for row in rows), Decimal("0.00"))
    return sum((Decimal(row.gap_fen) / 100 for row in rows), Decimal("0.00"))


def test_every_figures_lists_count_and_add_up_to_it(tree: Tree, county: FundCounty) -> None:
    checked = 0
    for indicator in INDICATORS:
        numerator_how, denominator_how = MEASURES.get(indicator.code, SHARE)
        values = IndicatorValue.objects.filter(indicator=indicator.code).select_related("region")
        assert values.exists(), indicator.code
        for value in values:
            period = Quarter(value.year, value.quarter)
            parameters = defaults(indicator)
            numerator = indicator.numerator_records(period=period, region=value.region, parameters=parameters)
            denominator = indicator.denominator_records(period=period, region=value.region, parameters=parameters)
            where = f"{indicator.code} {value.region.name} {period}"
            assert numerator.count() == value.records, where
            assert measure(numerator, numerator_how) == value.numerator, where
            assert measure(denominator, denominator_how) == value.denominator, where
            checked += 1
    assert checked > 200


def test_the_drill_down_pages_list_the_rows_with_what_they_count(tree: Tree, county: FundCounty, staff: Staff) -> None:
    client = Client()
    assert client.login(username=staff.county_admin.username, password=PASSWORD)
    query = {"region": tree.county.code, "period": str(YEAR_END)}

    def listed(code: str, side: str = "numerator") -> str:
        response = client.get(reverse(f"assessment_{side}", args=[code]), query)
        assert response.status_code == 200
        html = response.content.decode()
        found = re.search(r'data-testid="record-count">[^<]*共 <strong>(\d+)</strong>', html)
        assert found, "the drill-down page states its count"
        if side == "numerator":
            assert int(found.group(1)) == stored(code, tree.county).records
        return html

    gaps = listed("collective_floor_gap")
    assert "石丫村 2025年1—4季度：经营性收入 42,000.00元，距50,000元差 8,000.00元" in gaps
    assert "P2 项目P2（石丫村） ← 金碧镇 2025年中央资金" in listed("fund_industry_share")
    assert "大姚县 2025年省级资金" in listed("fund_industry_share", "denominator")
    assert "2025-06-30 P1 项目P1：100,000.00元" in listed("fund_spending_progress")
    assert "项目P8" in listed("fund_industry_projects_without_linkage")
    listed("fund_households_linked_per_million")
    complement = client.get(
        reverse("assessment_complement", args=["collective_income_reported"]),
        {"region": tree.county.code, "period": str(MID_YEAR)},
    )
    assert "石丫村" in complement.content.decode()


def test_each_figure_is_one_query_per_level(tree: Tree, county: FundCounty, django_assert_num_queries: Any) -> None:
    for indicator in INDICATORS:
        for level in indicator.levels:
            within = tree.county.prefix if level >= Level.COUNTY else tree.province.prefix
            with django_assert_num_queries(1):
                found = indicator.compute(period=YEAR_END, level=level, within=within, parameters=defaults(indicator))
            assert all(len(row.code) == 12 for row in found)


def test_targets_cite_their_documents_and_are_scored(tree: Tree, county: FundCounty) -> None:
    assert fund_targets_ensure(county=tree.county) == 0
    central = Target.objects.get(indicator="fund_industry_share_central", region=tree.county, year=2025)
    assert (central.value, central.source_document) == (d("0.7000"), "004")
    overall = Target.objects.get(indicator="fund_industry_share", region=tree.county, year=2025)
    assert overall.value == d("0.6500") and "演示：沿用2024年目标" in overall.clause
    assert Target.objects.get(indicator="fund_industry_share", region=tree.county, year=2023).source_document == "000"

    share = stored("fund_industry_share", tree.county)
    # 0.5882 against 0.65: 6.18 points short, 10 − 0.5 × 6.18 = 6.91
    assert (share.status, share.target, share.score) == (Status.MISSED, d("0.6500"), d("6.91"))
    versus = stored("fund_industry_share_vs_last_year", tree.county)
    assert (versus.status, versus.target) == (Status.MISSED, d("0.7500"))
    assert stored("fund_industry_share_provincial", tree.county).status == Status.MET
    assert stored("fund_binding_support_share", tree.county).status == Status.MET
    assert stored("fund_households_linked_per_million", tree.county).status == Status.MISSED
    linkage = stored("fund_industry_projects_without_linkage", tree.county)
    assert (linkage.status, linkage.score) == (Status.MISSED, d("3.00"))
    # Village targets hold at the year's end only.
    assert stored("collective_villages_over_floor_share", tree.county).status == Status.MISSED
    assert stored("collective_villages_over_floor_share", tree.county, MID_YEAR).status == Status.NO_TARGET
    assert stored("collective_party_complex_over_line_share", tree.county).status == Status.MET
    assert stored("collective_operating_income_average", tree.county).target == d("100000.0000")


def tile_html(html: str, code: str) -> str:
    start = html.index(f'data-testid="tile" data-indicator="{code}"')
    end = html.find('data-testid="tile" ', start + 1)
    return html[start : end if end > 0 else len(html)]


@pytest.mark.parametrize("region_name", ["county", "township_a"])
def test_the_dashboard_groups_show_the_stored_values(
    tree: Tree, county: FundCounty, staff: Staff, region_name: str
) -> None:
    region: Region = getattr(tree, region_name)
    client = Client()
    assert client.login(username=staff.county_admin.username, password=PASSWORD)
    response = client.get(reverse("assessment_dashboard"), {"region": region.code, "period": str(YEAR_END)})
    assert response.status_code == 200
    html = response.content.decode()
    board = dashboard(region=region, period=YEAR_END, compare="previous")
    groups = {group.group.code: group for group in board.groups}
    shown = 0
    for code in ("funds", "collective_economy"):
        assert groups[code].group.title in html
        for tile in groups[code].tiles:
            value = IndicatorValue.objects.filter(
                indicator=tile.indicator.code, region=region, year=YEAR_END.year, quarter=YEAR_END.number
            ).first()
            chunk = tile_html(html, tile.indicator.code)
            assert figure(value.value if value else None, tile.indicator.unit) in chunk
            shown += value is not None
    assert shown >= 15
    views = {view.chart.code: view for views in dashboard_charts.charts(board).values() for view in views}
    trend = views["industry_share_by_level"].option["series"][0]["data"]
    assert trend[-1]["value"] == round(float(stored("fund_industry_share", region).value or 0) * 100, 2)
    bars = views["operating_income_by_subregion"].table.rows
    assert len(bars) == len(board.bars)
