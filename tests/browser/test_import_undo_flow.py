"""A batch from upload to undo, in a real Chromium: an unknown column warned, confirmed once from two tabs, undone."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openpyxl
import pytest
from playwright.sync_api import Dialog, Page, expect

from households.models import Household, Member
from tests.browser.test_clerk_flow import assert_page_healthy, log_in
from tests.browser.test_import_flow import HEADS, NUMBERS, roster_rows, upload, wait_for_check
from tests.conftest import Staff
from tests.factories import Tree
from tests.households.excel.test_import import ROSTER_HEADER
from workbooks.models import ImportBatch, ImportStatus

if TYPE_CHECKING:
    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Path]

UNKNOWN_COLUMN = "联系方式"
# ROSTER_HEADER has ten columns, so the extra one is the eleventh: K.
UNKNOWN_COLUMN_WARNED = "联系方式（K列）"
SECOND_PHONES = ["13911110001", "13911110002", "13911110003"]
ALREADY_CONFIRMED = "该批次已确认过，正在导入或已处理，无需重复确认。"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    """Uploaded files go to the test's own folder, not the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


def write_roster_with_contact_column(path: Path, village_code: str) -> Path:
    """The 3-household roster plus a 联系方式 column the register does not know, holding other phone numbers."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "花名册"
    sheet.append(["大村村花名册"])
    sheet.append([*ROSTER_HEADER, UNKNOWN_COLUMN])
    for row in roster_rows(village_code):
        sheet.append([*row, SECOND_PHONES[NUMBERS.index(row[1])]])
    book.save(path)
    return path


def household_count_heading(page: Page, count: int) -> None:
    page.get_by_role("navigation").get_by_role("link", name="农户台账").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"共 {count} 户")


def test_a_clerk_imports_a_roster_with_an_unknown_column_confirms_it_once_from_two_tabs_and_undoes_it(
    transactional_db: None,
    celery_worker: None,
    live_server,
    tmp_path: Path,
    tree: Tree,
    staff: Staff,
    page: Page,
    screenshot: Screenshot,
    screenshot_dir: Path,
    page_problems: PageProblems,
) -> None:
    roster = write_roster_with_contact_column(tmp_path / "大村村花名册.xlsx", tree.village_a1.code)
    log_in(page, live_server.url, staff.village_clerk.username)

    # 1. The preview warns, in yellow, that the 联系方式 column will not be imported, and counts what will be.
    upload(page, roster)
    wait_for_check(page)
    status = page.get_by_test_id("batch-status-label")
    expect(status).to_have_text("待确认导入")
    warning = page.get_by_test_id("ignored-columns")
    expect(warning).to_be_visible()
    expect(warning).to_have_class(re.compile(r"\balert-warning\b"))
    expect(warning).to_contain_text(f"以下列未被识别，其中的数据不会导入：{UNKNOWN_COLUMN_WARNED}")
    expect(warning).to_contain_text("联系电话")  # what to rename it to
    expect(page.get_by_test_id("count-households-new")).to_have_text("3")
    expect(page.get_by_test_id("count-members-new")).to_have_text("7")
    expect(page.get_by_test_id("errors")).to_have_count(0)
    expect(page.get_by_role("button", name="确认导入")).to_be_visible()
    screenshot("import-undo-1-preview-ignored-column")
    batch = ImportBatch.objects.get()
    assert batch.ignored_columns == [UNKNOWN_COLUMN_WARNED]
    assert not Household.objects.exists()
    batch_url = page.url

    # 2. A second tab on the same preview, opened before the first one confirms.
    second_tab = page.context.new_page()
    second_tab.goto(batch_url)
    expect(second_tab.get_by_test_id("batch-status-label")).to_have_text("待确认导入")
    second_confirm = second_tab.get_by_role("button", name="确认导入")
    expect(second_confirm).to_be_visible()

    # 3. The first tab confirms.
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_test_id("applied")).to_be_visible(timeout=30_000)
    expect(status).to_have_text("已导入")
    expect(page.get_by_role("button", name="撤销本批次")).to_be_visible()
    screenshot("import-undo-2-applied")
    assert Household.objects.count() == 3 and Member.objects.count() == 7
    history_rows = Household.history.count() + Member.history.count()

    # 4. The second tab's stale 确认导入 is told the batch was confirmed already, and writes nothing more.
    second_confirm.click()
    expect(second_tab.get_by_test_id("message")).to_have_text(ALREADY_CONFIRMED)
    expect(second_tab.get_by_test_id("batch-status-label")).to_have_text("已导入")
    expect(second_tab.get_by_role("button", name="确认导入")).to_have_count(0)
    second_tab.screenshot(path=str(screenshot_dir / "import-undo-3-second-tab-refused.png"), full_page=True)
    # The form posted once more, straight from the page (a double click that got through), changes nothing either.
    answer = page.request.post(
        f"{batch_url}confirm/", form={"csrfmiddlewaretoken": csrf_token(page)}, headers={"Referer": batch_url}
    )
    assert answer.status == 200 and answer.url == batch_url, (answer.status, answer.url)
    assert ALREADY_CONFIRMED in answer.text()
    assert Household.objects.count() == 3 and Member.objects.count() == 7
    assert Household.history.count() + Member.history.count() == history_rows
    assert ImportBatch.objects.get().status == ImportStatus.APPLIED

    # 5. 农户台账 lists the three households, with the 联系电话 column's numbers, not the ignored ones.
    household_count_heading(page, 3)
    table_rows = page.get_by_test_id("household-table").locator("tbody tr")
    expect(table_rows).to_have_count(3)
    for number, head in zip(NUMBERS, HEADS, strict=True):
        expect(table_rows.filter(has_text=number)).to_contain_text(head)
    screenshot("import-undo-4-household-list")
    assert set(Household.objects.values_list("phone", flat=True)) == {"13800000000"}

    # 6. Back to the batch from the upload page's list; cancelling the confirm dialog undoes nothing.
    page.get_by_role("navigation").get_by_role("link", name="Excel导入").click()
    batches = page.get_by_test_id("batch-table").locator("tbody tr")
    expect(batches).to_have_count(1)
    expect(batches.first).to_contain_text("已导入")
    batches.first.get_by_role("link", name="大村村花名册.xlsx").click()
    expect(page).to_have_url(batch_url)
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="撤销本批次").click()
    expect(status).to_have_text("已导入")
    assert dialogs == ["确定撤销整个批次？"]
    assert Household.objects.count() == 3

    # 7. 撤销本批次, confirmed: 已撤销, and the households are gone.
    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="撤销本批次").click()
    expect(status).to_have_text("已撤销")
    expect(page.get_by_test_id("message")).to_have_text(f"已撤销导入批次#{batch.pk}")
    expect(page.get_by_role("button", name="撤销本批次")).to_have_count(0)
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    screenshot("import-undo-5-rolled-back")
    assert dialogs == ["确定撤销整个批次？", "确定撤销整个批次？"]
    assert ImportBatch.objects.get().status == ImportStatus.ROLLED_BACK
    assert not Household.objects.exists() and not Member.objects.exists()

    # 8. The second tab, still showing 已导入, cannot undo it again.
    second_tab.once("dialog", lambda dialog: dialog.accept())
    second_tab.get_by_role("button", name="撤销本批次").click()
    expect(second_tab.get_by_test_id("message")).to_have_text("只有已导入的批次可以撤销")
    expect(second_tab.get_by_test_id("batch-status-label")).to_have_text("已撤销")

    household_count_heading(page, 0)
    expect(page.get_by_test_id("household-table").locator("tbody tr")).to_have_text(["没有符合条件的农户"])
    screenshot("import-undo-6-household-list-empty")
    assert_page_healthy(page_problems)


def csrf_token(page: Page) -> str:
    """The CSRF token Django set for this browser session."""
    (token,) = [cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "csrftoken"]
    return token
