"""The 村集体经济 chart of 经营性收入 per village carries the 5万 floor and the 10万 average as lines, and the
衔接资金 chart by sub-region the industry and 双绑 shares' targets, at the values the seeded targets and
parameters hold for the dashboard's region and year (issue 11 §4)."""

from __future__ import annotations

from decimal import Decimal

from django.test import Client
from django.urls import reverse

from assessment import dashboard_charts
from assessment.dashboard_charts import ChartView
from assessment.dashboard_selectors import dashboard
from assessment.models import ParameterValue, Target
from figures.periods import Quarter
from regions.models import Region
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree
from tests.funds.fund_county import FundCounty
from tests.funds.test_figures import MID_YEAR, YEAR_END
from tests.funds.test_figures_lists import county

__all__ = ["county"]  # the fixture, used by name


def chart(region: Region, period: Quarter, code: str) -> ChartView:
    board = dashboard(region=region, period=period, compare="previous")
    return next(view for views in dashboard_charts.charts(board).values() for view in views if view.chart.code == code)


def lines(view: ChartView) -> dict[str, float]:
    return {line["name"]: line["yAxis"] for line in view.option["series"][0]["markLine"]["data"]}


def test_the_township_chart_of_village_income_marks_the_floor_and_the_average_target(
    tree: Tree, county: FundCounty
) -> None:
    for period in (YEAR_END, MID_YEAR):  # the year-end average is drawn against mid-year figures too
        view = chart(tree.township_a, period, "operating_income_by_subregion")
        assert lines(view) == {"5万元底线": 50000.0, "村均目标10万元": 100000.0}
        assert [(line.label, line.value) for line in view.lines] == [
            ("5万元底线", "50,000.00 元"),
            ("村均目标10万元", "100,000.00 元"),
        ]


def test_the_lines_move_when_the_target_and_the_parameter_change(tree: Tree, county: FundCounty) -> None:
    target = Target.objects.get(
        indicator="collective_operating_income_average", region=tree.county, year=YEAR_END.year, quarter=4
    )
    target.value = Decimal("120000")
    target.save()
    ParameterValue.objects.create(
        key="collective_operating_floor", region=tree.county, year=YEAR_END.year, value=Decimal("60000")
    )
    view = chart(tree.township_a, YEAR_END, "operating_income_by_subregion")
    assert lines(view) == {"6万元底线": 60000.0, "村均目标12万元": 120000.0}
    # Another year keeps its own rows.
    assert lines(chart(tree.township_a, Quarter(2024, 4), "operating_income_by_subregion")) == {
        "5万元底线": 50000.0,
        "村均目标10万元": 100000.0,
    }


def test_the_fund_chart_by_sub_region_marks_the_industry_and_binding_targets(tree: Tree, county: FundCounty) -> None:
    # 2025's industry share carries 2024's 65% (002); 双绑 10% every year (000).
    view = chart(tree.county, YEAR_END, "industry_share_by_subregion")
    assert lines(view) == {"产业发展目标65%": 65.0, "双绑目标10%": 10.0}


def test_the_dashboard_page_lists_the_lines_under_the_chart_table(tree: Tree, county: FundCounty, staff: Staff) -> None:
    client = Client()
    assert client.login(username=staff.county_admin.username, password=PASSWORD)
    response = client.get(reverse("assessment_dashboard"), {"region": tree.township_a.code, "period": str(YEAR_END)})
    html = response.content.decode()
    card = html[html.index('data-chart="operating_income_by_subregion"') :]
    card = card[: card.index("</section>")]
    listed = card[card.index('data-testid="chart-lines"') :]
    assert "5万元底线" in listed and "50,000.00 元" in listed
    assert "村均目标10万元" in listed and "100,000.00 元" in listed
