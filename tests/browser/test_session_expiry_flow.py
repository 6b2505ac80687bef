"""A session that ends while a clerk types, idle or at its absolute limit, loses nothing: a warning, a
re-login that says why, the draft restored."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, expect

from households.models import IncomeRecord
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household

if TYPE_CHECKING:
    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Path]


def log_in(page: Page) -> None:
    expect(page.get_by_role("heading", name="登录振兴台账")).to_be_visible()
    page.get_by_label("用户名").fill("cun")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_income_typed_when_the_session_goes_idle_comes_back_after_logging_in_again(
    transactional_db: None,
    live_server: Any,
    settings: Any,
    tree: Tree,
    staff: Staff,
    page: Page,
    screenshot: Screenshot,
    page_problems: PageProblems,
) -> None:
    # Typing is not a request: a clerk who types for longer than the idle limit is warned, and 继续 keeps them in.
    settings.SESSION_IDLE_SECONDS = 14
    settings.SESSION_EXPIRY_WARNING_SECONDS = 10
    target = household(staff.village_clerk, tree.village_a1)
    form_url = f"{live_server.url}/households/{target.pk}/income/new/"

    page.goto(form_url)
    log_in(page)
    expect(page).to_have_url(form_url)
    warning = page.get_by_test_id("session-warning")
    expect(warning).to_be_hidden()
    page.get_by_label("务工收入", exact=True).fill("6000")
    page.get_by_label("低保金", exact=True).fill("600")

    # Ten seconds before the idle limit the warning shows; 继续 restarts the limit and hides it.
    expect(warning).to_contain_text("较长时间没有操作，登录将在", timeout=15_000)
    screenshot("session-1-warning")
    warning.get_by_role("button", name="继续").click()
    expect(warning).to_be_hidden()
    expect(warning).to_contain_text("登录将在", timeout=15_000)

    # Not kept this time: the session ends, the page says so, and saving leads to the login, which says why.
    expect(warning).to_contain_text("登录已过期", timeout=20_000)
    expect(warning.get_by_role("link", name="重新登录")).to_be_visible()
    screenshot("session-2-expired")
    page.get_by_test_id("income-form").get_by_role("button", name="保存").click()
    expect(page).to_have_url(re.compile(r"/login/\?next="))
    expect(page.get_by_test_id("message")).to_contain_text("已超过 14 秒没有操作，为保护数据已自动退出登录")
    screenshot("session-2-login-says-why")
    assert IncomeRecord.objects.count() == 0

    log_in(page)
    expect(page).to_have_url(form_url)
    expect(page.get_by_test_id("draft-restored")).to_contain_text("已恢复未提交的内容")
    expect(page.get_by_label("务工收入", exact=True)).to_have_value("6000")
    expect(page.get_by_label("低保金", exact=True)).to_have_value("600")
    expect(page.locator("#net")).to_have_text("6,600.00")
    screenshot("session-3-draft-restored")

    page.get_by_test_id("income-form").get_by_role("button", name="保存").click()
    expect(page).to_have_url(f"{live_server.url}/households/{target.pk}/")
    record = IncomeRecord.objects.get()
    assert (record.wages_migrant_work, record.transfer_minimum_living) == (Decimal("6000"), Decimal("600"))

    # Saved: the draft is gone, so the form of another quarter opens empty.
    settings.SESSION_IDLE_SECONDS = 3600
    page.goto(form_url)
    expect(page.get_by_test_id("income-form")).to_be_visible()
    expect(page.get_by_test_id("draft-restored")).to_have_count(0)
    expect(page.get_by_label("务工收入", exact=True)).to_have_value("")
    assert page_problems.console_errors == [] and page_problems.broken_assets == []


def test_the_absolute_limit_is_not_extended_by_activity_and_the_draft_survives_it(
    transactional_db: None,
    live_server: Any,
    settings: Any,
    tree: Tree,
    staff: Staff,
    page: Page,
    screenshot: Screenshot,
    page_problems: PageProblems,
) -> None:
    settings.SESSION_EXPIRY_WARNING_SECONDS = 10
    target = household(staff.village_clerk, tree.village_a1)
    form_url = f"{live_server.url}/households/{target.pk}/income/new/"
    page.goto(form_url)
    log_in(page)
    expect(page).to_have_url(form_url)
    # Sixteen seconds from the login, from here on (the session cookie keeps the 8 hours it was given at the
    # login, as a real one outlives the limit, so the server still sees the session and can say why it ends).
    settings.SESSION_COOKIE_AGE = 16
    page.get_by_label("务工收入", exact=True).fill("7000")

    # Reloading the page is activity, but it does not move the end of the session: the warning says the
    # time is up and offers no 继续.
    page.reload()
    warning = page.get_by_test_id("session-warning")
    expect(warning).to_contain_text("登录时长即将达到上限，登录将在", timeout=15_000)
    expect(warning.get_by_role("button", name="继续")).to_be_hidden()
    screenshot("session-4-absolute-warning")
    expect(warning).to_contain_text("登录时长已满，登录已过期", timeout=20_000)

    page.get_by_test_id("income-form").get_by_role("button", name="保存").click()
    expect(page).to_have_url(re.compile(r"/login/\?next="))
    expect(page.get_by_test_id("message")).to_contain_text("登录已满 16 秒，为保护数据已自动退出，请重新登录")
    assert IncomeRecord.objects.count() == 0

    settings.SESSION_COOKIE_AGE = 3600
    log_in(page)
    expect(page).to_have_url(form_url)
    expect(page.get_by_test_id("draft-restored")).to_contain_text("已恢复未提交的内容")
    expect(page.get_by_label("务工收入", exact=True)).to_have_value("7000")
    page.get_by_test_id("income-form").get_by_role("button", name="保存").click()
    expect(page).to_have_url(f"{live_server.url}/households/{target.pk}/")
    assert IncomeRecord.objects.get().wages_migrant_work == Decimal("7000")
    assert page_problems.console_errors == [] and page_problems.broken_assets == []


def test_a_household_form_draft_keeps_added_member_rows_and_can_be_discarded(
    transactional_db: None,
    live_server: Any,
    tree: Tree,
    staff: Staff,
    page: Page,
    page_problems: PageProblems,
) -> None:
    form_url = f"{live_server.url}/households/new/"
    page.goto(form_url)
    log_in(page)
    page.get_by_label("户编号").fill("532326100201-D001")
    page.get_by_role("button", name="＋ 添加成员").click()
    rows = page.get_by_test_id("member-row")
    rows.nth(1).locator('[name$="-name"]').fill("李桂英")
    rows.nth(1).locator('[name$="-relation"]').select_option(label="配偶")

    # Leaving the page without saving (a closed tab, a dropped connection) keeps what was typed.
    page.goto(f"{live_server.url}/households/")
    page.goto(form_url)
    expect(page.get_by_test_id("draft-restored")).to_be_visible()
    expect(rows).to_have_count(2)
    expect(page.get_by_label("户编号")).to_have_value("532326100201-D001")
    expect(rows.nth(1).locator('[name$="-name"]')).to_have_value("李桂英")
    expect(rows.nth(1).locator('[name$="-relation"]')).to_have_value("spouse")

    page.get_by_test_id("draft-restored").get_by_role("button", name="放弃恢复").click()
    expect(page.get_by_test_id("draft-restored")).to_have_count(0)
    expect(page.get_by_label("户编号")).to_have_value("")
    expect(rows).to_have_count(1)

    # Signing out removes the user's drafts from the browser.
    page.get_by_label("户编号").fill("532326100201-D002")
    page.get_by_role("button", name="退出").click()
    assert page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('zhenxing-draft:'))") == []
    assert page_problems.console_errors == [] and page_problems.broken_assets == []


def test_a_draft_typed_before_someone_else_saved_the_record_is_not_applied_silently(
    transactional_db: None,
    live_server: Any,
    tree: Tree,
    staff: Staff,
    page: Page,
    page_problems: PageProblems,
) -> None:
    from households.services import household_update

    target = household(staff.village_clerk, tree.village_a1, address="原住址")
    form_url = f"{live_server.url}/households/{target.pk}/edit/"
    page.goto(form_url)
    log_in(page)
    page.get_by_label("住址").fill("草稿住址")

    target.refresh_from_db()
    target.address = "他人保存的住址"
    household_update(by=staff.township_admin, household=target, expected_version=target.version)

    page.goto(form_url)
    outdated = page.get_by_test_id("draft-outdated")
    expect(outdated).to_contain_text("该记录此后已被他人修改，未自动恢复")
    expect(page.get_by_label("住址")).to_have_value("他人保存的住址")
    outdated.get_by_role("button", name="仍然恢复（覆盖他人的修改）").click()
    expect(page.get_by_label("住址")).to_have_value("草稿住址")
    assert page_problems.console_errors == [] and page_problems.broken_assets == []


def test_the_warning_on_a_phone_leaves_the_forms_save_button_reachable(
    transactional_db: None,
    live_server: Any,
    settings: Any,
    tree: Tree,
    staff: Staff,
    page: Page,
    screenshot: Screenshot,
    page_problems: PageProblems,
) -> None:
    # The warning shows from the first page on.
    settings.SESSION_COOKIE_AGE = 600
    settings.SESSION_EXPIRY_WARNING_SECONDS = 900
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/households/new/")
    log_in(page)
    expect(page.get_by_test_id("session-warning")).to_contain_text("登录将在")
    save = page.get_by_test_id("household-form").get_by_role("button", name="保存")
    # At the very bottom of the page the warning, fixed to the screen's bottom, must not lie over 保存.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    screenshot("session-warning-phone-bottom")
    on_top = save.evaluate(
        """(button) => { const box = button.getBoundingClientRect();
             return button.contains(document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2)); }"""
    )
    assert on_top, "the session warning covers the form's 保存 button"
    save.click()
    expect(page.get_by_test_id("error-summary")).to_be_visible()
    assert page_problems.console_errors == [] and page_problems.broken_assets == []
