"""The dashboards on a small demo county: their numbers are the stored ones, drill-downs count the same,
scope is the user's subtree, the query count does not grow with the level, and the Excel report."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from assessment import dashboard_charts
from assessment.dashboard_selectors import dashboard
from assessment.demo import DEMO_COUNTY
from assessment.models import BreakdownValue, IndicatorValue
from assessment.services import compute_run_now
from assessment.templatetags.assessment_tags import bare_figure, figure
from figures import dashboards as dashboard_registry
from figures.dashboards import Chart, ChartKind, DashboardGroup
from households.demo_writer import DEMO_PASSWORD
from households.excel.models import ExportKind, ExportRecord
from regions.models import DataVersion, Level, Region, Role, User
from regions.services import data_changed, user_create
from tests.assessment.dashboard_fixtures import (
    PERIOD,
    TOWNSHIP_A,
    TOWNSHIP_B,
    client_for,
    demo_county,
    page,
    shown_count,
)

DASHBOARD_URLS = ["assessment_dashboard", "assessment_dashboard_print", "assessment_dashboard_excel"]


@pytest.fixture
def demo(db: Any) -> Region:
    return demo_county()


def tile_html(html: str, code: str) -> str:
    """The tile's own HTML: from its opening tag to the next tile (or the end)."""
    start = html.index(f'data-testid="tile" data-indicator="{code}"')
    end = html.find('data-testid="tile" ', start + 1)
    return html[start : end if end > 0 else len(html)]


def test_county_users_open_on_their_dashboard_and_clerks_on_the_ledger_home(demo: Region) -> None:
    response = client_for("xian").get("/")
    assert response.status_code == 302 and response["Location"] == reverse("assessment_dashboard")
    assert client_for("cun").get("/").status_code == 200


def test_each_user_opens_their_own_regions_dashboard(demo: Region) -> None:
    assert "大姚县 · 考核看板" in page(client_for("xian"), "")
    township = Region.objects.get(code=TOWNSHIP_A)
    html = client_for("xiang").get(reverse("assessment_dashboard")).content.decode()
    assert f"{township.name} · 考核看板" in html
    village = User.objects.get(username="cun").region
    assert village is not None
    assert f"{village.name} · 考核看板" in client_for("cun").get(reverse("assessment_dashboard")).content.decode()


def test_tiles_show_the_stored_value_target_status_and_change(demo: Region) -> None:
    html = page(client_for("xian"), DEMO_COUNTY)
    board = dashboard(region=demo, period=PERIOD, compare="previous")
    checked = 0
    for group in board.groups:
        assert group.group.title in html
        for tile in group.tiles:
            stored = IndicatorValue.objects.for_period(PERIOD).get(region=demo, indicator=tile.indicator.code)
            before = IndicatorValue.objects.for_period(PERIOD.previous()).get(
                region=demo, indicator=tile.indicator.code
            )
            chunk = tile_html(html, tile.indicator.code)
            assert figure(stored.value, tile.indicator.unit) in chunk
            assert {"met": "达标", "missed": "未达标", "no_target": "无目标", "no_data": "无数据"}[
                stored.status
            ] in chunk
            if stored.value is not None and before.value is not None:
                assert tile.change == stored.value - before.value
            checked += 1
    assert checked == 44  # 收入 8, 监测帮扶 7, 产业与双绑 10, 衔接资金 11, 村集体经济 8


def test_every_chart_draws_and_tabulates_the_stored_numbers(demo: Region) -> None:
    township = Region.objects.get(code=TOWNSHIP_A)
    board = dashboard(region=demo, period=PERIOD, compare="previous")
    views = {view.chart.code: view for group in dashboard_charts.charts(board).values() for view in group}
    children = list(Region.objects.filter(parent=demo).order_by("code"))
    stored = {
        (value.region_id, value.indicator): value
        for value in IndicatorValue.objects.for_period(PERIOD).filter(region__parent=demo)
    }
    wheels = views["four_wheels"]
    wages = next(series for series in wheels.option["series"] if series["name"] == "工资性收入")
    assert [item["value"] for item in wages["data"]] == [
        round(float(stored[(child.pk, "composition_wages")].value or 0), 2) for child in children
    ]
    costs = next(series for series in wheels.option["series"] if series["name"] == "生产经营性支出")
    assert all(item["value"] <= 0 for item in costs["data"])
    row = wheels.table.rows[children.index(township)]
    # The heading names the unit, so that six columns of figures fit half an A4 page.
    assert wheels.table.headers[1] == ("人均工资性收入（元/人）", True)
    assert row[1].text == bare_figure(stored[(township.pk, "composition_wages")].value, "yuan_per_person")

    bands = BreakdownValue.objects.for_period(PERIOD).get(region=demo, breakdown="per_capita_bands").data
    distribution = views["per_capita_distribution"]
    drawn = [item["value"] for item in distribution.option["series"][0]["data"]]
    assert sum(drawn) == sum(bands.values())
    assert [int(r[1].text.replace(",", "")) for r in distribution.table.rows] == drawn
    marks = [line["name"] for line in distribution.option["series"][0]["markLine"]["data"]]
    assert any(mark.startswith("监测范围") for mark in marks) and "重点户线 10,000元" in marks

    matrix = BreakdownValue.objects.for_period(PERIOD).get(region=demo, breakdown="monitoring_matrix").data
    segments = sum(item["value"] for series in views["monitoring_matrix"].option["series"] for item in series["data"])
    assert segments == sum(matrix.values()) > 0

    progress = views["entry_progress"]
    for child, row in zip(children, progress.table.rows, strict=True):
        value = stored[(child.pk, "entry_progress")]
        assert row[1].text == f"{int(value.denominator or 0):,}"
        assert row[2].text == f"{int(value.numerator):,}"
        assert row[3].text == f"{int((value.denominator or 0) - value.numerator):,}"

    trends = views["income_trends"]
    own = IndicatorValue.objects.get(region=demo, indicator="income_per_capita_lifted", year=2026, quarter=3)
    assert trends.option["series"][0]["data"][-1]["value"] == round(float(own.value or 0), 2)


