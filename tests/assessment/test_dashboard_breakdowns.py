"""The bars of the distribution charts lead to the lists behind them: a 1,000-yuan band of 人均纯收入 to
its households, a category × 风险类型 × state segment to its monitoring cases, each list as long as
the bar; and the income distribution shows only the bands that hold something."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from assessment import dashboard_charts
from assessment.dashboard_charts import ChartView
from assessment.dashboard_selectors import dashboard
from assessment.demo import DEMO_COUNTY
from assessment.models import BreakdownValue
from households.demo_writer import DEMO_PASSWORD
from households.id_numbers import mask_id_number
from households.indicators.breakdowns import band_keys
from households.models import Member, MonitoringCase, Relation
from regions.models import Region, Role
from regions.services import user_create
from tests.assessment.dashboard_fixtures import (
    PERIOD,
    TOWNSHIP_A,
    TOWNSHIP_B,
    client_for,
    demo_county,
    shown_count,
)


@pytest.fixture
def demo(db: Any) -> Region:
    return demo_county()


def chart(region: Region, code: str) -> ChartView:
    board = dashboard(region=region, period=PERIOD, compare="previous")
    return next(view for views in dashboard_charts.charts(board).values() for view in views if view.chart.code == code)


def bars(view: ChartView) -> list[dict[str, Any]]:
    return [item for series in view.option["series"] for item in series["data"]]


@pytest.mark.parametrize("code", [DEMO_COUNTY, TOWNSHIP_A])
def test_every_income_band_bar_lists_as_many_households_as_it_counts(demo: Region, code: str) -> None:
    region = Region.objects.get(code=code)
    view = chart(region, "per_capita_distribution")
    client = client_for("xianadmin")
    stored = BreakdownValue.objects.for_period(PERIOD).get(region=region, breakdown="per_capita_bands").data
    drawn = bars(view)
    assert sum(item["value"] for item in drawn) == sum(stored.values()) > 0
    for item in drawn:
        if item["value"]:
            assert shown_count(client.get(item["link"]).content.decode()) == item["value"], item["link"]
    # The 数据表 links the same lists from its non-zero rows.
    linked = [row[1] for row in view.table.rows if row[1].link]
    assert linked and all(int(cell.text.replace(",", "")) > 0 for cell in linked)


@pytest.mark.parametrize("code", [DEMO_COUNTY, TOWNSHIP_A])
def test_every_monitoring_matrix_segment_lists_as_many_cases_as_it_counts(demo: Region, code: str) -> None:
    region = Region.objects.get(code=code)
    view = chart(region, "monitoring_matrix")
    client = client_for("xianadmin")
    states = set()
    for item in bars(view):
        if item["value"]:
            listed = client.get(item["link"]).content.decode()
            assert shown_count(listed) == item["value"], item["link"]
            states.add("已消除" if "期末已消除" in listed else "未消除")
    # The small demo's eliminated cases all lie outside 金碧镇; the county has both.
    assert states == ({"未消除", "已消除"} if code == DEMO_COUNTY else {"未消除"})


def test_the_matrix_legend_names_each_series_as_its_table_column(demo: Region) -> None:
    view = chart(demo, "monitoring_matrix")
    names = [series["name"] for series in view.option["series"]]
    assert names == [label for label, _ in view.table.headers[1:]]
    assert "脱贫不稳定户（未消除）" in names and not any("·" in name for name in names)


def test_the_income_distribution_shows_the_bands_from_the_lowest_to_the_highest_that_hold_something(
    demo: Region,
) -> None:
    view = chart(demo, "per_capita_distribution")
    stored = BreakdownValue.objects.for_period(PERIOD).get(region=demo, breakdown="per_capita_bands").data
    counts = [int(row[1].text.replace(",", "")) for row in view.table.rows]
    assert len(counts) < len(band_keys())
    assert sum(counts) == sum(stored.values())
    assert counts == [item["value"] for item in bars(view)]
    assert view.option["xAxis"]["data"] == [row[0].text for row in view.table.rows]
    # Both marked lines fall on a drawn band.
    assert {line["xAxis"] for line in view.option["series"][0]["markLine"]["data"]} <= set(view.option["xAxis"]["data"])
    assert counts[0] > 0 or view.table.rows[0][0].text in view.option["series"][0]["markLine"]["data"][0]["xAxis"]
    assert counts[-1] > 0


@pytest.mark.parametrize(
    "path",
    [
        "per_capita_bands/nope/",
        "nope/b10/",
        "monitoring_matrix/unstable|nope|open/",
        "monitoring_matrix/unstable|illness/",
        "monitoring_matrix/nope|illness|open/",
        "monitoring_matrix/unstable|illness|maybe/",
    ],
)
def test_an_unknown_breakdown_or_key_is_404(demo: Region, path: str) -> None:
    response = client_for("xian").get(f"/assessment/breakdowns/{path}", {"period": str(PERIOD)})
    assert response.status_code == 404


def test_a_breakdown_list_of_a_region_beside_the_users_is_404(demo: Region) -> None:
    user_create(
        username="xiang2", password=DEMO_PASSWORD, role=Role.TOWNSHIP_ADMIN, region=Region.objects.get(code=TOWNSHIP_B)
    )
    for name in ("cun", "xiang2"):
        for key in ("b10", "unstable|illness|open"):
            code = "per_capita_bands" if key == "b10" else "monitoring_matrix"
            url = reverse("assessment_breakdown_records", args=[code, key])
            response = client_for(name).get(url, {"region": TOWNSHIP_A, "period": str(PERIOD)})
            assert response.status_code == 404, (name, key)


def test_a_county_viewer_sees_masked_id_numbers_in_the_case_list(demo: Region) -> None:
    case = MonitoringCase.objects.filter(household__village__code__startswith="532326").first()
    assert case is not None
    risk = case.risk_types.order_by("code").first()
    assert risk is not None
    state = "open" if case.eliminated_month is None or case.eliminated_month > PERIOD.last_day else "eliminated"
    key = f"{case.category}|{risk.code}|{state}"
    head = Member.objects.get(household=case.household, relation=Relation.HEAD, is_active=True)
    url = reverse("assessment_breakdown_records", args=["monitoring_matrix", key])
    query = {"region": case.household.village.code, "period": str(PERIOD)}
    masked = client_for("xian").get(url, query).content.decode()
    assert head.id_number not in masked and mask_id_number(head.id_number) in masked
    assert head.id_number in client_for("xianadmin").get(url, query).content.decode()


def test_a_case_list_for_the_last_quarter_a_date_can_hold_is_a_page_not_an_error(demo: Region) -> None:
    url = reverse("assessment_breakdown_records", args=["monitoring_matrix", "unstable|illness|open"])
    response = client_for("xian").get(url, {"period": "9999Q4"})
    assert response.status_code == 200
    # Nothing was computed for that quarter: the list stands alone, without a chart's count beside it.
    assert "看板图表" not in response.content.decode()


def test_another_countys_own_risk_type_is_no_bar_of_this_county(demo: Region) -> None:
    """A hand-made drill-down URL naming another county's own 风险类型 is 404: its name is not shown."""
    from households.models import RiskType
    from regions.models import Level

    other = Region.objects.create(code="532301000000", name="楚雄市", level=Level.COUNTY, parent=demo.parent)
    RiskType.objects.create(code="532301_1", name="楚雄的风险", region=other)
    url = reverse("assessment_breakdown_records", args=["monitoring_matrix", "unstable|532301_1|open"])
    response = client_for("xian").get(url, {"period": str(PERIOD)})
    assert response.status_code == 404 and "楚雄的风险" not in response.content.decode()
