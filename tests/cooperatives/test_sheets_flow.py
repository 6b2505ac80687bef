"""A cooperatives register through the pipeline: 已失效 after a change, one confirmation, undo, hostile files, pages."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.test import Client
from django.urls import reverse

from cooperatives.models import Binding, Entity, LinkageType, Membership
from households.services import household_update
from tests.conftest import Staff
from tests.cooperatives.sheet_world import (
    World,
    build_world,
    check,
    checksums,
    confirm,
    error_list,
    exported,
    grant_cooperative_permissions,
    rows_by_header,
)
from tests.cooperatives.test_sheets_rules import _member, cooperative_row, sheet
from tests.factories import Tree
from workbooks.batches import (
    AlreadyClaimed,
    import_batch_claim,
    import_batch_confirm,
    import_batch_create,
    import_batch_rollback,
)
from workbooks.models import ImportStatus, StagedRow


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(tree: Tree, staff: Staff) -> World:
    grant_cooperative_permissions(staff)
    return build_world(tree, staff)


def _membership_update(world: World) -> bytes:
    """The clerk's membership export with the 入股金额 of 张三's household changed."""
    return sheet(
        "memberships",
        [_member(world, 户编号=world.household_a1.number, 入社日期="2023-03-01", **{"入股金额（元）": 3000})],
    )


def test_a_membership_changed_after_the_preview_makes_the_confirmation_refuse_the_batch(
    world: World, staff: Staff
) -> None:
    clerk = staff.village_clerk
    batch = check(clerk, _membership_update(world), "memberships")
    assert batch.status == ImportStatus.READY, batch.errors
    assert batch.counts["memberships"]["updated"] == 1
    Membership.objects.filter(pk=world.membership.pk).update(version=F("version") + 1)  # a form saved it meanwhile
    before = checksums()
    result = confirm(batch, clerk)
    assert result.status == ImportStatus.EXPIRED and "预览后数据已被修改" in result.refusal
    assert checksums() == before


def test_a_household_or_cooperative_changed_after_the_preview_also_refuses_it(world: World, staff: Staff) -> None:
    clerk = staff.village_clerk
    rows = [_member(world)]
    batch = check(clerk, sheet("memberships", rows), "memberships")
    assert batch.status == ImportStatus.READY, batch.errors
    household = world.household_a1b
    household.phone = "13900000000"
    household_update(by=clerk, household=household, expected_version=household.version)
    assert confirm(batch, clerk).status == ImportStatus.EXPIRED
    again = check(clerk, sheet("memberships", rows), "memberships")
    Entity.objects.filter(pk=world.cooperative_a1.pk).update(version=F("version") + 1)
    assert confirm(again, clerk).status == ImportStatus.EXPIRED
    assert not Membership.objects.filter(household=household).exists()


def test_a_record_created_meanwhile_with_the_same_key_refuses_the_batch(world: World, staff: Staff) -> None:
    admin = staff.township_admin
    batch = check(admin, sheet("entities", [cooperative_row(注册地区划代码="532326100202")]), "entities")
    assert batch.status == ImportStatus.READY, batch.errors
    Entity.objects.create(
        kind="cooperative", name="抢先", credit_code=batch_code(batch), region=world.cooperative_a2.region
    )
    assert confirm(batch, admin).status == ImportStatus.EXPIRED


def batch_code(batch: Any) -> str:
    return StagedRow.objects.get(batch=batch, action="create").values["credit_code"]


def test_two_previews_that_together_break_a_rule_let_only_the_first_through(world: World, staff: Staff) -> None:
    """Each file alone is valid; written after the other, the model's rule (no overlapping membership) is broken."""
    clerk = staff.village_clerk
    first = check(clerk, sheet("memberships", [_member(world)]), "memberships", name="一.xlsx")
    second = check(clerk, sheet("memberships", [_member(world, 入社日期="2024-05-01")]), "memberships", name="二.xlsx")
    assert first.status == second.status == ImportStatus.READY
    assert confirm(first, clerk).status == ImportStatus.APPLIED
    assert confirm(second, clerk).status == ImportStatus.EXPIRED
    assert Membership.objects.filter(household=world.household_a1b).count() == 1


