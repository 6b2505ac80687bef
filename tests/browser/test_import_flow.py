"""Excel import as a village clerk does it, in a real Chromium: upload a roster, read the preview, fix, confirm."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openpyxl
import pytest
from playwright.sync_api import Page, Route, expect

from households.models import Household, Member
from tests.browser.test_clerk_flow import assert_page_healthy, log_in
from tests.conftest import Staff
from tests.factories import Tree, id_number
from tests.households.excel.test_import import ROSTER_HEADER
from workbooks import batches as import_batches
from workbooks.batches import import_batch_check
from workbooks.models import ImportBatch, ImportStatus

if TYPE_CHECKING:
    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Path]

FIRST_DATA_ROW = 3  # row 1: the title, row 2: the header
LAST_DATA_ROW = 9  # 7 member rows
NUMBERS = ["532326100201-D001", "532326100201-D002", "532326100201-D003"]
HEADS = ["张建华", "李国强", "王德福"]
BAD_ROW = 7  # the second household's spouse
ID_COLUMN = ROSTER_HEADER.index("身份证号")


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    """Uploaded files go to the test's own folder, not the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


def roster_rows(village_code: str) -> list[list[Any]]:
    """3 households, 7 members of 大村村, one row per member as the roster template lays them out."""
    families = [
        ("脱贫户", 2019, [("张建华", "19720315", "M", "户主", "普通劳动力"),
                        ("李秀兰", "19740822", "F", "配偶", "普通劳动力"),
                        ("张小军", "20100901", "M", "之子", "无劳动力")]),
        ("脱贫户", 2020, [("李国强", "19680506", "M", "户主", "普通劳动力"),
                        ("王桂芬", "19700119", "F", "配偶", "普通劳动力")]),
        ("一般农户", None, [("王德福", "19650210", "M", "户主", "普通劳动力"),
                          ("王丽", "19920714", "F", "之女", "技能劳动力")]),
    ]  # fmt: skip
    rows = []
    for number, head, (household_type, lifted_year, members) in zip(NUMBERS, HEADS, families, strict=True):
        for name, birth, sex, relation, labour in members:
            id_no = id_number(birth, sex=sex)
            rows.append(
                [village_code, number, head, household_type, lifted_year, "13800000000", name, id_no, relation, labour]
            )
    return rows