def test_drill_downs_count_what_the_tiles_and_the_progress_bars_show(demo: Region) -> None:
    client = client_for("xianadmin")
    township = Region.objects.get(code=TOWNSHIP_A)
    # A few households without this quarter's income, so that 未录入 is not zero.
    from households.models import IncomeRecord

    dropped = IncomeRecord.objects.filter(year=2026, quarter=3, household__village__code__startswith=township.prefix)[
        :3
    ]
    IncomeRecord.objects.filter(pk__in=[record.pk for record in dropped]).delete()
    data_changed(codes=[township.code])
    compute_run_now(scope=demo, period=PERIOD, reason="test")
    value = IndicatorValue.objects.get(region=township, indicator="entry_progress", year=2026, quarter=3)
    missing = int((value.denominator or 0) - value.numerator)
    assert missing == 3
    query = {"region": township.code, "period": str(PERIOD)}
    complement = client.get(reverse("assessment_complement", args=["entry_progress"]), query).content.decode()
    assert shown_count(complement) == missing
    html = page(client, DEMO_COUNTY)
    assert reverse("assessment_complement", args=["entry_progress"]) + f"?region={township.code}" in html.replace(
        "&amp;", "&"
    )
    for code in ("below_key_line", "lifted_below_threshold_unmonitored", "income_per_capita_lifted"):
        stored = IndicatorValue.objects.for_period(PERIOD).get(region=township, indicator=code)
        listed = client.get(reverse("assessment_numerator", args=[code]), query).content.decode()
        assert shown_count(listed) == stored.records


def test_each_close_count_of_a_township_dashboard_lists_as_many_villages_of_that_township(demo: Region) -> None:
    client = client_for("xian")
    html = page(client, TOWNSHIP_A).replace("&amp;", "&")
    links = re.findall(r'href="(/assessment/close/\?[^"]+)" data-status="(\w+)">[^<]*<strong>(\d+)</strong>', html)
    assert {status for _, status, _ in links} == {"filling", "submitted", "returned", "approved"}
    for link, status, count in links:
        assert f"region={TOWNSHIP_A}" in link and f"status={status}" in link
        board = client.get(link).content.decode()
        assert board.count('data-testid="village-') == int(count), status
        assert 'data-testid="village-532326101' not in board  # 石羊镇's villages are not listed


@pytest.fixture
def other_township_admin(demo: Region) -> User:
    return user_create(
        username="xiang2", password=DEMO_PASSWORD, role=Role.TOWNSHIP_ADMIN, region=Region.objects.get(code=TOWNSHIP_B)
    )


@pytest.mark.parametrize("name", DASHBOARD_URLS)
def test_every_dashboard_url_is_404_above_or_beside_the_users_region(
    demo: Region, other_township_admin: User, name: str
) -> None:
    other_village = Region.objects.filter(parent__code=TOWNSHIP_B, level=Level.VILLAGE).first()
    assert other_village is not None
    village = User.objects.get(username="cun").region
    assert village is not None
    sibling = Region.objects.filter(parent=village.parent).exclude(pk=village.pk).first()
    assert sibling is not None
    forbidden = {
        "xiang": [DEMO_COUNTY, TOWNSHIP_B, other_village.code],
        "xiang2": [DEMO_COUNTY, TOWNSHIP_A],
        "cun": [DEMO_COUNTY, TOWNSHIP_A, sibling.code],
    }
    for username, codes in forbidden.items():
        client = client_for(username)
        for code in codes:
            assert client.get(reverse(name), {"region": code}).status_code == 404, (username, code)
        assert client.get(reverse(name)).status_code == 200, username


