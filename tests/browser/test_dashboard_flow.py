"""The dashboards in a real Chromium: county, township and village as xian, xiang and cun; a chart's
数据表; from a lagging township down to a household; the Excel report; a phone-width layout."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from assessment.demo import DEMO_COUNTY, demo_targets_ensure
from assessment.services import compute_run_now
from figures.periods import Quarter
from households.demo_writer import DEMO_PASSWORD, demo_seed
from regions.models import Region

if TYPE_CHECKING:
    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Path]
PERIOD = Quarter(2026, 3)


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("user-region")).to_be_attached()


def log_out(page: Page) -> None:
    """Log out and wait for the login page, so that the next navigation does not abort the redirect."""
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_label("用户名")).to_be_visible()


@pytest.fixture
def assessed_county(transactional_db: None) -> Region:
    demo_seed(households=160, seed=11)
    county = Region.objects.get(code=DEMO_COUNTY)
    demo_targets_ensure(county=county)
    for period in (PERIOD.previous(), PERIOD):
        compute_run_now(scope=county, period=period, reason="test")
    return county


def test_officials_read_their_dashboards_and_drill_down_to_a_household(
    assessed_county: Region, live_server: Any, page: Page, screenshot: Screenshot, page_problems: PageProblems
) -> None:
    log_in(page, live_server.url, "xian")
    # A county viewer opens on the county's dashboard.
    expect(page.get_by_test_id("dashboard-title")).to_contain_text("大姚县 · 考核看板")
    expect(page.get_by_test_id("tile").first).to_be_visible()
    page.locator(".chart svg").first.wait_for()
    screenshot("dashboard-county")

    wheels = page.locator('[data-chart="four_wheels"]')
    table = wheels.get_by_test_id("chart-table")
    expect(table).to_be_hidden()
    wheels.get_by_test_id("table-toggle").click()
    expect(table).to_be_visible()
    expect(table).to_contain_text("工资性收入")
    screenshot("dashboard-county-table")

    with page.expect_download() as download_info:
        page.get_by_test_id("excel-link").click()
    download = download_info.value
    report = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    assert report.sheetnames == ["收入", "监测帮扶", "产业与双绑", "衔接资金", "村集体经济"]

    # From the township marked 通报 down to one of its households.
    lagging = page.locator('[data-testid="ranking-table"] tr.table-danger').first
    township = lagging.get_by_test_id("ranking-link").inner_text()
    lagging.get_by_test_id("ranking-link").click()
    expect(page.get_by_test_id("dashboard-title")).to_contain_text(f"{township} · 考核看板")
    tile = page.locator('[data-testid="tile"][data-indicator="income_per_capita_all"]')
    tile.get_by_test_id("tile-value").click()
    expect(page.get_by_test_id("record-count")).to_be_visible()
    page.locator("table a[href^='/households/']").first.click()
    expect(page).to_have_url(re.compile(r"/households/\d+/$"))
    screenshot("dashboard-drilled-household")

    # The same dashboard on a 390-px phone: no horizontal scroll.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/assessment/dashboard/?period={PERIOD}")
    page.locator(".chart svg").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("dashboard-county-phone")
    page.set_viewport_size({"width": 1400, "height": 900})
    log_out(page)

    log_in(page, live_server.url, "xiang")
    page.goto(f"{live_server.url}/assessment/dashboard/")
    expect(page.get_by_test_id("dashboard-title")).to_contain_text("金碧镇 · 考核看板")
    expect(page.get_by_test_id("ranking-table")).to_be_visible()
    screenshot("dashboard-township")
    log_out(page)

    log_in(page, live_server.url, "cun")
    page.goto(f"{live_server.url}/assessment/dashboard/")
    expect(page.get_by_test_id("dashboard-title")).to_contain_text("考核看板")
    expect(page.get_by_test_id("tile").first).to_be_visible()
    screenshot("dashboard-village")

    page.goto(f"{live_server.url}/assessment/dashboard/print/")
    expect(page.get_by_test_id("print-title")).to_contain_text("考核看板")
    page.emulate_media(media="print")
    screenshot("dashboard-village-print")
    assert page_problems.broken_assets == [], "static files failed to load"
    assert page_problems.console_errors == [], "JavaScript errors in the page"
