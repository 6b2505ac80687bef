"""Every gate of the funds services, broken in a file: refused with the forms' own words, named by row
and column, nothing written; a key outside the user's scope reads exactly as one that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from funds.models import Beneficiary
from regions.models import User
from tests.conftest import Staff
from tests.cooperatives.sheet_world import check, confirm, error_list, rows_by_header
from tests.factories import Tree
from tests.funds.sheet_world import DOCUMENT, World, build_world, checksums, exported, sheet
from workbooks.models import ImportStatus


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(tree: Tree, staff: Staff) -> World:
    return build_world(tree, staff)


def split(**cells: Any) -> dict[str, Any]:
    """A new split of the central allocation to 湾碧乡."""
    row = {"年度": 2025, "资金级次": "中央", "文号": "大财农〔2025〕9号", "下达区划代码": "532326200000"}
    return {**row, "下达日期": "2025-04-01", "金额（万元）": 10, "所分配的县级资金文号": DOCUMENT, **cells}


def project(**cells: Any) -> dict[str, Any]:
    row = {"项目编号": "XM-A-009", "项目名称": "石丫村冷库", "年度": 2025, "实施区划代码": "532326100202"}
    return {**row, "项目类型": "加工流通", "联农带农机制": "务工就业", **cells}


def line(**cells: Any) -> dict[str, Any]:
    return {"项目编号": "XM-A-001", "下达文号": DOCUMENT, "资金级次": "省级", "安排金额（万元）": 1, **cells}


def payment(**cells: Any) -> dict[str, Any]:
    row = {"项目编号": "XM-A-001", "下达文号": "大财农〔2025〕3号", "支付日期": "2025-09-01"}
    return {**row, "支付金额（元）": "1000.00", "凭证号": "ZF-009", **cells}


def income(**cells: Any) -> dict[str, Any]:
    row = {"村区划代码": "532326100201", "年度": 2025, "截至季度": 3, "经营收入（元）": 40000}
    return {**row, **cells}


EDITED = 0  # a case's row: the row of the export it edited, wherever the database sorted it


def exported_with(user: User, name: str, where: dict[str, Any], **updates: Any) -> list[dict[str, Any]]:
    """The user's export with `updates` made to the one row holding every value of `where`."""
    rows = rows_by_header(exported(user, name))
    matching = [row for row in rows if all(row[key] == value for key, value in where.items())]
    assert len(matching) == 1, rows
    matching[0].update(updates, edited=True)
    return rows


