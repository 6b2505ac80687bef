"""The ledger as staff use it, in a real Chromium: register a household, enter a quarter, read it back."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator, Page, expect

from households.models import Household, IncomeRecord, Member
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household, id_number, income, member

if TYPE_CHECKING:
    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Path]
MASKED_ID = re.compile(r"^\d{6}\*{8}[\dX]{4}$")


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + "/login/")
    expect(page.get_by_role("heading", name="登录振兴台账")).to_be_visible()
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("user-region")).to_contain_text(username)


def field(row: Locator, name: str) -> Locator:
    """A member row's input by its form field name (members-<n>-<name>)."""
    return row.locator(f'[name$="-{name}"]')


def fill_member(row: Locator, *, name: str, id_no: str, relation: str, labour: str = "普通劳动力") -> None:
    """A new row starts with nothing chosen: the clerk picks the relation and the labour."""
    expect(field(row, "relation")).to_have_value("")
    expect(field(row, "labour")).to_have_value("")
    field(row, "name").fill(name)
    field(row, "id_number").fill(id_no)
    field(row, "relation").select_option(label=relation)
    field(row, "labour").select_option(label=labour)


def type_amount(page: Page, label: str, amount: str) -> None:
    """Click into an empty amount box (0.00 is only a placeholder) and type, as a clerk does."""
    box = page.get_by_label(label, exact=True)
    expect(box).to_have_value("")
    expect(box).to_have_attribute("placeholder", "0.00")
    box.click()
    box.press_sequentially(amount)
    expect(box).to_have_value(amount)


def is_male(id_no: str) -> bool:
    return int(id_no[16]) % 2 == 1


def assert_page_healthy(problems: PageProblems) -> None:
    assert problems.broken_assets == [], "static files failed to load"
    assert problems.console_errors == [], "JavaScript errors in the page"