def test_a_second_confirmation_does_nothing(world: World, staff: Staff) -> None:
    clerk = staff.village_clerk
    batch = check(clerk, sheet("memberships", [_member(world)]), "memberships")
    assert confirm(batch, clerk).status == ImportStatus.APPLIED
    sums = checksums()
    with pytest.raises(AlreadyClaimed):
        import_batch_claim(batch=batch, by=clerk)
    assert import_batch_confirm(batch_id=batch.pk, by_id=clerk.pk).status == ImportStatus.APPLIED
    assert checksums() == sums
    assert Membership.objects.filter(household=world.household_a1b).count() == 1


def test_undo_puts_back_created_and_changed_records_with_their_lists(world: World, staff: Staff) -> None:
    admin = staff.township_admin
    rows = rows_by_header(exported(admin, "bindings"))
    header = list(rows[0])
    rows[0]["利益联结方式"] = "生产托管"
    rows[0]["合同编号"] = "HT-002"
    new = {
        **rows[0],
        "合作社统一社会信用代码": world.cooperative_a2.credit_code,
        "合作社名称": world.cooperative_a2.name,
    }
    new["开始日期"] = date(2024, 2, 1)
    content = _workbook(header, [rows[0], new])
    before_records = _bindings()
    batch = check(admin, content, "bindings")
    assert batch.counts["bindings"] == {"new": 1, "updated": 1, "unchanged": 0, "error": 0}, batch.errors
    assert confirm(batch, admin).status == ImportStatus.APPLIED
    binding = Binding.objects.get(pk=world.binding.pk)
    assert binding.contract_number == "HT-002" and [t.name for t in binding.linkage_types.all()] == ["生产托管"]
    assert binding.history.latest().linkage_types.count() == 1

    undone = import_batch_rollback(batch=batch, by=admin)
    assert undone.status == ImportStatus.ROLLED_BACK
    assert _bindings() == before_records
    latest = Binding.objects.get(pk=world.binding.pk).history.latest()
    assert latest.history_change_reason == f"撤销{batch.history_reason}"
    assert sorted(latest.linkage_types.values_list("linkagetype__name", flat=True)) == ["务工就业", "资产收益"]
    assert check(admin, exported(admin, "bindings"), "bindings").status == ImportStatus.UNCHANGED


def _bindings() -> list[Any]:
    return sorted(
        (
            b.enterprise_id,
            b.cooperative_id,
            b.started_on,
            b.contract_number,
            tuple(sorted(t.pk for t in b.linkage_types.all())),
        )
        for b in Binding.objects.prefetch_related("linkage_types")
    )


def _workbook(header: list[str], rows: list[dict[str, Any]]) -> bytes:
    book = openpyxl.Workbook()
    target = book.active
    assert target is not None
    target.append(header)
    for row in rows:
        target.append([row[name] for name in header])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_undo_is_refused_once_a_record_it_wrote_changed_again(world: World, staff: Staff) -> None:
    clerk = staff.village_clerk
    batch = confirm(check(clerk, sheet("memberships", [_member(world)]), "memberships"), clerk)
    created = Membership.objects.get(household=world.household_a1b)
    created.shares = 10
    created.save()  # a form's save writes a history row of its own
    with pytest.raises(ValidationError, match="导入后已被修改"):
        import_batch_rollback(batch=batch, by=clerk)
    assert Membership.objects.filter(pk=created.pk).exists()


def test_a_clerk_may_not_import_entities(world: World, staff: Staff) -> None:
    upload = SimpleUploadedFile("主体.xlsx", sheet("entities", [cooperative_row(注册地区划代码="532326100201")]))
    with pytest.raises(PermissionDenied):
        import_batch_create(by=staff.village_clerk, kind="entities", upload=upload)


