"""Accounts in a real Chromium: a township administrator opens an account for a village clerk, who
must change the one-time password before anything else; another township's account is not there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, expect

from regions.models import AuditEvent, AuditKind, Role, User
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree

if TYPE_CHECKING:
    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Path]
NEW_PASSWORD = "Dacun-Luo2026"


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("user-region")).to_be_attached()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_label("用户名")).to_be_visible()


def test_a_new_clerk_changes_the_one_time_password_before_anything_else(
    transactional_db: None,
    live_server: Any,
    tree: Tree,
    staff: Staff,
    page: Page,
    screenshot: Screenshot,
    page_problems: PageProblems,
) -> None:
    stranger = User.objects.create_user("cunb", password=PASSWORD, role=Role.VILLAGE_CLERK, region=tree.village_b1)
    log_in(page, live_server.url, "xiang", PASSWORD)
    page.get_by_test_id("nav-admin").click()
    page.get_by_test_id("nav-manage").click()
    expect(page.get_by_test_id("account-row")).to_have_count(2)  # cun and cun2, not 湾碧乡's cunb
    expect(page.get_by_test_id("account-table")).not_to_contain_text("cunb")
    # The role list offers only what a township administrator keeps.
    page.get_by_test_id("account-create").click()
    expect(page.get_by_label("角色")).to_contain_text("村级填报员")
    expect(page.get_by_label("角色")).not_to_contain_text("县级")
    page.get_by_label("用户名").fill("luocm")
    page.get_by_label("姓名").fill("罗春明")
    page.get_by_label("角色").select_option(label="村级填报员")
    page.get_by_label("所属区划").select_option(label="\u3000\u3000石丫村（村/社区）")
    page.get_by_role("button", name="保存").click()
    password = page.get_by_test_id("one-time-password").inner_text().strip()
    screenshot("account-one-time-password")
    assert User.objects.get(username="luocm").must_change_password
    # Another township's account id, guessed: not found.
    response = page.goto(f"{live_server.url}/accounts/manage/{stranger.pk}/")
    assert response is not None and response.status == 404
    page.goto(live_server.url + "/accounts/manage/")
    log_out(page)

    log_in(page, live_server.url, "luocm", password)
    expect(page.get_by_test_id("password-change-required")).to_be_visible()
    page.goto(live_server.url + "/households/")
    expect(page.get_by_test_id("password-change-required")).to_be_visible()
    page.get_by_label("当前密码").fill(password)
    page.locator("#id_new_password1").fill("short")
    page.locator("#id_new_password2").fill("short")
    page.get_by_role("button", name="修改密码").click()
    expect(page.get_by_test_id("field-error").first).to_contain_text("密码太短")
    page.get_by_label("当前密码").fill(password)
    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.locator("#id_new_password2").fill(NEW_PASSWORD)
    page.get_by_role("button", name="修改密码").click()
    expect(page.get_by_test_id("message")).to_contain_text("密码已修改")
    page.goto(live_server.url + "/households/")
    expect(page.get_by_test_id("password-change-required")).to_have_count(0)
    expect(page.get_by_test_id("user-region")).to_contain_text("石丫村")
    assert AuditEvent.objects.filter(kind=AuditKind.PASSWORD_CHANGED, username="luocm").exists()
    assert page_problems.console_errors == [] and page_problems.broken_assets == []