def write_roster(path: Path, rows: list[list[Any]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "花名册"
    sheet.append(["大村村花名册"])
    sheet.append(ROSTER_HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def bad_roster(tmp_path: Path, tree: Tree) -> tuple[Path, list[list[Any]], str]:
    """The roster with a wrong check digit in BAD_ROW's 身份证号; also returns the rows and the right number."""
    rows = roster_rows(tree.village_a1.code)
    good_id = rows[BAD_ROW - FIRST_DATA_ROW][ID_COLUMN]
    rows[BAD_ROW - FIRST_DATA_ROW][ID_COLUMN] = good_id[:-1] + ("1" if good_id[-1] == "0" else "0")
    return write_roster(tmp_path / "大村村花名册.xlsx", rows), rows, good_id


def upload(page: Page, path: Path) -> None:
    """Excel导入 from the navbar, 花名册, the file, 上传并校验; lands on the batch page."""
    page.get_by_role("navigation").get_by_role("link", name="Excel导入").click()
    expect(page.get_by_role("heading", name="Excel 导入")).to_be_visible()
    form = page.get_by_test_id("upload-form")
    form.get_by_label("花名册", exact=True).check()
    form.get_by_label("选择文件").set_input_files(path)
    form.get_by_role("button", name="上传并校验").click()
    expect(page).to_have_url(re.compile(r"/imports/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("导入批次 #")


def wait_for_check(page: Page) -> None:
    """The check may have finished before the page loaded (in-process Celery) or still be running."""
    expect(page.get_by_test_id("counts")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("batch-progress")).to_have_count(0)


def test_a_village_clerk_imports_a_roster_after_fixing_the_row_the_preview_flagged(
    transactional_db: None,
    celery_worker: None,
    live_server,
    tmp_path: Path,
    tree: Tree,
    staff: Staff,
    page: Page,
    screenshot: Screenshot,
    page_problems: PageProblems,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    roster, rows, good_id = bad_roster(tmp_path, tree)
    log_in(page, live_server.url, staff.village_clerk.username)

    # 1. One bad 身份证号: the preview names its row, column and reason, and offers no way to import.
    upload(page, roster)
    wait_for_check(page)
    status = page.get_by_test_id("batch-status-label")
    expect(status).to_have_text("有错误，不能导入")
    expect(page.locator("main")).to_contain_text("工作表“花名册”，表头在第2行，7 行数据")
    bad_id_error = page.get_by_test_id("errors").locator("tbody tr").filter(has_text="校验码")
    expect(bad_id_error).to_have_count(1)
    expect(bad_id_error.locator("td")).to_have_text(
        ["花名册", str(BAD_ROW), "身份证号", re.compile("D002"), re.compile("身份证号校验码错误")]
    )
    # 农户 新增 / 修改 / 无变化 / 有错误: the first and third households are fine, the second is held back.
    expect(page.get_by_test_id("count-households").locator("td")).to_have_text(["2", "0", "0", "1"])
    expect(page.get_by_test_id("count-members-new")).to_have_text("5")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    screenshot("import-1-preview-with-error")
    first_batch_url = page.url
    # On a phone the errors table scrolls inside its card; the page itself does not scroll sideways.
    desktop = page.viewport_size
    assert desktop is not None
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size(desktop)

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("下载错误说明")).click()
    download = download_info.value
    assert download.suggested_filename == "大村村花名册_错误说明.xlsx"
    annotated_path = tmp_path / download.suggested_filename
    download.save_as(annotated_path)
    sheet = openpyxl.load_workbook(annotated_path)["花名册"]
    assert [cell.value for cell in sheet[2]] == [*ROSTER_HEADER, "错误说明"]
    note_column = len(ROSTER_HEADER) + 1
    notes = {row: sheet.cell(row=row, column=note_column).value for row in range(FIRST_DATA_ROW, LAST_DATA_ROW + 1)}
    bad_note = notes.pop(BAD_ROW)
    assert isinstance(bad_note, str) and bad_note.startswith("身份证号：") and "校验码" in bad_note, bad_note
    assert set(notes.values()) == {None}, notes
    assert not Household.objects.exists() and not Member.objects.exists()

    # 2. The fixed file. Its check is held back as a busy worker would, so the page shows the progress bar,
    # polls, and reloads itself once the check is done.
    rows[BAD_ROW - FIRST_DATA_ROW][ID_COLUMN] = good_id
    write_roster(roster, rows)
    queued: list[int] = []

    # The broker takes the task and no worker runs it yet.
    def held_back(task: object, batch_id: int, *args: object) -> bool:
        queued.append(batch_id)
        return True

    monkeypatch.setattr(import_batches, "send_task", held_back)
    upload(page, roster)
    progress = page.get_by_test_id("batch-progress")
    expect(progress).to_be_visible()
    expect(progress).to_contain_text("排队中")
    expect(page.get_by_test_id("counts")).to_have_count(0)
    screenshot("import-2-progress")
    (batch_id,) = queued
    monkeypatch.undo()

    def worker(route: Route) -> None:
        """The worker runs while the page's poll waits, so the check and the page never share the database."""
        import_batch_check(batch_id=batch_id)
        route.continue_()

    batch_url = re.compile(rf"/imports/{batch_id}/$")
    page.route(batch_url, worker)
    wait_for_check(page)
    page.unroute(batch_url)
    expect(status).to_have_text("待确认导入")
    expect(page.get_by_test_id("count-households-new")).to_have_text("3")
    expect(page.get_by_test_id("count-members-new")).to_have_text("7")
    expect(page.get_by_test_id("errors")).to_have_count(0)
    screenshot("import-3-preview-ready")
    assert not Household.objects.exists()

    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_test_id("applied")).to_be_visible(timeout=30_000)
    expect(status).to_have_text("已导入")
    screenshot("import-4-applied")
    assert ImportBatch.objects.get(pk=batch_id).status == ImportStatus.APPLIED
    assert Household.objects.count() == 3 and Member.objects.count() == 7

    # 3. 农户台账 lists the three households.
    page.get_by_role("navigation").get_by_role("link", name="农户台账").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("共 3 户")
    table_rows = page.get_by_test_id("household-table").locator("tbody tr")
    expect(table_rows).to_have_count(3)
    for number, head, size in zip(NUMBERS, HEADS, ["3", "2", "2"], strict=True):
        row = table_rows.filter(has_text=number)
        expect(row).to_have_count(1)
        expect(row).to_contain_text(head)
        expect(row).to_contain_text("金碧镇 / 大村村")
        expect(row.locator("td").nth(5)).to_have_text(size)
    screenshot("import-5-household-list")

    # 4. The upload page lists both batches; the same file again changes nothing and says so.
    page.get_by_role("navigation").get_by_role("link", name="Excel导入").click()
    batches = page.get_by_test_id("batch-table").locator("tbody tr")
    expect(batches).to_have_count(2)
    expect(batches.nth(0)).to_contain_text("已导入")
    expect(batches.nth(1)).to_contain_text("有错误，不能导入")
    screenshot("import-6-upload-page-batches")
    upload(page, roster)
    wait_for_check(page)
    assert page.url != first_batch_url
    expect(status).to_have_text("无变化")
    expect(page.get_by_test_id("unchanged")).to_contain_text("无需导入")
    expect(page.get_by_test_id("count-members").locator("td").nth(2)).to_have_text("7")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    screenshot("import-7-unchanged")
    assert Household.objects.count() == 3 and Member.objects.count() == 7
    assert_page_healthy(page_problems)


def test_a_bad_id_number_is_reported_once_and_counted_against_its_member(
    transactional_db: None, celery_worker: None, live_server, tmp_path: Path, tree: Tree, staff: Staff, page: Page
) -> None:
    roster, _rows, _good_id = bad_roster(tmp_path, tree)
    log_in(page, live_server.url, staff.village_clerk.username)
    upload(page, roster)
    wait_for_check(page)
    expect(page.get_by_test_id("errors").locator("tbody tr")).to_have_count(1, timeout=1_000)
    expect(page.get_by_test_id("count-members").locator("td").nth(3)).to_have_text("1", timeout=1_000)