def test_a_hostile_file_is_refused_cell_by_cell_and_writes_nothing(world: World, staff: Staff) -> None:
    admin = staff.township_admin
    book = openpyxl.Workbook()
    target = book.active
    assert target is not None
    target.append([column.header for column in sheet_columns("entities")])
    header = [column.header for column in sheet_columns("entities")]

    def row(**cells: Any) -> list[Any]:
        values = cooperative_row(注册地区划代码="532326100202", **cells)
        return [values.get(title) for title in header]

    target.append(row(名称='=HYPERLINK("http://evil.example","点我")', 统一社会信用代码="=1+1"))
    target.append(row(名称="石丫\u200b合作社", 统一社会信用代码=_code(92)))
    target.append(row(地址="长" * 32000, 统一社会信用代码=_code(93)))
    target.append(row(联系人="\u202e人系联", 统一社会信用代码=_code(94)))
    buffer = io.BytesIO()
    book.save(buffer)
    before = checksums()
    batch = check(admin, buffer.getvalue(), "entities")
    assert batch.status == ImportStatus.INVALID
    errors = error_list(batch)
    assert (2, "统一社会信用代码", "必填项为空") in errors  # a formula is never evaluated: its cell reads as empty
    assert (3, "名称", "含有不可见字符（零宽空格 U+200B），请删除后重新填写") in errors
    assert (4, "地址", "不能超过200个字（现有32000个）") in errors
    assert (5, "联系人", "含有不可见字符（文字方向控制符 U+202E），请删除后重新填写") in errors
    assert checksums() == before
    client = Client()
    client.force_login(admin)
    assert client.get(reverse("import_batch", args=[batch.pk])).status_code == 200
    annotated = client.get(reverse("import_batch_errors", args=[batch.pk]))
    assert annotated.status_code == 200
    marked = openpyxl.load_workbook(io.BytesIO(annotated.content)).worksheets[0]
    assert marked.cell(1, marked.max_column).value == "错误说明"
    assert all(cell.data_type != "f" for line in marked.iter_rows() for cell in line)


def sheet_columns(name: str) -> Any:
    from cooperatives.sheets import SHEETS

    return SHEETS[name].columns


def _code(sequence: int) -> str:
    from tests.cooperatives.sheet_world import credit_code

    return credit_code(sequence)


def test_the_batch_page_names_the_register_and_masks_id_numbers_for_viewers(world: World, staff: Staff) -> None:
    number = world.household_a2.members.get().id_number
    batch = check(
        staff.village_clerk, sheet("memberships", [_member(world, 户编号="", 身份证号=number)]), "memberships"
    )
    client = Client()
    client.force_login(staff.county_viewer)
    page = client.get(reverse("import_batch", args=[batch.pk])).content.decode()
    assert number not in page and f"{number[:6]}********{number[-4:]}" in page
    client.force_login(staff.village_clerk)
    page = client.get(reverse("import_batch", args=[batch.pk])).content.decode()
    assert "合作社成员户" in page and number in page


def test_an_applied_batch_page_offers_undo_to_those_who_may(world: World, staff: Staff) -> None:
    clerk = staff.village_clerk
    batch = confirm(check(clerk, sheet("memberships", [_member(world)]), "memberships"), clerk)
    client = Client()
    client.force_login(clerk)
    page = client.get(reverse("import_batch", args=[batch.pk])).content.decode()
    assert "撤销本批次" in page and reverse("cooperative_sheets") in page
    client.force_login(staff.county_viewer)
    assert "撤销本批次" not in client.get(reverse("import_batch", args=[batch.pk])).content.decode()


def test_linkage_types_are_read_in_any_order_and_separator(world: World, staff: Staff) -> None:
    admin = staff.township_admin
    rows = rows_by_header(exported(admin, "bindings"))
    rows[0]["利益联结方式"] = "务工就业，资产收益"
    assert check(admin, _workbook(list(rows[0]), rows), "bindings").status == ImportStatus.UNCHANGED
    assert LinkageType.objects.count() == 8