def test_a_village_clerk_registers_a_household_and_reads_its_per_capita_income(
    transactional_db: None, live_server, tree: Tree, staff: Staff, page: Page, screenshot: Screenshot, page_problems
) -> None:
    number = "532326100201-B001"
    head_id, spouse_id, child_id = id_number("19750305"), id_number("19780612"), id_number("20100901")
    child_relation = "之子" if is_male(child_id) else "之女"

    log_in(page, live_server.url, staff.village_clerk.username)
    page.get_by_role("navigation").get_by_role("link", name="登记农户").click()
    expect(page.get_by_role("heading", name="登记农户")).to_be_visible()

    page.get_by_label("户编号").fill(number)
    page.get_by_label("所属村").select_option(label="金碧镇 大村村")
    page.get_by_label("户类型").select_option(label="脱贫户")
    page.get_by_label("脱贫年度").fill("2019")
    page.get_by_label("联系电话").fill("13800000000")

    rows = page.get_by_test_id("member-row")
    expect(rows).to_have_count(1)
    fill_member(rows.nth(0), name="张建国", id_no=head_id, relation="户主")
    add_member = page.get_by_role("button", name="＋ 添加成员")
    add_member.click()
    add_member.click()
    expect(rows).to_have_count(3)
    fill_member(rows.nth(1), name="李桂英", id_no=spouse_id, relation="配偶")
    fill_member(rows.nth(2), name="张小明", id_no=child_id, relation=child_relation, labour="无劳动力")
    field(rows.nth(2), "schooling").select_option(label="七年级至九年级")
    screenshot("1-household-form-filled")

    page.get_by_test_id("household-form").get_by_role("button", name="保存").click()

    expect(page).to_have_url(re.compile(r"/households/\d+/$"))
    expect(page.get_by_test_id("message")).to_contain_text(f"已登记农户 {number}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("张建国 户")
    expect(page.get_by_test_id("household-size")).to_have_text("3 人")
    member_rows = page.get_by_test_id("members-table").locator("tbody tr")
    expect(member_rows).to_have_count(3)
    for name, relation in [("张建国", "户主"), ("李桂英", "配偶"), ("张小明", child_relation)]:
        expect(member_rows.filter(has_text=name)).to_contain_text(relation)

    page.get_by_role("link", name="录入季度收入").click()
    expect(page.get_by_role("heading", name="录入季度收入")).to_be_visible()
    page.get_by_label("年度").select_option("2025")
    page.get_by_label("季度").select_option(label="第2季度")

    net, per_capita = page.locator("#net"), page.locator("#per-capita")
    expect(net).to_have_text("0.00")
    type_amount(page, "务工收入", "9000")
    expect(net).to_have_text("9,000.00")
    expect(per_capita).to_have_text("3,000.00")
    type_amount(page, "种植业收入", "3000.50")
    type_amount(page, "低保金", "600")
    expect(page.locator("#gross")).to_have_text("12,600.50")
    expect(per_capita).to_have_text("4,200.17")
    type_amount(page, "生产经营性支出", "1200.50")
    expect(page.locator("#costs")).to_have_text("1,200.50")
    expect(net).to_have_text("11,400.00")
    expect(per_capita).to_have_text("3,800.00")
    expect(page.locator('[data-subtotal="operating"]')).to_have_text("3,000.50")
    screenshot("2-income-form-live-totals")

    page.get_by_test_id("income-form").get_by_role("button", name="保存").click()

    expect(page).to_have_url(re.compile(r"/households/\d+/$"))
    expect(page.get_by_test_id("message").first).to_contain_text("已保存2025年第2季度收入")
    expect(page.get_by_test_id("message").first).to_contain_text("人均纯收入 3800.00 元")
    quarter_row = page.get_by_test_id("income-2025Q2")
    expect(quarter_row.get_by_test_id("per-capita")).to_have_text("3,800.00")
    expect(quarter_row).to_contain_text("11,400.00")
    screenshot("3-household-detail-after-income")

    record = IncomeRecord.objects.get(household__number=number, year=2025, quarter=2)
    assert record.household_size == 3
    assert record.net_income == Decimal("11400.00")
    assert record.per_capita_net_income == Decimal("3800.00")
    assert_page_healthy(page_problems)


def test_the_county_official_reads_but_cannot_edit(
    transactional_db: None, live_server, tree: Tree, staff: Staff, page: Page, screenshot: Screenshot, page_problems
) -> None:
    head = member(name="王大山", birth="19700101")
    target = household(
        staff.village_clerk,
        tree.village_a1,
        number="532326100201-B002",
        members=[head, member("spouse", name="赵秀兰", birth="19720202")],
    )
    income(staff.village_clerk, target, "2025Q2", wages_migrant_work="6000")

    log_in(page, live_server.url, staff.county_viewer.username)
    expect(page.get_by_role("navigation").get_by_role("link", name="登记农户")).to_have_count(0)
    page.get_by_role("navigation").get_by_role("link", name="农户台账").click()
    table = page.get_by_test_id("household-table")
    row = table.locator("tbody tr").filter(has_text=target.number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("王大山")
    expect(row).to_contain_text("金碧镇 / 大村村")
    expect(row.locator("td.font-monospace")).to_have_text(MASKED_ID)
    expect(page.get_by_role("link", name="登记农户")).to_have_count(0)
    screenshot("4-county-viewer-household-list")
    assert head.id_number not in page.content()

    row.get_by_role("link", name=target.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("王大山 户")
    expect(page.get_by_test_id("income-2025Q2").get_by_test_id("per-capita")).to_have_text("3,000.00")
    main = page.locator("main")
    expect(main.get_by_role("link", name="录入季度收入")).to_have_count(0)
    expect(main.get_by_role("link", name="修改")).to_have_count(0)  # neither 修改户信息和成员 nor a quarter's 修改
    expect(main.get_by_role("link", name="注销")).to_have_count(0)
    id_cells = page.get_by_test_id("members-table").locator("tbody td.font-monospace")
    expect(id_cells).to_have_count(2)
    for cell in id_cells.all():
        expect(cell).to_have_text(MASKED_ID)
    assert head.id_number not in page.content()
    screenshot("5-county-viewer-household-detail")

    response = page.goto(f"{live_server.url}/households/{target.pk}/edit/")
    assert response is not None and response.status == 403
    screenshot("6-county-viewer-edit-forbidden")
    assert_page_healthy(page_problems)


def test_a_clerk_sees_why_a_form_was_refused(
    transactional_db: None, live_server, tree: Tree, staff: Staff, page: Page, screenshot: Screenshot, page_problems
) -> None:
    valid = id_number("19750305")
    wrong_check = valid[:-1] + ("1" if valid[-1] == "0" else "0")

    log_in(page, live_server.url, staff.village_clerk.username)
    page.goto(live_server.url + "/households/new/")
    page.get_by_label("户编号").fill("532326100201-B003")
    page.get_by_label("所属村").select_option(label="金碧镇 大村村")
    page.get_by_label("户类型").select_option(label="脱贫户")
    page.get_by_label("脱贫年度").fill("2019")
    rows = page.get_by_test_id("member-row")
    fill_member(rows.nth(0), name="张三", id_no=wrong_check, relation="户主")
    page.get_by_role("button", name="＋ 添加成员").click()
    fill_member(rows.nth(1), name="李梅", id_no=id_number("19780612"), relation="户主")
    save = page.get_by_test_id("household-form").get_by_role("button", name="保存")
    save.click()

    # Both problems are reported in one round: the 身份证号 on its own row, and the 户主 rule.
    expect(page.get_by_role("heading", name="登记农户")).to_be_visible()
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator(".errorlist")).to_contain_text("身份证号校验码错误")
    expect(page.get_by_test_id("member-errors")).to_contain_text("一户只能有一名户主")
    expect(field(rows.nth(1), "name")).to_have_value("李梅")
    screenshot("7-refused-id-number")

    # With the 身份证号 fixed, the 户主 rule still holds the form back.
    field(rows.nth(0), "id_number").fill(valid)
    save.click()
    expect(page.get_by_test_id("member-errors")).to_contain_text("一户只能有一名户主")
    expect(page.locator(".errorlist")).to_have_count(0)
    screenshot("8-refused-two-heads")

    assert not Household.objects.exists()
    assert not Member.objects.exists()
    assert_page_healthy(page_problems)