def test_a_dashboard_takes_the_same_queries_for_a_county_a_township_and_a_village(demo: Region) -> None:
    township = Region.objects.get(code=TOWNSHIP_A)
    village = Region.objects.filter(parent=township).order_by("code").first()
    assert village is not None
    counts = []
    # The thresholds (a reference list, regions/reference.py) are kept from the first dashboard on.
    dashboard(region=demo, period=PERIOD, compare="year_earlier")
    for region in (demo, township, village):
        with CaptureQueriesContext(connection) as captured:
            board = dashboard(region=region, period=PERIOD, compare="year_earlier")
            dashboard_charts.charts(board)
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1] == counts[2]
    # 14, and the charts' reference lines: the targets and the parameters set on the region's ancestors.
    assert counts[0] <= 16
    for query in captured.captured_queries:
        assert 'FROM "households_household"' not in query["sql"]
        assert 'FROM "households_householdquarterfact"' not in query["sql"]


def test_a_value_older_than_its_data_is_marked_stale(demo: Region) -> None:
    client = client_for("xian")
    assert "数据已过期" not in page(client, DEMO_COUNTY)
    DataVersion.objects.filter(county=demo).update(version=10**6)
    assert "数据已过期" in dashboard_page_without_recompute(client)


def dashboard_page_without_recompute(client: Client) -> str:
    from unittest import mock

    with mock.patch("assessment.services.recompute_due"):
        return page(client, DEMO_COUNTY)


def test_the_excel_report_has_a_sheet_per_group_with_the_sub_regions_figures(demo: Region) -> None:
    township = Region.objects.get(code=TOWNSHIP_A)
    township.name = "=HYPERLINK(1)"
    township.save()
    client = client_for("xian")
    response = client.get(reverse("assessment_dashboard_excel"), {"region": DEMO_COUNTY, "period": str(PERIOD)})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["收入", "监测帮扶", "产业与双绑", "衔接资金", "村集体经济"]
    sheet = workbook["收入"]
    assert (
        "大姚县" in str(sheet["A2"].value)
        and PERIOD.label in str(sheet["A2"].value)
        and "计算时间" in str(sheet["A2"].value)
    )
    assert sheet["D4"].value == "脱贫户人均纯收入（近四季度）" and sheet["D5"].value == "指标值"
    names = [sheet.cell(row, 1).value for row in range(6, sheet.max_row + 1)]
    assert "=HYPERLINK(1)" in names and names[-1] == "大姚县（合计）"
    row = 6 + names.index("=HYPERLINK(1)")
    assert sheet.cell(row, 1).data_type == "s"
    stored = IndicatorValue.objects.for_period(PERIOD).get(region=township, indicator="income_per_capita_lifted")
    # A number a reader can sort and sum, shown with its unit.
    assert stored.value is not None
    assert sheet.cell(row, 4).value == pytest.approx(float(stored.value))
    assert sheet.cell(row, 4).number_format == '#,##0.00"元/人"'
    share = [cell for cell in workbook["监测帮扶"][6] if cell.number_format == "0.0%"]
    assert share and all(isinstance(cell.value, (int, float)) for cell in share)
    assert sheet.cell(row, 6).value == {"met": "达标", "missed": "未达标"}.get(stored.status, sheet.cell(row, 6).value)
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
    assert sheet.print_title_rows == "$4:$5"
    record = ExportRecord.objects.get()
    assert record.kind == ExportKind.DASHBOARD and record.exported_by.username == "xian"


def test_the_print_view_titles_region_quarter_and_computed_time(demo: Region) -> None:
    response = client_for("xian").get(reverse("assessment_dashboard_print"), {"period": str(PERIOD)})
    html = response.content.decode()
    assert "大姚县 考核看板 · 2026年第3季度" in html and "计算时间：20" in html
    assert "@page" not in html  # the page size lives in the stylesheet, with the print rules


@pytest.fixture
def extra_group() -> Iterator[DashboardGroup]:
    group = dashboard_registry.register_group(
        DashboardGroup(
            code="test_group",
            title="测试分组",
            order=99,
            tiles=("monitored_population_share",),
            charts=(Chart("test_chart", "测试图表：按乡镇", ChartKind.BY_SUBREGION, indicators=("entry_progress",)),),
        )
    )
    yield group
    dashboard_registry.unregister_group(group.code)


def test_a_group_registered_elsewhere_appears_on_the_dashboard_and_in_the_report(
    demo: Region, extra_group: DashboardGroup
) -> None:
    client = client_for("xian")
    html = page(client, DEMO_COUNTY)
    assert "测试分组" in html and "测试图表：按乡镇" in html
    assert 'data-group="test_group"' in html and 'data-chart="test_chart"' in html
    report = client.get(reverse("assessment_dashboard_excel"), {"period": str(PERIOD)})
    assert "测试分组" in load_workbook(io.BytesIO(report.content)).sheetnames


def test_a_chart_of_counts_steps_its_axis_by_whole_numbers_and_a_chart_of_shares_does_not(demo: Region) -> None:
    board = dashboard(region=demo, period=PERIOD, compare="previous")
    views = {view.chart.code: view for group in dashboard_charts.charts(board).values() for view in group}
    assert views["entities_by_subregion"].option["yAxis"]["minInterval"] == 1  # no half an enterprise
    coverage = views["binding_coverage_by_subregion"]
    values = [point["value"] for series in coverage.option["series"] for point in series["data"]]
    if not all(value is None or float(value).is_integer() for value in values):
        assert "minInterval" not in coverage.option["yAxis"]
