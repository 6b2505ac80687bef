"""产业到户 as a clerk enters it: from the household page, in a real Chromium, on a desk and on a phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from industries import services
from industries.models import IndustryCategory, Participation, ScaleUnit
from tests.browser.test_clerk_flow import assert_page_healthy, log_in
from tests.conftest import Staff
from tests.factories import Tree, household

if TYPE_CHECKING:
    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Path]


def no_sideways_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def test_a_clerk_enters_a_participation_from_the_household_page(
    transactional_db: None,
    live_server,
    tree: Tree,
    staff: Staff,
    page: Page,
    screenshot: Screenshot,
    page_problems: PageProblems,
) -> None:
    for name, category, unit in [("核桃", "forestry_fruit", "mu"), ("黑山羊", "breeding", "animal")]:
        services.industry_create(
            by=staff.county_admin,
            county=tree.county,
            name=name,
            category=IndustryCategory.objects.get(code=category),
            unit=ScaleUnit.objects.get(code=unit),
        )
    target = household(staff.village_clerk, tree.village_a1, number="532326100201-P001")

    log_in(page, live_server.url, staff.village_clerk.username)
    page.goto(f"{live_server.url}/households/{target.pk}/")
    section = page.get_by_test_id("section-industries")
    expect(section).to_contain_text("尚未登记产业到户")
    section.get_by_role("link", name="登记产业到户").click()

    expect(page.get_by_role("heading", name="登记产业到户")).to_be_visible()
    expect(page.get_by_test_id("form-household")).to_contain_text("532326100201-P001")
    page.get_by_label("年度").fill("2025")
    page.get_by_label("产业").select_option(label="黑山羊（只）")
    page.get_by_label("规模").fill("-12")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("form-errors")).to_have_text("规模：规模不能为负数")
    screenshot("industries-1-participation-refused")

    page.get_by_label("规模").fill("12")
    page.get_by_label("备注").fill("能繁母羊")
    page.get_by_role("button", name="保存").click()

    expect(page).to_have_url(re.compile(rf"/households/{target.pk}/#section-industries$"))
    expect(page.get_by_test_id("message")).to_contain_text("已保存")
    row = page.get_by_test_id("section-industries").get_by_test_id(re.compile(r"^participation-2025-\d+$"))
    expect(row).to_contain_text("2025年")
    expect(row).to_contain_text("黑山羊")
    expect(row.get_by_test_id("participation-scale")).to_have_text("12 只")
    expect(row).to_contain_text("能繁母羊")
    participation = Participation.objects.get(household=target)
    assert (participation.year, participation.scale, participation.industry.name) == (2025, Decimal("12"), "黑山羊")
    screenshot("industries-2-participation-on-household-page")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_test_id("section-industries")).to_contain_text("12 只")
    assert no_sideways_scroll(page)
    page.get_by_test_id("section-industries").get_by_role("link", name="修改").click()
    expect(page.get_by_label("规模")).to_have_value("12")
    assert no_sideways_scroll(page)
    screenshot("industries-3-participation-edit-phone")
    assert_page_healthy(page_problems)