# (register, role, the rows given the world, row, column, message)
CASES: list[tuple[str, str, Callable[[World, Staff], list[dict[str, Any]]], int, str, str]] = [
    # 资金下达
    (
        "allocations",
        "county_admin",
        lambda w, s: [split(**{"金额（万元）": 40})],
        2,
        "金额（万元）",
        "分配金额超出该笔资金的剩余可分配金额（剩余 399,999.95 元）",
    ),
    (
        "allocations",
        "county_admin",
        lambda w, s: [split(), split(文号="大财农〔2025〕10号", **{"金额（万元）": 30})],
        3,
        "金额（万元）",
        "分配金额超出该笔资金的剩余可分配金额（剩余 299,999.95 元）",
    ),
    (
        "allocations",
        "county_admin",
        lambda w, s: exported_with(
            s.county_admin, "allocations", {"文号": "大财农〔2025〕3号"}, **{"金额（万元）": 60}
        ),
        EDITED,
        "金额（万元）",
        "分配金额超出县级资金的剩余可分配金额（剩余 599,999.95 元）",
    ),
    (
        "allocations",
        "county_admin",
        lambda w, s: exported_with(
            s.county_admin, "allocations", {"资金级次": "中央", "文号": DOCUMENT}, **{"金额（万元）": 60}
        ),
        EDITED,
        "金额（万元）",
        "金额不能少于已分配到乡镇和已安排到项目的 600,000.05 元",
    ),
    (
        "allocations",
        "county_admin",
        lambda w, s: [split(资金级次="市级")],
        2,
        "资金级次",
        f"所分配的县级资金文号“{DOCUMENT}”与资金级次“市级”不对应同一资金下达",
    ),
    (
        "allocations",
        "county_admin",
        lambda w, s: [split(下达区划代码="532326100201")],
        2,
        "下达区划代码",
        "县级资金只能分配到本县的乡镇",
    ),
    (
        "allocations",
        "county_admin",
        lambda w, s: exported_with(
            s.county_admin, "allocations", {"文号": "大财农〔2025〕3号"}, 所分配的县级资金文号=None
        ),
        EDITED,
        "下达区划代码",
        "资金下达到县；分配到乡镇的资金须选择所分配的县级资金",
    ),
    # 项目库
    (
        "projects",
        "township_admin",
        lambda w, s: exported_with(s.township_admin, "projects", {"项目编号": "XM-A-002"}, 状态="入库"),
        EDITED,
        "状态",
        "项目状态为“储备”，不能通过导入修改；入库、退回等步骤请在项目页面办理",
    ),
    (
        "projects",
        "township_admin",
        lambda w, s: [project(状态="入库")],
        2,
        "状态",
        "新项目导入后为储备；入库等步骤请在项目页面办理",
    ),
    (
        "projects",
        "township_admin",
        lambda w, s: exported_with(s.township_admin, "projects", {"项目编号": "XM-A-001"}, 联农带农机制=None),
        EDITED,
        "联农带农机制",
        "产业发展项目须写明联农带农机制，方可入库（没有联农带农机制的项目不得入库）",
    ),
    (
        "projects",
        "county_admin",
        lambda w, s: exported_with(
            s.county_admin, "projects", {"项目编号": "XM-A-001"}, 实施区划代码="532326200201", 实施区划="湾碧村"
        ),
        EDITED,
        "实施区划代码",
        "该项目已安排金碧镇下达的资金，实施区划须在金碧镇范围内",
    ),
    (
        "projects",
        "township_admin",
        lambda w, s: [project(实施区划代码="532326200201")],
        2,
        "实施区划代码",
        "实施区划代码“532326200201”不存在或不在您的管辖范围内",
    ),
    (
        "projects",
        "township_admin",
        lambda w, s: [project(项目编号="XM-B-001")],
        2,
        "项目编号",
        "项目编号“XM-B-001”已被使用",
    ),
    (
        "projects",
        "township_admin",
        lambda w, s: [project(扶持的双绑主体=w.household_a1.number)],
        2,
        "扶持的双绑主体",
        "统一社会信用代码“H-A1-001”不存在、不在您的管辖范围内，或该主体没有企业绑定合作社（双绑）记录",
    ),
    # 项目受益农户
    (
        "beneficiaries",
        "township_admin",
        lambda w, s: [{"项目编号": "XM-A-002", "户编号": "H-B1-001"}],
        2,
        "户编号",
        "户编号“H-B1-001”不存在或不在您的管辖范围内",
    ),
    (
        "beneficiaries",
        "township_admin",
        lambda w, s: [{"项目编号": "XM-A-002", "户编号": "H-NONE"}],
        2,
        "户编号",
        "户编号“H-NONE”不存在或不在您的管辖范围内",
    ),
    (
        "beneficiaries",
        "township_admin",
        lambda w, s: [{"项目编号": "XM-B-001", "户编号": "H-A1-001"}],
        2,
        "项目编号",
        "项目编号“XM-B-001”不存在或不在您的管辖范围内",
    ),
    # 资金安排
    (
        "fundings",
        "county_admin",
        lambda w, s: [line(项目编号="XM-A-002")],
        2,
        "项目编号",
        "项目尚未入库，不能安排资金（只有入库项目才能安排衔接资金）",
    ),
    (
        "fundings",
        "county_admin",
        lambda w, s: [line(**{"安排金额（万元）": 50.000008})],
        2,
        "安排金额（万元）",
        "安排金额超出该笔资金的剩余可安排金额（剩余 500,000.07 元）",
    ),
    (
        "fundings",
        "county_admin",
        lambda w, s: [line(项目编号="XM-B-001", 下达文号="大财农〔2025〕3号", 资金级次="中央")],
        2,
        "下达文号",
        "该笔资金下达到金碧镇，不能安排给湾碧村的项目",
    ),
    (
        "fundings",
        "county_admin",
        lambda w, s: exported_with(
            s.county_admin, "fundings", {"下达文号": "大财农〔2025〕3号"}, **{"安排金额（万元）": 1}
        ),
        EDITED,
        "安排金额（万元）",
        "安排金额不能少于已支付的 20,000.00 元",
    ),
    (
        "fundings",
        "township_admin",
        lambda w, s: [line(项目编号="XM-A-003", 资金级次="中央")],
        2,
        "下达文号",
        f"下达文号“{DOCUMENT}”不存在或不在您的管辖范围内",
    ),
    (
        "fundings",
        "county_admin",
        lambda w, s: [line(资金级次=None)],
        2,
        "下达文号",
        f"下达文号“{DOCUMENT}”对应多条记录，请填写资金年度、资金级次、下达区划代码以确定",
    ),
    # 支付
    (
        "payments",
        "township_admin",
        lambda w, s: [payment(**{"支付金额（元）": "80000.01"})],
        2,
        "支付金额（元）",
        "支付金额超出该项资金安排的未支付金额（未支付 80,000.00 元）",
    ),
    (
        "payments",
        "township_admin",
        lambda w, s: [payment(支付日期="2099-01-01")],
        2,
        "支付日期",
        "支付日期不能晚于今天",
    ),
    (
        "payments",
        "township_admin",
        lambda w, s: [payment(下达文号=None, 资金级次="中央")],
        2,
        "项目编号",
        "项目编号“XM-A-001”对应多条记录，请填写下达文号、资金年度、资金级次、下达区划代码以确定",
    ),
    (
        "payments",
        "township_admin",
        lambda w, s: [payment(下达文号=None, 资金级次="省级")],
        2,
        "资金级次",
        "项目编号“XM-A-001”与资金级次“省级”不对应同一资金安排",
    ),
    (
        "payments",
        "township_admin",
        lambda w, s: [payment(项目编号="XM-B-001", 下达文号=None)],
        2,
        "项目编号",
        "项目编号“XM-B-001”不存在或不在您的管辖范围内",
    ),
    (
        "payments",
        "township_admin",
        lambda w, s: [payment(**{"支付金额（元）": "1.001"})],
        2,
        "支付金额（元）",
        "支付金额（元）最多保留两位小数（精确到分）",
    ),
    # 村集体经济收入
    (
        "collective",
        "village_clerk",
        lambda w, s: exported_with(s.village_clerk, "collective", {"截至季度": 2}, **{"其他收入（元）": 1}),
        EDITED,
        "审核状态",
        "2025年第2季度的收入已审核，不能修改；如需更正请乡镇退回",
    ),
    (
        "collective",
        "village_clerk",
        lambda w, s: exported_with(s.village_clerk, "collective", {"截至季度": 1}, 审核状态="已提交"),
        EDITED,
        "审核状态",
        "审核状态为“填报中”，不能通过导入修改；提交、审核请在填报页面办理",
    ),
    (
        "collective",
        "village_clerk",
        lambda w, s: [income(年度=2027, 截至季度=1)],
        2,
        "截至季度",
        "2027年第1季度尚未开始，不能填报",
    ),
    (
        "collective",
        "village_clerk",
        lambda w, s: [income(村区划代码="532326100202")],
        2,
        "村区划代码",
        "村区划代码“532326100202”不存在或不在您的管辖范围内",
    ),
    (
        "collective",
        "village_clerk",
        lambda w, s: [income(**{"经营收入（元）": -1})],
        2,
        "经营收入（元）",
        "经营收入（元）不能为负数",
    ),
]


