"""The county's assessment in a real Chromium: change a target, recompute, watch a township's status flip."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, expect

from assessment.demo import DEMO_COUNTY, demo_targets_ensure
from assessment.models import IndicatorValue, Status, Target
from assessment.services import compute_run_now
from figures.periods import Quarter
from households.demo_writer import DEMO_PASSWORD, demo_seed
from regions.models import Region

if TYPE_CHECKING:
    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Path]
PERIOD = Quarter(2026, 3)
INDICATOR = "income_per_capita_lifted"


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("user-region")).to_be_visible()


def assert_page_healthy(problems: PageProblems) -> None:
    assert problems.broken_assets == [], "static files failed to load"
    assert problems.console_errors == [], "JavaScript errors in the page"


@pytest.fixture
def assessed_county(transactional_db: None) -> Region:
    demo_seed(households=160, seed=11)
    county = Region.objects.get(code=DEMO_COUNTY)
    demo_targets_ensure(county=county)
    compute_run_now(scope=county, period=PERIOD, reason="test")
    return county


def test_a_county_admin_lowers_a_target_recomputes_and_sees_a_township_flip(
    assessed_county: Region,
    celery_worker: None,  # with REDIS_URL (the PostgreSQL leg) a real worker computes while the page polls
    live_server: Any,
    page: Page,
    screenshot: Screenshot,
    page_problems: PageProblems,
) -> None:
    townships = list(
        IndicatorValue.objects.for_period(PERIOD)
        .filter(indicator=INDICATOR, region__parent=assessed_county, value__isnull=False)
        .select_related("region")
        .order_by("-value")
    )
    assert all(value.status == Status.MISSED for value in townships), "the seeds' 22,300 is above every township"
    best = townships[0]
    # A target the best township reaches and the worst does not.
    new_target = ((best.value + townships[-1].value) / 2).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    assert townships[-1].value < new_target <= best.value
    target = Target.objects.get(indicator=INDICATOR, region=assessed_county, year=PERIOD.year, quarter=None)

    log_in(page, live_server.url, "xianadmin")
    page.get_by_role("navigation").get_by_role("link", name="考核指标").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("考核指标")
    row = page.locator(f'tr[data-indicator="{INDICATOR}"]')
    expect(row.get_by_test_id("status")).to_have_text(re.compile("未达标"))
    screenshot("assessment-1-indicator-list")

    page.get_by_test_id("assessment-tabs").get_by_role("link", name="考核目标").click()
    expect(page.get_by_test_id("target-table")).to_be_visible()
    screenshot("assessment-2-targets")
    page.locator(f'tr[data-target="{target.pk}"]').get_by_role("link", name="修改").click()
    expect(page.get_by_role("heading", name="修改考核目标")).to_be_visible()
    page.get_by_label("目标值").fill(str(new_target))
    page.get_by_label("条款").fill("二、人均纯收入目标（演示：调度会下调）")
    screenshot("assessment-3-target-form")
    page.get_by_test_id("policy-form").get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("message")).to_contain_text("已保存考核目标")
    expect(page.get_by_test_id("policy-history")).to_contain_text("修改")
    expect(page.get_by_test_id("policy-history")).to_contain_text("李志强")

    page.get_by_test_id("assessment-tabs").get_by_role("link", name="指标一览").click()
    page.get_by_test_id("compute-form").get_by_role("button", name="重新计算").click()
    progress = page.get_by_test_id("run-progress")
    expect(progress).to_be_visible()
    expect(progress.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_test_id("run-done")).to_contain_text("计算完成")
    screenshot("assessment-4-run-done")
    page.get_by_test_id("run-back").click()

    page.locator(f'tr[data-indicator="{INDICATOR}"]').get_by_role("link").first.click()
    expect(page.get_by_test_id("definition")).to_contain_text("家庭纯收入之和")
    township_row = page.get_by_test_id("sub-region-table").locator(f'tr[data-region="{best.region.code}"]')
    expect(township_row.get_by_test_id("status")).to_have_text(re.compile("✓ 达标"))
    expect(township_row.get_by_test_id("score")).to_have_text(f"{best.full_score:.2f} / {best.full_score:.2f}")
    assert f"{best.score:.2f}" != f"{best.full_score:.2f}"
    worst_row = page.get_by_test_id("sub-region-table").locator(f'tr[data-region="{townships[-1].region.code}"]')
    expect(worst_row.get_by_test_id("status")).to_have_text(re.compile("未达标"))
    screenshot("assessment-5-indicator-page")

    township_row.get_by_role("link", name="分子明细").click()
    expect(page.get_by_test_id("record-count")).to_contain_text(f"共 {best.records} 户")
    screenshot("assessment-6-drill-down")

    page.get_by_test_id("region-trail").get_by_role("link", name=assessed_county.name).click()
    page.get_by_test_id("assessment-tabs").get_by_role("link", name="得分排名").click()
    score_row = page.get_by_test_id("score-table").locator(f'tr[data-region="{best.region.code}"]')
    expect(score_row).to_be_visible()
    expect(page.get_by_test_id("lagging").first).to_contain_text("通报")
    screenshot("assessment-7-scores")

    flipped = IndicatorValue.objects.for_period(PERIOD).get(indicator=INDICATOR, region=best.region)
    assert flipped.status == Status.MET and flipped.score == best.full_score
    assert_page_healthy(page_problems)
