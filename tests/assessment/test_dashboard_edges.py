"""The dashboards at their edges: quarters without figures, regions never computed, odd query strings,
stale figures in the report — what a user or an attacker reaches by typing a URL."""

from __future__ import annotations

import io
import re
from typing import Any
from unittest import mock

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from assessment.demo import DEMO_COUNTY
from households.demo_writer import DEMO_PASSWORD
from households.excel.models import ExportRecord
from regions.models import DataVersion, Level, Region, Role
from regions.services import region_create, user_create
from tests.assessment.dashboard_fixtures import client_for, demo_county


@pytest.fixture
def demo(db: Any) -> Region:
    return demo_county()


@pytest.fixture
def uncomputed_county(demo: Region) -> Region:
    """A second county of the prefecture with a township and a village, never computed, and its viewer."""
    county = region_create(code="532325000000", name="姚安县", level=Level.COUNTY, parent=demo.parent)
    township = region_create(code="532325100000", name="栋川镇", level=Level.TOWNSHIP, parent=county)
    region_create(code="532325100201", name="光禄村", level=Level.VILLAGE, parent=township)
    user_create(username="xian2", password=DEMO_PASSWORD, role=Role.COUNTY_VIEWER, region=county)
    return county


def test_a_quarter_without_figures_says_so_instead_of_a_page_of_dashes(demo: Region) -> None:
    client = client_for("xian")
    response = client.get(reverse("assessment_dashboard"), {"period": "2030Q1"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "大姚县2030年第1季度尚未计算考核指标" in html
    assert 'data-testid="tile"' not in html and "未计算</span>" not in html
    # The quarter selector shows the quarter asked for, not the first computed one as if it were shown.
    assert '<option value="2030Q1" selected>2030年第1季度（未计算）</option>' in html
    assert '<option value="2026Q3" >' in html
    assert "打印版" not in html and "导出Excel" not in html


@pytest.mark.parametrize("name", ["assessment_dashboard_excel", "assessment_dashboard_print"])
def test_no_report_is_written_or_printed_for_a_quarter_without_figures(demo: Region, name: str) -> None:
    response = client_for("xian").get(reverse(name), {"period": "2030Q1"})
    assert response.status_code in (200, 302)
    assert response.get("Content-Type", "").startswith("text/html")
    assert not ExportRecord.objects.exists()
    if response.status_code == 200:
        assert "大姚县2030年第1季度尚未计算考核指标" in response.content.decode()


def test_a_county_never_computed_shows_an_empty_state_for_any_quarter_and_exports_nothing(
    uncomputed_county: Region,
) -> None:
    client = client_for("xian2")
    assert "姚安县尚未计算任何季度的考核指标" in client.get(reverse("assessment_dashboard")).content.decode()
    html = client.get(reverse("assessment_dashboard"), {"period": "2026Q3"}).content.decode()
    assert "姚安县2026年第3季度尚未计算考核指标" in html and 'data-testid="tile"' not in html
    assert client.get(reverse("assessment_dashboard_excel"), {"period": "2026Q3"}).status_code == 302
    assert not ExportRecord.objects.exists()


def test_a_prefecture_user_without_prefecture_figures_can_still_go_down_to_the_counties(
    uncomputed_county: Region,
) -> None:
    prefecture = uncomputed_county.parent
    assert prefecture is not None
    user_create(username="zhou", password=DEMO_PASSWORD, role=Role.CITY_VIEWER, region=prefecture)
    client = client_for("zhou")
    html = client.get(reverse("assessment_dashboard")).content.decode()
    assert "尚未计算任何季度的考核指标" in html
    assert f'href="?region={DEMO_COUNTY}&compare=previous"' in html
    assert 'href="?region=532325000000&compare=previous"' in html
    assert 'data-testid="tile"' in client.get(reverse("assessment_dashboard"), {"region": DEMO_COUNTY}).content.decode()


def test_an_unknown_comparison_is_read_as_the_previous_quarter_everywhere_it_is_carried(demo: Region) -> None:
    client = client_for("xian")
    html = client.get(reverse("assessment_dashboard"), {"compare": "zzz"}).content.decode()
    assert "zzz" not in html
    assert "与上一季度（2026年第2季度）对比" in html
    client.get(reverse("assessment_dashboard_excel"), {"compare": "zzz"})
    assert "zzz" not in ExportRecord.objects.get().description


def test_the_excel_report_says_which_figures_are_older_than_their_data(demo: Region) -> None:
    client = client_for("xian")
    fresh = load_workbook(io.BytesIO(client.get(reverse("assessment_dashboard_excel")).content))
    assert not fresh["收入"]["A3"].value
    DataVersion.objects.filter(county=demo).update(version=10**6)
    with mock.patch("assessment.services.recompute_due"):
        stale = load_workbook(io.BytesIO(client.get(reverse("assessment_dashboard_excel")).content))
    for sheet in stale.worksheets:
        note = str(sheet["A3"].value)
        assert note.startswith("数据已过期：大姚县、") and "金碧镇" in note


def test_the_list_of_households_not_yet_entered_is_not_titled_as_the_denominator(demo: Region) -> None:
    url = reverse("assessment_complement", args=["entry_progress"])
    html = client_for("xian").get(url, {"period": "2026Q3"}).content.decode()
    assert "收入填报进度 · 分母中未计入分子的明细" in html and "分母明细" not in html
    assert "在册户数（不含已录入户数）" in html


def test_a_prefecture_user_follows_a_county_dashboards_alert_counts_to_that_countys_alerts(
    uncomputed_county: Region,
) -> None:
    prefecture = uncomputed_county.parent
    assert prefecture is not None
    user_create(username="zhou", password=DEMO_PASSWORD, role=Role.CITY_VIEWER, region=prefecture)
    county = Region.objects.get(code=DEMO_COUNTY)
    client = client_for("zhou")
    html = client.get(reverse("assessment_dashboard"), {"region": DEMO_COUNTY}).content.decode()
    links = re.findall(r'href="(/assessment/alerts/\?[^"]+)" data-rule="[^"]+">[^<]*<span[^>]*>(\d+)</span>', html)
    assert links
    for link, count in links:
        assert f"&region={county.pk}" in link
        listed = client.get(link.replace("&amp;", "&")).content.decode()
        assert f'data-testid="alert-total">{count}<' in listed, link
