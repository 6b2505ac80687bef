"""衔接资金 as a county administrator keeps it, in a real Chromium: an allocation entered in 万元, an
industry project with its households, the library gate, a funding line, a payment, the county
overview's figures moving and the county dashboard's 产业发展资金占比 and 支出进度 recomputed; on a desk
(1366 px) and on a phone (390 px) with no sideways scroll."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Locator, Page, expect

from assessment.models import IndicatorValue, RecomputeRequest
from assessment.services import compute_run_now, current_quarter
from assessment.templatetags.assessment_tags import figure
from figures.periods import Quarter
from figures.registry import Unit
from funds.models import Allocation, Beneficiary, Funding, Payment, Project, ProjectStatus
from regions.models import Region
from tests.browser.conftest import dashboard_when_fresh
from tests.browser.test_clerk_flow import assert_page_healthy, log_in
from tests.conftest import Staff
from tests.factories import Tree, household, member

if TYPE_CHECKING:
    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Path]


def no_sideways_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def check_both_widths(page: Page, screenshot: Screenshot, name: str) -> None:
    """The page at 1366 px and at 390 px, neither scrolling sideways, then back to the desk."""
    page.wait_for_load_state("load")  # its scripts loaded before the reload, or their requests are aborted
    for width, height, suffix in [(1366, 900, "desk"), (390, 844, "phone")]:
        page.set_viewport_size({"width": width, "height": height})
        page.reload()
        assert no_sideways_scroll(page), f"{name} scrolls sideways at {width} px"
        screenshot(f"funds-{name}-{suffix}")
    page.set_viewport_size({"width": 1366, "height": 900})


def open_form(page: Page, link: Locator) -> None:
    """Follow a link to a form and let its scripts load (a quick submit would abort their requests)."""
    link.click()
    page.wait_for_load_state("load")


def engine_figures_hook(page: Page) -> None:
    """The overview's target column: the county's year-end targets read from the assessment (none are
    set in this journey, so "—"; tests/funds/test_pages.py sets some)."""
    expect(page.get_by_test_id("share-industry_share").get_by_test_id("share-target")).to_be_visible()


DASHBOARD_TILES = ("fund_industry_share", "fund_spending_progress")


def fund_tiles(page: Page, base_url: str, county: Region, period: Quarter) -> dict[str, str]:
    """The county dashboard's 产业发展资金占比 and 支出进度 tiles as shown, each checked not 数据已过期."""
    dashboard_when_fresh(page, f"{base_url}/assessment/dashboard/?region={county.code}&period={period}")
    shown = {}
    for code in DASHBOARD_TILES:
        tile = page.locator(f'[data-testid="tile"][data-indicator="{code}"]')
        shown[code] = tile.get_by_test_id("tile-value").inner_text()
    page.wait_for_load_state("networkidle")  # its charts, before leaving it
    return shown


