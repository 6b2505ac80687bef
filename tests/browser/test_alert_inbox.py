"""The alert inbox in a real Chromium: from the home page's count to a bulk 排除 with a reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from assessment.alerts import alerts_raise
from assessment.models import Alert, AlertStatus
from households.models import Labour, Relation
from tests.assessment.alert_fixtures import PERIOD, below_threshold, person, refresh, set_threshold
from tests.browser.test_clerk_flow import log_in
from tests.conftest import Staff
from tests.factories import Tree, household, income

if TYPE_CHECKING:
    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser


def test_a_township_admin_goes_from_the_home_count_to_a_bulk_dismissal(
    page: Page,
    live_server: object,
    tree: Tree,
    staff: Staff,
    screenshot: Callable[[str], Path],
    page_problems: PageProblems,
) -> None:
    set_threshold(tree.county)
    below_threshold(staff.village_clerk, tree.village_a1)
    old = household(staff.village_clerk, tree.village_a1, members=[person(birth="19200101")])
    income(staff.village_clerk, old, "2026Q2", wages_migrant_work="300")
    young = household(
        staff.township_admin,
        tree.village_a2,
        members=[person(), person(Relation.SON, birth="20120101", labour=Labour.ORDINARY)],
    )
    income(staff.township_admin, young, "2026Q2", wages_migrant_work="900")
    household(staff.other_township_admin, tree.village_b1, members=[person(birth="19190101")])
    refresh(tree.county)
    alerts_raise(scope=tree.county, period=PERIOD)
    base_url = str(live_server)

    log_in(page, base_url, staff.township_admin.username)
    expect(page.get_by_test_id("todo-alerts-count")).to_have_text("3")
    page.get_by_test_id("todo-alerts").click()
    expect(page.get_by_test_id("alert-total")).to_have_text("3")
    expect(page.get_by_test_id("alert-row")).to_have_count(3)
    screenshot("alert-inbox")

    row = page.get_by_test_id("alert-row").filter(has_text="未满16岁")
    row.locator('input[name="ids"]').check()
    page.get_by_test_id("bulk-dismiss").click()
    expect(page.get_by_test_id("message")).to_contain_text("批量排除须填写原因")

    page.get_by_test_id("alert-row").filter(has_text="未满16岁").locator('input[name="ids"]').check()
    page.get_by_test_id("bulk-reason").fill("已入户核实，该成员在校，劳动技能已更正")
    page.get_by_test_id("bulk-dismiss").click()

    expect(page.get_by_test_id("message")).to_contain_text("已排除1条预警")
    expect(page.get_by_test_id("alert-row")).to_have_count(2)
    assert Alert.objects.get(household=young).status == AlertStatus.DISMISSED

    page.get_by_test_id("alert-row").filter(has_text="低于监测标准").get_by_role("link", name="详情").click()
    page.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("message")).to_contain_text("已核实")
    expect(page.get_by_test_id("start-monitoring")).to_be_visible()
    screenshot("alert-detail")
    assert page_problems.console_errors == [] and page_problems.broken_assets == []
