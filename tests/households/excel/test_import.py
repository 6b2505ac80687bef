"""The import flow end to end on real workbooks: preview, confirm all or nothing, re-import, undo."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from households.excel.models import ExportRecord
from households.models import Household, IncomeRecord, Member
from households.services import household_update
from regions.models import User
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household, id_number, income
from workbooks.batches import (
    AlreadyClaimed,
    import_batch_check,
    import_batch_claim,
    import_batch_confirm,
    import_batch_create,
    import_batch_rollback,
)
from workbooks.models import ImportBatch, ImportStatus

ROSTER_HEADER = [
    "区划代码",
    "户编号",
    "户主姓名",
    "户类型",
    "脱贫年度",
    "联系电话",
    "成员姓名",
    "身份证号",
    "与户主关系",
    "劳动技能",
]


def workbook(rows: list[list[Any]], header: list[str] = ROSTER_HEADER, title: str | None = "大村村花名册") -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "花名册"
    if title:
        sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def family(code: str, number: str, head: str, size: int = 2) -> list[list[Any]]:
    relations = ["户主", "配偶", "之子", "之女"]
    rows = []
    for index in range(size):
        name = head if index == 0 else f"{head[0]}{'甲乙丙'[index - 1]}"
        birth = "19700101" if index < 2 else "20100101"
        rows.append(
            [
                code,
                number,
                head,
                "脱贫户",
                2019,
                "13800000000",
                name,
                id_number(birth),
                relations[index],
                "普通劳动力" if index < 2 else "无劳动力",
            ]
        )
    return rows


def check(user: User, content: bytes, kind: str = "roster", name: str = "花名册.xlsx") -> ImportBatch:
    batch = import_batch_create(by=user, kind=kind, upload=SimpleUploadedFile(name, content))
    return import_batch_check(batch_id=batch.pk)


def confirm(batch: ImportBatch, user: User) -> ImportBatch:
    import_batch_claim(batch=batch, by=user)
    return import_batch_confirm(batch_id=batch.pk, by_id=user.pk)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def test_a_roster_is_previewed_then_written_with_history(tree: Tree, staff: Staff) -> None:
    rows = family(tree.village_a1.code, "H001", "张三", 3) + family(tree.village_a1.code, "H002", "李四", 2)
    batch = check(staff.village_clerk, workbook(rows))
    assert batch.status == ImportStatus.READY, batch.errors
    assert batch.counts["households"]["new"] == 2
    assert batch.counts["members"]["new"] == 5
    assert batch.header_row == 2
    assert not Household.objects.exists()

    applied = confirm(batch, staff.village_clerk)
    assert applied.status == ImportStatus.APPLIED
    created = Household.objects.get(number="H001")
    assert created.size() == 3
    history = created.history.get()
    assert history.history_change_reason == f"导入批次#{batch.pk}"
    assert history.history_user == staff.village_clerk


def test_an_error_on_the_last_row_leaves_the_database_untouched(tree: Tree, staff: Staff) -> None:
    rows = family(tree.village_a1.code, "H001", "张三", 2) + family(tree.village_a1.code, "H002", "李四", 2)
    rows[-1][7] = rows[-1][7][:-1] + ("0" if rows[-1][7][-1] != "0" else "1")
    batch = check(staff.village_clerk, workbook(rows))
    assert batch.status == ImportStatus.INVALID
    assert batch.errors[0]["row"] == 6
    assert batch.errors[0]["column"] == "身份证号"
    assert "校验码" in batch.errors[0]["message"]
    with pytest.raises(AlreadyClaimed):
        confirm(batch, staff.village_clerk)
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.INVALID
    assert not Household.objects.exists() and not Member.objects.exists()


def test_rows_for_another_township_are_errors_never_written(tree: Tree, staff: Staff) -> None:
    rows = family(tree.village_a1.code, "H001", "张三") + family(tree.village_b1.code, "H009", "王五")
    batch = check(staff.township_admin, workbook(rows))
    assert batch.status == ImportStatus.INVALID
    assert any("不在您的管辖范围内" in e["message"] for e in batch.errors)
    assert not Household.objects.exists()


def test_re_importing_the_same_file_changes_nothing_and_says_so(tree: Tree, staff: Staff) -> None:
    content = workbook(family(tree.village_a1.code, "H001", "张三", 3))
    confirm(check(staff.village_clerk, content), staff.village_clerk)
    history_rows = Household.history.count() + Member.history.count()
    again = check(staff.village_clerk, content)
    assert again.status == ImportStatus.UNCHANGED
    assert again.counts["members"]["unchanged"] == 3
    assert Household.history.count() + Member.history.count() == history_rows


def test_an_update_previews_old_and_new_values(tree: Tree, staff: Staff) -> None:
    rows = family(tree.village_a1.code, "H001", "张三", 2)
    confirm(check(staff.village_clerk, workbook(rows)), staff.village_clerk)
    for row in rows:
        row[5] = "13999999999"
    rows[1][9] = "技能劳动力"
    batch = check(staff.village_clerk, workbook(rows))
    assert batch.counts["households"]["updated"] == 1
    assert batch.counts["members"]["updated"] == 1
    assert {"field": "联系电话", "old": "13800000000", "new": "13999999999"}.items() <= batch.changes[0].items()
    confirm(batch, staff.village_clerk)
    assert Household.objects.get(number="H001").phone == "13999999999"


def test_a_batch_rolls_back_until_someone_edits_its_rows(tree: Tree, staff: Staff) -> None:
    first = confirm(
        check(staff.village_clerk, workbook(family(tree.village_a1.code, "H001", "张三"))), staff.village_clerk
    )
    import_batch_rollback(batch=first, by=staff.village_clerk)
    assert not Household.objects.exists()
    assert ImportBatch.objects.get(pk=first.pk).status == ImportStatus.ROLLED_BACK

    second = confirm(
        check(staff.village_clerk, workbook(family(tree.village_a1.code, "H002", "李四"))), staff.village_clerk
    )
    edited = Household.objects.get(number="H002")
    edited.address = "后来修改"
    household_update(by=staff.village_clerk, household=edited)
    with pytest.raises(Exception, match="已被修改"):
        import_batch_rollback(batch=second, by=staff.village_clerk)
    assert Household.objects.filter(number="H002").exists()


def test_an_update_is_rolled_back_to_the_previous_values(tree: Tree, staff: Staff) -> None:
    target = household(staff.village_clerk, tree.village_a1, number="H001", phone="13700000000")
    head = target.members.get(relation="head")
    rows = [
        [
            tree.village_a1.code,
            "H001",
            head.name,
            "脱贫户",
            2019,
            "13999999999",
            head.name,
            head.id_number,
            "户主",
            "普通劳动力",
        ]
    ]
    batch = confirm(check(staff.village_clerk, workbook(rows)), staff.village_clerk)
    assert Household.objects.get(pk=target.pk).phone == "13999999999"
    import_batch_rollback(batch=batch, by=staff.village_clerk)
    assert Household.objects.get(pk=target.pk).phone == "13700000000"


def test_confirm_refuses_when_the_registry_changed_after_the_preview(tree: Tree, staff: Staff) -> None:
    rows = family(tree.village_a1.code, "H001", "张三", 2)
    batch = check(staff.village_clerk, workbook(rows))
    assert batch.status == ImportStatus.READY
    # Meanwhile the spouse's 身份证号 is registered in another household.
    from households.services import MemberData

    household(
        staff.village_clerk,
        tree.village_a1,
        number="OTHER",
        members=[MemberData(name="占用", id_number=rows[1][7], relation="head", labour="ordinary")],
    )
    result = confirm(batch, staff.village_clerk)
    assert result.status == ImportStatus.EXPIRED
    assert "预览后数据已被修改" in result.refusal
    assert not Household.objects.filter(number="H001").exists()


def income_workbook(rows: list[list[Any]]) -> bytes:
    header = [
        "户编号",
        "户主姓名",
        "年度",
        "季度",
        "务工收入",
        "种植业收入",
        "低保金",
        "生产经营性支出",
        "人均纯收入（元）",
    ]
    return workbook(rows, header=header, title="2025年第3季度收入")


def test_income_rows_are_computed_and_written(tree: Tree, staff: Staff) -> None:
    target = household(staff.village_clerk, tree.village_a1, number="H001")
    content = income_workbook([["H001", "张三", 2025, "第3季度", "9,000元", "３０００.５", 600, 1200.5, 99999]])
    batch = check(staff.village_clerk, content, kind="income", name="收入.xlsx")
    assert batch.status == ImportStatus.READY, batch.errors
    confirm(batch, staff.village_clerk)
    record = IncomeRecord.objects.get(household=target)
    assert record.per_capita_net_income == Decimal("5700.00")
    assert record.household_size == 2


def test_income_errors_name_the_row_and_column(tree: Tree, staff: Staff) -> None:
    household(staff.village_clerk, tree.village_a1, number="H001")
    content = income_workbook(
        [
            ["H001", "张三", 2025, 3, 100, 0, 0, 0, None],
            ["H001", "张三", 2025, 3, 200, 0, 0, 0, None],
            ["H001", "张三", 2025, 4, -5, 0, 0, 0, None],
            ["NOPE", "某某", 2025, 4, 1, 0, 0, 0, None],
        ]
    )
    batch = check(staff.village_clerk, content, kind="income", name="收入.xlsx")
    found = {(e["row"], e["column"]) for e in batch.errors}
    assert (4, "季度") in found
    assert (5, "务工收入") in found
    assert (6, "户编号") in found
    assert not IncomeRecord.objects.exists()


def test_export_then_import_changes_nothing(tree: Tree, staff: Staff) -> None:
    target = household(staff.village_clerk, tree.village_a1, number="H001", phone="13812345678", address="=1+1")
    income(staff.village_clerk, target, "2025Q1", wages_migrant_work="3000", transfer_pension="150.5")
    client = Client()
    client.login(username=staff.village_clerk.username, password=PASSWORD)
    for kind in ("roster", "income"):
        response = client.get(reverse("export_download", args=[kind]))
        assert response.status_code == 200
        content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        batch = check(staff.village_clerk, content, kind=kind, name=f"{kind}.xlsx")
        assert batch.status == ImportStatus.UNCHANGED, (kind, batch.errors, batch.changes)
    assert ExportRecord.objects.filter(exported_by=staff.village_clerk).count() == 2


def test_the_command_line_dry_run_reports_and_exits_non_zero_on_errors(
    tree: Tree, staff: Staff, tmp_path: Path
) -> None:
    rows = family(tree.village_a1.code, "H001", "张三", 2)
    good = tmp_path / "good.xlsx"
    good.write_bytes(workbook(rows))
    out = io.StringIO()
    call_command("import_roster", str(good), "--dry-run", stdout=out)
    assert "新增 1" in out.getvalue()
    assert not Household.objects.exists()
    rows[0][8] = "配偶"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook(rows))
    with pytest.raises(CommandError, match="错误"):
        call_command("import_roster", str(bad), stdout=io.StringIO())
    call_command("import_roster", str(good), stdout=io.StringIO())
    assert Household.objects.get(number="H001").size() == 2


def wait_for(batch_id: int, *statuses: str) -> ImportBatch:
    """Poll the batch as the progress bar does, until the task (in process or on a worker) is done."""
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        batch = ImportBatch.objects.get(pk=batch_id)
        if batch.status in statuses:
            return batch
        time.sleep(0.2)
    raise AssertionError(f"batch {batch_id} still {ImportBatch.objects.get(pk=batch_id).status}")


def test_the_upload_page_previews_and_confirms_through_the_task_queue(
    transactional_db: None, celery_worker: None, tree: Tree, staff: Staff
) -> None:
    client = Client()
    client.login(username=staff.village_clerk.username, password=PASSWORD)
    upload = SimpleUploadedFile("花名册.xlsx", workbook(family(tree.village_a1.code, "H001", "张三")))
    response = client.post(reverse("import_upload"), {"kind": "roster", "file": upload})
    batch = wait_for(ImportBatch.objects.get().pk, ImportStatus.READY)
    page = client.get(response["Location"]).content.decode()
    assert "待确认导入" in page and "确认导入" in page
    client.post(reverse("import_batch_confirm", args=[batch.pk]))
    wait_for(batch.pk, ImportStatus.APPLIED)
    assert Household.objects.filter(number="H001").exists()
    other = Client()
    other.login(username=staff.other_township_admin.username, password=PASSWORD)
    assert other.get(reverse("import_batch", args=[batch.pk])).status_code == 404


def test_a_household_without_number_is_matched_by_its_heads_id_number(tree: Tree, staff: Staff) -> None:
    target = household(staff.village_clerk, tree.village_a1, number="H777", phone="13700000000")
    head = target.members.get(relation="head")
    spouse = target.members.get(relation="spouse")
    rows = [
        [
            tree.village_a1.code,
            "",
            head.name,
            "脱贫户",
            2019,
            "13911112222",
            head.name,
            head.id_number,
            "户主",
            "普通劳动力",
        ],
        [
            tree.village_a1.code,
            "",
            head.name,
            "脱贫户",
            2019,
            "13911112222",
            spouse.name,
            spouse.id_number,
            "配偶",
            "普通劳动力",
        ],
    ]
    batch = check(staff.village_clerk, workbook(rows))
    assert batch.counts["households"] == {"new": 0, "updated": 1, "unchanged": 0, "error": 0}
    confirm(batch, staff.village_clerk)
    assert Household.objects.get(pk=target.pk).phone == "13911112222"
    assert Household.objects.count() == 1


def test_the_error_workbook_is_the_original_with_reasons_and_marked_cells(tree: Tree, staff: Staff) -> None:
    from workbooks.errors_workbook import errors_workbook

    rows = family(tree.village_a1.code, "H001", "张三", 2)
    rows[1][9] = "很能干"
    batch = check(staff.village_clerk, workbook(rows))
    assert batch.status == ImportStatus.INVALID
    sheet = openpyxl.load_workbook(io.BytesIO(errors_workbook(batch)))["花名册"]
    header = [cell.value for cell in sheet[2]]
    assert header[-1] == "错误说明"
    assert "劳动技能" in sheet.cell(row=4, column=len(header)).value
    assert sheet.cell(row=4, column=header.index("劳动技能") + 1).fill.fgColor.rgb.endswith("FFC7CE")
    assert sheet.cell(row=3, column=len(header)).value is None
    assert sheet.cell(row=4, column=1).value == tree.village_a1.code


def test_an_upload_over_the_size_limit_is_refused_before_anything_is_stored(
    tree: Tree, staff: Staff, settings: Any
) -> None:
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024
    client = Client()
    client.login(username=staff.village_clerk.username, password=PASSWORD)
    upload = SimpleUploadedFile("大.xlsx", b"PK\x03\x04" + b"0" * 2048)
    response = client.post(reverse("import_upload"), {"kind": "roster", "file": upload})
    assert response.status_code == 200
    assert "文件大小超过上限" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_a_refused_file_is_reported_and_writes_nothing(tree: Tree, staff: Staff) -> None:
    batch = check(staff.village_clerk, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, name="旧版.xls")
    assert batch.status == ImportStatus.REFUSED
    assert ".xlsx" in batch.refusal
    assert not Household.objects.exists()