def test_a_county_admin_funds_an_industry_project_and_sees_the_overview_change(
    transactional_db: None,
    celery_worker: None,
    live_server,
    settings: Any,
    tree: Tree,
    staff: Staff,
    page: Page,
    screenshot: Screenshot,
    page_problems: PageProblems,
) -> None:
    year = date.today().year
    head = member(birth="19720808")
    household(staff.village_clerk, tree.village_a1, number="532326100201-F001")
    household(staff.village_clerk, tree.village_a1, number="532326100201-F002", members=[head])
    # The county's figures of this quarter, computed before any money; then every change is recomputed as
    # soon as it is saved (the embedded default would otherwise wait a minute after this computation).
    period = current_quarter()
    compute_run_now(scope=tree.county, period=period, reason="test")
    RecomputeRequest.objects.all().delete()  # what the households' registration asked for is computed
    settings.RECOMPUTE_DELAY_SECONDS = 0
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server.url, staff.county_admin.username)
    before = fund_tiles(page, live_server.url, tree.county, period)

    # 资金下达, typed in 万元: the hint under the amount shows the yuan it will be stored as.
    page.get_by_role("navigation").get_by_role("link", name="衔接资金").click()
    expect(page.get_by_role("heading", name=re.compile("衔接资金概况"))).to_be_visible()
    page.get_by_test_id("fund-tabs").get_by_role("link", name="资金下达").click()
    open_form(page, page.get_by_role("link", name="登记资金下达"))
    check_both_widths(page, screenshot, "1-allocation-form")
    page.get_by_label("年度").fill(str(year))
    page.get_by_label("资金级次").select_option(label="中央")
    page.get_by_label("文号").fill(f"云财农〔{year}〕18号")
    page.get_by_label("下达日期").fill(f"{year}-03-01")
    page.get_by_label("金额", exact=False).first.fill("100.0001")
    expect(page.locator("[data-money-hint-for]")).to_have_text("合 1,000,001 元")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("allocation-amount")).to_contain_text("1,000,001.00 元")
    assert Allocation.objects.get().amount == Decimal("1000001.00")

    page.get_by_test_id("fund-tabs").get_by_role("link", name="资金概况").click()
    expect(page.get_by_test_id("total-allocated")).to_have_text("100.0001")
    expect(page.get_by_test_id("total-arranged")).to_have_text("0")

    # A 产业发展 project, entered as 储备.
    page.get_by_test_id("fund-tabs").get_by_role("link", name="项目库").click()
    open_form(page, page.get_by_role("link", name="新增项目"))
    page.get_by_label("项目编号").fill(f"DY{year}-CY-001")
    page.get_by_label("项目名称").fill("大村村核桃提质增效基地")
    page.get_by_label("年度").fill(str(year))
    page.get_by_label("实施区划").select_option(label="\u3000\u3000金碧镇 大村村")
    page.get_by_label("项目类型").select_option(label="\u3000种养殖基地")
    page.get_by_label("联农带农机制").fill("土地流转租金+基地务工+合作社入股分红")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("project-status")).to_have_text("储备")

    # The library gate: no households yet.
    page.get_by_role("button", name="进入“入库”").click()
    expect(page.get_by_test_id("message").last).to_contain_text("产业发展项目须关联受益农户，方可入库")
    expect(page.get_by_test_id("project-status")).to_have_text("储备")

    # Households by 户编号 and by a member's 身份证号; a wrong key is named and nothing is added.
    open_form(page, page.get_by_test_id("beneficiaries-add"))
    page.get_by_label("户编号或家庭成员身份证号").fill(f"532326100201-F001\n{head.id_number}\n532326100201-X999")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("没有找到：532326100201-X999")
    assert Beneficiary.objects.count() == 0
    page.get_by_label("户编号或家庭成员身份证号").fill(f"532326100201-F001\n{head.id_number}")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("beneficiary-count")).to_have_text("2户")
    expect(page.get_by_test_id("beneficiary-row")).to_have_count(2)

    page.get_by_role("button", name="进入“入库”").click()
    expect(page.get_by_test_id("project-status")).to_have_text("入库")
    check_both_widths(page, screenshot, "2-project-in-library")

    # Funded from the allocation, in 万元, then a payment in 元.
    open_form(page, page.get_by_test_id("funding-add"))
    page.get_by_label("资金来源").select_option(index=1)
    page.get_by_label("安排金额", exact=False).first.fill("30")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("funding-row")).to_contain_text("30")
    open_form(page, page.get_by_test_id("payment-add").first)
    page.get_by_label("支付日期").fill(f"{year}-06-15")
    page.get_by_label("支付金额", exact=False).first.fill("120000")
    page.locator("select[name=unit]").select_option("yuan")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("payment-row")).to_contain_text("120,000.00")
    project = Project.objects.get()
    assert project.status == ProjectStatus.LIBRARY
    assert Funding.objects.get().amount == Decimal("300000.00")
    assert Payment.objects.get().amount == Decimal("120000.00")

    # The overview moved: arranged 30 万元 to 产业发展, 12 万元 paid, of 100.0001 万元.
    page.get_by_test_id("fund-tabs").get_by_role("link", name="资金概况").click()
    expect(page.get_by_test_id("total-arranged")).to_have_text("30")
    expect(page.get_by_test_id("total-paid")).to_have_text("12")
    expect(page.get_by_test_id("total-industry-share")).to_have_text("30.00%")
    expect(page.get_by_test_id("total-paid-progress")).to_have_text("12.00%")
    expect(page.get_by_test_id("level-central")).to_contain_text("30.00%")
    engine_figures_hook(page)
    check_both_widths(page, screenshot, "3-overview")

    # The county dashboard: both tiles recomputed after the payment (not 数据已过期), showing what is stored:
    # 300,000 of 1,000,001 to 产业发展, 120,000 of 300,000 paid.
    after = fund_tiles(page, live_server.url, tree.county, period)
    for code in DASHBOARD_TILES:
        stored = IndicatorValue.objects.for_period(period).get(region=tree.county, indicator=code)
        assert after[code] != before[code]
        assert after[code] == figure(stored.value, Unit.PERCENT)
    assert after == {"fund_industry_share": "30.0%", "fund_spending_progress": "40.0%"}
    check_both_widths(page, screenshot, "4-dashboard")
    assert_page_healthy(page_problems)
