"""A chart may declare reference lines whose values are policy data: an indicator's target or one of its
parameters, resolved for the dashboard's region and year as the engine resolves them. They are drawn as
marked lines, listed under the chart's 数据表, and move when the row they come from changes."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from assessment import dashboard_charts
from assessment.dashboard_charts import ChartView
from assessment.dashboard_selectors import dashboard
from assessment.demo import DEMO_COUNTY
from assessment.models import ParameterValue, Target
from assessment.services import policy_row_save
from figures import dashboards as dashboard_registry
from figures.dashboards import Chart, ChartKind, ChartLine, DashboardGroup
from regions.models import Region
from tests.assessment.dashboard_fixtures import PERIOD, TOWNSHIP_A, client_for, demo_county, page

TARGET_LINE = ChartLine("目标{value}", indicator="income_per_capita_lifted")
PARAMETER_LINE = ChartLine("{value}重点户线", indicator="below_key_line", parameter="key_household_line")
YEAR_END_LINE = ChartLine("全年目标{value}", indicator="income_per_capita_lifted_ytd", year_end=True)
ZERO_LINE = ChartLine("不画{value}", indicator="lifted_below_threshold_unmonitored")  # 应为0: no number
LINES = (TARGET_LINE, PARAMETER_LINE, YEAR_END_LINE, ZERO_LINE)


@pytest.fixture
def demo(db: Any) -> Region:
    return demo_county()


@pytest.fixture
def lined_group() -> Iterator[DashboardGroup]:
    group = dashboard_registry.register_group(
        DashboardGroup(
            code="lined_group",
            title="参考线分组",
            order=98,
            tiles=("income_per_capita_lifted",),
            charts=(
                Chart(
                    "lined_chart",
                    "测试图表：脱贫人口人均纯收入（按下级区划）",
                    ChartKind.BY_SUBREGION,
                    indicators=("income_per_capita_lifted",),
                    lines=LINES,
                ),
                Chart(
                    "lined_trend",
                    "测试图表：脱贫人口人均纯收入（近8个季度）",
                    ChartKind.TRENDS,
                    indicators=("income_per_capita_lifted",),
                    lines=(TARGET_LINE,),
                ),
            ),
        )
    )
    yield group
    dashboard_registry.unregister_group(group.code)


def chart_of(region: Region, code: str = "lined_chart") -> ChartView:
    board = dashboard(region=region, period=PERIOD, compare="previous")
    return next(view for view in dashboard_charts.charts(board)["lined_group"] if view.chart.code == code)


def marked(view: ChartView) -> dict[str, float]:
    """name → value of the lines marked on the chart (on its first series)."""
    return {line["name"]: line["yAxis"] for line in view.option["series"][0]["markLine"]["data"]}


def target_row(indicator: str, region: Region, *, quarter: int | None = None) -> Target:
    return Target.objects.get(indicator=indicator, region=region, year=PERIOD.year, quarter=quarter)


def test_a_chart_marks_its_lines_at_the_values_the_targets_and_parameters_hold(
    demo: Region, lined_group: DashboardGroup
) -> None:
    target = target_row("income_per_capita_lifted", demo).value
    year_end = target_row("income_per_capita_lifted_ytd", demo, quarter=4).value
    assert target == year_end == Decimal("22300")  # 2026 carries 2024's 22,300 (002)
    view = chart_of(demo)
    # The year-end target holds for Q4 only; its line is drawn on the third quarter's chart all the same.
    assert marked(view) == {
        "目标2.23万元/人": 22300.0,
        "1万元/人重点户线": 10000.0,  # the parameter's default: no row sets it
        "全年目标2.23万元/人": 22300.0,
    }
    listed = {line.label: line.value for line in view.lines}
    assert listed == {name: f"{Decimal(str(value)):,.2f} 元/人" for name, value in marked(view).items()}
    assert view.lines[0].source == target_row("income_per_capita_lifted", demo).source
    assert view.lines[1].source == "002"  # the parameter's own citation


def test_the_lines_move_with_the_rows_they_come_from_and_the_nearest_row_wins(
    demo: Region, lined_group: DashboardGroup
) -> None:
    township = Region.objects.get(code=TOWNSHIP_A)
    admin = get_user_model().objects.get(username="xianadmin")
    row = target_row("income_per_capita_lifted", demo)
    row.value = Decimal("23456")
    policy_row_save(row=row, by=admin)
    ParameterValue.objects.create(key="key_household_line", region=demo, year=PERIOD.year, value=Decimal("12000"))
    assert set(marked(chart_of(demo))) >= {"目标2.3456万元/人", "1.2万元/人重点户线"}
    own = Target(
        indicator="income_per_capita_lifted",
        region=township,
        year=PERIOD.year,
        comparator=row.comparator,
        value=Decimal("30000"),
    )
    policy_row_save(row=own, by=admin)
    assert marked(chart_of(township))["目标3万元/人"] == 30000.0
    assert "目标2.3456万元/人" in marked(chart_of(demo))
    # The engine reads parameters on the county for its townships: a township's own row changes nothing.
    ParameterValue.objects.create(key="key_household_line", region=township, year=PERIOD.year, value=Decimal("9000"))
    assert "1.2万元/人重点户线" in marked(chart_of(township))


def test_a_trend_chart_marks_its_lines_too_and_the_axis_reaches_them(demo: Region, lined_group: DashboardGroup) -> None:
    row = target_row("income_per_capita_lifted", demo)
    row.value = Decimal("990000")  # far above every value drawn
    row.save()
    for view in (chart_of(demo), chart_of(demo, "lined_trend")):
        assert marked(view)["目标99万元/人"] == 990000.0
        assert view.option["yAxis"]["max"] >= 990000


def test_a_line_without_a_number_is_neither_drawn_nor_listed(demo: Region, lined_group: DashboardGroup) -> None:
    Target.objects.filter(indicator="income_per_capita_lifted", year=PERIOD.year).delete()
    view = chart_of(demo)
    assert list(marked(view)) == ["1万元/人重点户线", "全年目标2.23万元/人"]
    assert [line.label for line in view.lines] == ["1万元/人重点户线", "全年目标2.23万元/人"]


def test_the_page_lists_the_lines_under_the_chart_table_and_follows_a_target_edit(
    demo: Region, lined_group: DashboardGroup
) -> None:
    client = client_for("xian")
    html = page(client, DEMO_COUNTY)
    table = html[html.index('data-chart="lined_chart"') :]
    table = table[: table.index("</table>") + 400]
    target = target_row("income_per_capita_lifted", demo)
    assert 'data-testid="chart-lines"' in table and "1万元/人重点户线" in table
    assert f"{target.value:,.2f} 元/人" in table
    target.value = Decimal("31000")
    policy_row_save(row=target, by=get_user_model().objects.get(username="xianadmin"))
    assert "目标3.1万元/人" in page(client, DEMO_COUNTY)  # the cached figures follow the edit
