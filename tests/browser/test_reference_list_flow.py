"""A county's own 风险类型 in a real Chromium: the county administrator adds one on the 参考列表 page, and
a village clerk of the county then picks it when registering a monitoring case."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, expect

from households.models import MonitoringCase, RiskType
from tests.browser.test_account_flow import log_in, log_out
from tests.browser.test_clerk_flow import assert_page_healthy
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household

if TYPE_CHECKING:
    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Path]
PHONE, DESK = 390, 1366


def test_a_county_admin_adds_a_risk_type_that_a_clerk_then_picks_on_a_case(
    transactional_db: None,
    live_server: Any,
    tree: Tree,
    staff: Staff,
    page: Page,
    screenshot: Screenshot,
    page_problems: PageProblems,
) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    base = live_server.url
    page.set_viewport_size({"width": DESK, "height": 900})
    log_in(page, base, "xianadmin", PASSWORD)
    page.get_by_test_id("nav-admin").click()
    page.get_by_test_id("nav-reference-lists").click()
    risks = page.get_by_test_id("reference-risk-types")
    expect(risks.get_by_test_id("reference-row").filter(has_text="因病")).to_contain_text("全省统一")
    page.get_by_test_id("reference-create-risk-types").click()
    page.get_by_label("风险类型名称").fill("因病")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("field-error")).to_have_text("风险类型名称“因病”已存在")
    page.get_by_label("风险类型名称").fill("因旱灾")
    page.get_by_role("button", name="保存").click()
    row = page.get_by_test_id("reference-risk-types").get_by_test_id("reference-row").filter(has_text="因旱灾")
    expect(row).to_contain_text("本县")
    expect(row).to_contain_text("启用")
    for width in (DESK, PHONE):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(f"reference-lists-{width}")
    page.set_viewport_size({"width": DESK, "height": 900})
    log_out(page)

    log_in(page, base, "cun", PASSWORD)
    page.goto(base + f"/households/{target.pk}/")
    page.get_by_role("link", name="识别纳入监测").click()
    page.get_by_label("因旱灾").check()
    for width in (DESK, PHONE):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(f"case-form-county-risk-{width}")
    page.set_viewport_size({"width": DESK, "height": 900})
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已纳入监测")).to_be_visible()
    expect(page.locator("body")).to_contain_text("风险类型：因旱灾")
    case = MonitoringCase.objects.get(household=target)
    assert list(case.risk_types.values_list("name", flat=True)) == ["因旱灾"]
    assert RiskType.objects.get(name="因旱灾").region == tree.county
    assert_page_healthy(page_problems)
