"""What a clerk types into an amount reaches the server as typed: a slip of the finger is refused with a
message naming the field, never turned into an empty box (and so 0) by the browser on the way."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, expect

from households.models import IncomeRecord
from tests.browser.test_clerk_flow import assert_page_healthy, log_in
from tests.conftest import Staff
from tests.factories import Tree, household

if TYPE_CHECKING:
    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser


def test_an_amount_typed_with_a_stray_minus_is_refused_in_words_not_saved_as_zero(
    transactional_db: None, live_server: Any, tree: Tree, staff: Staff, page: Page, page_problems: PageProblems
) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    log_in(page, str(live_server), staff.village_clerk.username)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/households/{target.pk}/income/new/")
    wages = page.get_by_label("务工收入", exact=True)
    # A phone offers its number pad with a decimal point for every amount.
    assert wages.get_attribute("inputmode") == "decimal"
    # Typed key by key, as on a phone: "3000-" is what the clerk sees in the box.
    wages.click()
    page.keyboard.type("3000-")
    expect(wages).to_have_value("3000-")
    page.get_by_label("种植业收入", exact=True).fill("1200")
    page.get_by_test_id("income-form").get_by_role("button", name="保存").click()

    expect(page.get_by_test_id("error-summary")).to_contain_text("务工收入请填写数字")
    expect(page.locator("#id_wages_migrant_work_error")).to_contain_text("务工收入请填写数字")
    expect(wages).to_have_value("3000-")
    assert not IncomeRecord.objects.filter(household=target).exists()
    assert_page_healthy(page_problems)
