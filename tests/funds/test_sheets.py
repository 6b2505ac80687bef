"""The funds registers in Excel: templates, exports (scoped, masked, recorded), 万元 read and written
exactly, and export → import = 无变化, twice, for every register and every role that imports it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from funds.models import Allocation
from funds.sheets import SHEETS
from households.excel.models import ExportRecord
from regions.models import User
from tests.conftest import Staff
from tests.cooperatives.sheet_world import check, confirm, error_list, read_sheet, rows_by_header
from tests.factories import Tree
from tests.funds.sheet_world import World, build_world, checksums, exported, sheet
from workbooks.models import ImportStatus


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(tree: Tree, staff: Staff) -> World:
    return build_world(tree, staff)


# Each register with each role that imports it, and how many rows that role's export holds.
IMPORTERS = [
    ("allocations", "county_admin", 3),
    ("projects", "county_admin", 4),
    ("projects", "township_admin", 3),
    ("beneficiaries", "county_admin", 3),
    ("beneficiaries", "township_admin", 2),
    ("fundings", "county_admin", 3),
    ("fundings", "township_admin", 2),
    ("payments", "county_admin", 3),
    ("payments", "township_admin", 2),
    ("collective", "village_clerk", 2),
    ("collective", "other_village_clerk", 1),
]


@pytest.mark.parametrize(("name", "role", "count"), IMPORTERS)
def test_an_export_imported_again_changes_nothing_twice(
    world: World, staff: Staff, name: str, role: str, count: int
) -> None:
    user: User = getattr(staff, role)
    before = checksums()
    content = exported(user, name)
    for _ in range(2):
        assert len(rows_by_header(content)) == count
        batch = check(user, content, name)
        assert batch.status == ImportStatus.UNCHANGED, batch.errors
        assert batch.counts[name]["unchanged"] == count
        assert checksums() == before
        content = exported(user, name)


def test_the_allocations_export_states_wan_yuan_in_its_header_and_writes_them_exactly(
    world: World, staff: Staff
) -> None:
    rows = rows_by_header(exported(staff.county_admin, "allocations"))
    assert "金额（万元）" in rows[0]
    amounts = {(row["资金级次"], row["文号"]): row["金额（万元）"] for row in rows}
    assert amounts == {
        ("中央", "云财农〔2025〕1号"): 100,
        ("省级", "云财农〔2025〕1号"): 50.000007,
        ("中央", "大财农〔2025〕3号"): 20,
    }
    split = next(row for row in rows if row["文号"] == "大财农〔2025〕3号")
    assert split["所分配的县级资金文号"] == "云财农〔2025〕1号" and split["下达区划代码"] == "532326100000"
    lines = rows_by_header(exported(staff.county_admin, "fundings"))
    assert {row["安排金额（万元）"] for row in lines} == {30.000005, 10}


@pytest.mark.parametrize(
    ("typed", "yuan"),
    [
        (1.2345, "12345.00"),
        ("1.2345", "12345.00"),
        (0.000001, "0.01"),
        ("12,345.678901", "123456789.01"),
        (7, "70000.00"),
    ],
)
def test_wan_yuan_are_converted_exactly(world: World, staff: Staff, tree: Tree, typed: Any, yuan: str) -> None:
    row = {"年度": 2026, "资金级次": "县级", "文号": "大财农〔2026〕1号", "下达区划代码": tree.county.code}
    row |= {"下达日期": "2026-02-01", "金额（万元）": typed}
    batch = check(staff.county_admin, sheet("allocations", [row]), "allocations")
    assert batch.status == ImportStatus.READY, batch.errors
    assert confirm(batch, staff.county_admin).status == ImportStatus.APPLIED
    assert Allocation.objects.get(document_number="大财农〔2026〕1号").amount == Decimal(yuan)


def test_an_amount_finer_than_a_fen_or_in_the_wrong_unit_is_refused(world: World, staff: Staff, tree: Tree) -> None:
    row = {"年度": 2026, "资金级次": "县级", "文号": "大财农〔2026〕1号", "下达区划代码": tree.county.code}
    row |= {"下达日期": "2026-02-01", "金额（万元）": "1.2345678"}
    batch = check(staff.county_admin, sheet("allocations", [row]), "allocations")
    assert error_list(batch) == [(2, "金额（万元）", "金额（万元）最多保留六位小数（精确到分）")]
    in_yuan = {**row, "金额（元）": 12345, "金额（万元）": None}
    header = [column.header for column in SHEETS["allocations"].columns if column.key != "amount"] + ["金额（元）"]
    from tests.cooperatives.sheet_world import workbook

    refused = check(staff.county_admin, workbook(header, [[in_yuan.get(title) for title in header]]), "allocations")
    assert refused.status == ImportStatus.REFUSED
    assert "缺少必需的列：金额（万元）" in refused.refusal


def test_a_county_viewer_exports_masked_id_numbers_and_a_township_only_its_own(world: World, staff: Staff) -> None:
    number = world.household_a1.members.get().id_number
    masked = f"{number[:6]}********{number[-4:]}"
    viewer = {row["户编号"]: row["身份证号"] for row in rows_by_header(exported(staff.county_viewer, "beneficiaries"))}
    assert viewer["H-A1-001"] == masked and number not in repr(viewer)
    admin = {row["户编号"]: row["身份证号"] for row in rows_by_header(exported(staff.county_admin, "beneficiaries"))}
    assert admin["H-A1-001"] == number
    township = rows_by_header(exported(staff.township_admin, "beneficiaries"))
    assert {row["户编号"] for row in township} == {"H-A1-001", "H-A2-001"}
    assert {row["项目编号"] for row in rows_by_header(exported(staff.other_township_admin, "projects"))} == {"XM-B-001"}
    record = ExportRecord.objects.filter(kind="beneficiaries").order_by("pk").first()
    assert record is not None and record.masked and record.row_count == 3
    assert record.get_kind_display() == "项目受益农户"  # the export log names the register


def test_a_masked_export_cannot_be_imported_back(world: World, staff: Staff) -> None:
    rows = rows_by_header(exported(staff.county_viewer, "beneficiaries"))
    rows[0]["户编号"] = None
    batch = check(staff.county_admin, sheet("beneficiaries", rows), "beneficiaries")
    assert batch.status == ImportStatus.INVALID
    assert error_list(batch)[0][:2] == (2, "身份证号")


def test_every_template_has_its_header_notes_and_drop_downs(world: World, staff: Staff) -> None:
    client = Client()
    client.force_login(staff.village_clerk)
    for name, sheet_ in SHEETS.items():
        response = client.get(reverse("fund_sheet_template", args=[name]))
        assert response.status_code == 200
        header, *rest = read_sheet(response.content)
        assert header == [column.header for column in sheet_.columns] and rest == []


def test_the_funds_pages_link_their_registers(world: World, staff: Staff) -> None:
    client = Client()
    client.force_login(staff.county_admin)
    pages = {
        "allocation_list": ["allocations"],
        "project_list": ["projects", "beneficiaries", "fundings"],
        "payment_list": ["payments"],
        "collective_township": ["collective"],
        "fund_sheets": list(SHEETS),
    }
    for page, names in pages.items():
        content = client.get(reverse(page)).content.decode()
        for name in names:
            assert reverse("fund_sheet_template", args=[name]) in content, (page, name)
            assert reverse("fund_sheet_export", args=[name]) in content, (page, name)
        assert reverse("import_upload") in content
    client.force_login(staff.county_viewer)
    content = client.get(reverse("allocation_list")).content.decode()
    assert reverse("fund_sheet_export", args=["allocations"]) in content and reverse("import_upload") not in content


def test_an_unknown_register_is_404(world: World, staff: Staff) -> None:
    client = Client()
    client.force_login(staff.county_admin)
    assert client.get(reverse("fund_sheet_export", args=["nothing"])).status_code == 404


def test_the_demo_countys_registers_read_back_unchanged(db: None) -> None:
    from django.core.management import call_command

    call_command("seed_demo", households=120, seed=11, verbosity=0)
    before = checksums()
    checked = {}
    everything = [name for name in SHEETS if name != "collective"]
    for username, names in (("xianadmin", everything), ("xiang", everything[1:]), ("cun", ["collective"])):
        user = User.objects.get(username=username)
        for name in names:
            batch = check(user, exported(user, name), name)
            assert batch.status == ImportStatus.UNCHANGED, (username, name, batch.errors[:5])
            checked[username, name] = batch.counts[name]["unchanged"]
    assert checksums() == before
    assert all(checked.values()) and checked["xianadmin", "projects"] > 100, checked