@pytest.mark.parametrize(
    ("name", "role", "rows", "row", "column", "message"),
    CASES,
    ids=[f"{case[0]}-{case[5][:16]}" for case in CASES],
)
def test_a_broken_gate_is_named_by_row_and_column_and_nothing_is_written(
    world: World,
    staff: Staff,
    name: str,
    role: str,
    rows: Callable[[World, Staff], list[dict[str, Any]]],
    row: int,
    column: str,
    message: str,
) -> None:
    user: User = getattr(staff, role)
    before = checksums()
    written = rows(world, staff)
    row = row or 2 + next(index for index, cells in enumerate(written) if cells.get("edited"))
    batch = check(user, sheet(name, written), name)
    assert batch.status == ImportStatus.INVALID
    assert (row, column, message) in error_list(batch), error_list(batch)
    assert checksums() == before


def test_a_split_names_its_parent_by_a_document_shared_by_two_levels(world: World, staff: Staff) -> None:
    admin = staff.county_admin
    batch = confirm(check(admin, sheet("allocations", [split()]), "allocations"), admin)
    assert batch.status == ImportStatus.APPLIED, (batch.errors, batch.refusal)
    created = world.central.splits.get(document_number="大财农〔2025〕9号")
    assert created.amount == 100000 and created.region.name == "湾碧乡"


def test_a_household_is_found_by_any_members_id_number(world: World, staff: Staff) -> None:
    admin = staff.township_admin
    number = world.household_a2.members.get().id_number
    batch = check(admin, sheet("beneficiaries", [{"项目编号": "XM-A-001", "身份证号": number}]), "beneficiaries")
    assert batch.counts["beneficiaries"]["new"] == 1, batch.errors
    assert confirm(batch, admin).status == ImportStatus.APPLIED
    assert Beneficiary.objects.filter(project=world.p1, household=world.household_a2).exists()


def test_a_payment_line_is_found_by_the_project_and_its_level_alone(world: World, staff: Staff) -> None:
    admin = staff.other_township_admin
    rows = [{"项目编号": "XM-B-001", "资金级次": "中央", "支付日期": "2025-10-01", "支付金额（元）": 90000}]
    batch = confirm(check(admin, sheet("payments", rows), "payments"), admin)
    assert batch.status == ImportStatus.APPLIED, batch.errors
    assert world.line_b.payments.count() == 2
    over = [{**rows[0], "凭证号": "ZF-2", "支付金额（元）": "0.01"}]
    assert error_list(check(admin, sheet("payments", over), "payments")) == [
        (2, "支付金额（元）", "支付金额超出该项资金安排的未支付金额（未支付 0.00 元）")
    ]


def test_a_payment_row_dated_before_its_allocation_was_issued_names_the_cell(world: World, staff: Staff) -> None:
    batch = check(staff.township_admin, sheet("payments", [payment(**{"支付日期": "2025-03-19"})]), "payments")
    assert error_list(batch) == [(2, "支付日期", "支付日期不能早于资金下达日期（2025-03-20）")]
