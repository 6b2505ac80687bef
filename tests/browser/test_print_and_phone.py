"""What is printed and what is read on a phone: the county dashboard's print view on A4 landscape with
every column of every 数据表 and every legend entry on the sheet, and a 明白卡 on a 390-px phone."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, expect

from assessment.demo import DEMO_COUNTY, demo_targets_ensure
from assessment.services import compute_run_now
from figures.periods import Quarter
from households.demo_writer import demo_seed
from households.models import Relation
from regions.models import Region
from tests.browser import test_clerk_flow
from tests.browser.test_clerk_flow import assert_page_healthy
from tests.browser.test_dashboard_flow import log_in
from tests.conftest import Staff
from tests.factories import Tree, household, income, member

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Path]
PERIOD = Quarter(2026, 3)
# The printable area of A4 landscape inside the print view's 10 mm @page margins, in CSS px.
A4_LANDSCAPE: ViewportSize = {"width": round(277 / 25.4 * 96), "height": round(190 / 25.4 * 96)}


@pytest.fixture
def assessed_county(transactional_db: None) -> Region:
    demo_seed(households=160, seed=11)
    county = Region.objects.get(code=DEMO_COUNTY)
    demo_targets_ensure(county=county)
    compute_run_now(scope=county, period=PERIOD, reason="test")
    return county


def assert_legends_unpaged(page: Page) -> None:
    """Every chart lists its legend in full: a paged legend draws "1/2" beside its arrows."""
    for chart in page.locator(".chart-card").all():
        source = chart.locator("script[type='application/json']")
        if not source.count():
            continue
        option = json.loads(source.text_content() or "{}")
        texts = chart.locator(".chart svg text").all_text_contents()
        assert not any(re.fullmatch(r"\d+/\d+", text.strip()) for text in texts), chart.get_attribute("data-chart")
        if option.get("legend", {}).get("show", True):
            for series in option["series"]:
                assert series["name"] in texts, (chart.get_attribute("data-chart"), series["name"])


def test_the_county_print_view_puts_every_column_and_legend_entry_on_a4_landscape(
    assessed_county: Region, live_server: Any, page: Page, screenshot: Screenshot, page_problems: PageProblems
) -> None:
    log_in(page, live_server.url, "xian")
    page.set_viewport_size(A4_LANDSCAPE)
    page.emulate_media(media="print")
    page.goto(f"{live_server.url}/assessment/dashboard/print/?period={PERIOD}")
    expect(page.get_by_test_id("print-title")).to_contain_text("大姚县 考核看板 · 2026年第3季度")
    page.locator(".chart svg").last.wait_for()
    screenshot("dashboard-print-a4-landscape")

    assert page.evaluate("document.documentElement.scrollWidth") <= A4_LANDSCAPE["width"], "nothing past the edge"
    clipped = page.evaluate(
        """() => [...document.querySelectorAll('.chart-table, .table-responsive')]
             .filter((box) => box.scrollWidth > box.clientWidth + 1)
             .map((box) => box.closest('[data-chart]')?.dataset.chart || box.className)"""
    )
    assert clipped == [], "a 数据表 or the ranking is cut off on paper"
    # On paper nobody turns a legend's pages.
    assert_legends_unpaged(page)
    assert_page_healthy(page_problems)


def test_a_phone_shows_every_legend_entry_of_the_county_dashboards_charts(
    assessed_county: Region, live_server: Any, page: Page, screenshot: Screenshot, page_problems: PageProblems
) -> None:
    log_in(page, live_server.url, "xian")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/assessment/dashboard/?period={PERIOD}")
    page.locator(".chart svg").last.wait_for()
    screenshot("dashboard-county-phone-legends")
    assert_legends_unpaged(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_page_healthy(page_problems)


def test_a_household_card_reads_on_a_phone_without_sideways_scroll(
    transactional_db: None,
    live_server: Any,
    tree: Tree,
    staff: Staff,
    page: Page,
    screenshot: Screenshot,
    page_problems: PageProblems,
) -> None:
    target = household(
        staff.village_clerk,
        tree.village_a1,
        number="532326100201-P009",
        members=[
            member(name="欧阳建国", birth="19560310"),
            member(Relation.SPOUSE, name="司马秀英", birth="19580721"),
            # A long name (names keep their form across languages: up to 32 characters) wraps in its cell.
            member(Relation.DAUGHTER_IN_LAW, name="阿依古丽·买买提依明·阿卜杜热合曼", birth="19850214"),
        ],
        helper_name="赵德明",
        helper_unit="楚雄彝族自治州大姚县农业农村局乡村振兴促进股",
    )
    income(staff.village_clerk, target, "2026Q3", wages_migrant_work="9000")
    test_clerk_flow.log_in(page, str(live_server), staff.village_clerk.username)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/households/{target.pk}/card/?period=2026Q3")
    expect(page.get_by_test_id("card")).to_be_visible()
    screenshot("card-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_page_healthy(page_problems)


def test_the_lists_behind_a_dashboards_figures_read_on_a_phone_without_sideways_scroll(
    assessed_county: Region, live_server: Any, page: Page, screenshot: Screenshot, page_problems: PageProblems
) -> None:
    log_in(page, live_server.url, "xian")
    page.set_viewport_size({"width": 390, "height": 844})
    for name, path in (
        ("indicator", "/assessment/indicators/below_key_line/"),
        ("numerator", "/assessment/indicators/below_key_line/numerator/"),
        ("band", "/assessment/breakdowns/per_capita_bands/b12/"),
        ("cases", "/assessment/breakdowns/monitoring_matrix/unstable%7Cillness%7Copen/"),
    ):
        page.goto(f"{live_server.url}{path}?period={PERIOD}")
        expect(page.locator("table").first).to_be_visible()
        screenshot(f"phone-list-{name}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    assert_page_healthy(page_problems)


def test_clicking_an_income_band_bar_opens_as_many_households_as_the_bar_counts(
    assessed_county: Region, live_server: Any, page: Page, screenshot: Screenshot, page_problems: PageProblems
) -> None:
    log_in(page, live_server.url, "xian")
    page.goto(f"{live_server.url}/assessment/dashboard/?period={PERIOD}")
    chart = page.locator('[data-chart="per_capita_distribution"] .chart')
    chart.locator("svg").wait_for()
    # The tallest bar's middle, in the chart's own pixels.
    tallest = chart.evaluate(
        """(element) => {
            const chart = echarts.getInstanceByDom(element);
            const data = chart.getOption().series[0].data;
            let best = 0;
            data.forEach((item, index) => { if (item.value > data[best].value) best = index; });
            const [x, y] = chart.convertToPixel({ seriesIndex: 0 }, [best, data[best].value / 2]);
            return { x, y, count: data[best].value };
        }"""
    )
    chart.click(position={"x": tallest["x"], "y": tallest["y"]})
    expect(page).to_have_url(re.compile(r"/assessment/breakdowns/per_capita_bands/b\d\d/"))
    expect(page.get_by_test_id("record-count")).to_contain_text(f"共 {tallest['count']} 户")
    screenshot("dashboard-band-list")
    assert_page_healthy(page_problems)
