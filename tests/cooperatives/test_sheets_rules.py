"""Every rule of the cooperatives registers, broken in a file: named by row and column in Chinese, nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cooperatives.models import Binding, Earning, Entity, Membership
from cooperatives.sheets import SHEETS
from households.models import Household, HouseholdStatus
from tests.conftest import Staff
from tests.cooperatives.sheet_world import (
    World,
    build_world,
    check,
    checksums,
    credit_code,
    error_list,
    grant_cooperative_permissions,
    workbook,
)
from tests.factories import Tree
from workbooks.models import ImportStatus, StagedRow


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(tree: Tree, staff: Staff) -> World:
    grant_cooperative_permissions(staff)
    return build_world(tree, staff)


def sheet(name: str, rows: list[dict[str, Any]]) -> bytes:
    """A file of the register with every column, the rows given by header (data from row 2)."""
    header = [column.header for column in SHEETS[name].columns]
    return workbook(header, [[row.get(title) for title in header] for row in rows])


def wrong_check_character(code: str) -> str:
    return code[:-1] + ("0" if code[-1] != "0" else "1")


def enterprise_row(**cells: Any) -> dict[str, Any]:
    return {"主体类型": "龙头企业", "名称": "新龙头企业", "统一社会信用代码": credit_code(90), **cells}


def cooperative_row(**cells: Any) -> dict[str, Any]:
    return {"主体类型": "农民专业合作社", "名称": "新合作社", "统一社会信用代码": credit_code(91), **cells}


# (register, role, rows, expected row, column, a part of the message)
CASES: list[tuple[str, str, Any, int, str, str]] = [
    (
        "entities",
        "county_admin",
        lambda w: [
            enterprise_row(统一社会信用代码=wrong_check_character(credit_code(90)), 注册地区划代码="532326000000")
        ],
        2,
        "统一社会信用代码",
        "不正确：应为18位，末位校验码须与前17位相符",
    ),
    (
        "entities",
        "county_admin",
        lambda w: [cooperative_row(注册地区划代码="532326100000")],
        2,
        "注册地区划代码",
        "合作社的注册地应选到村",
    ),
    (
        "entities",
        "county_admin",
        lambda w: [cooperative_row(注册地区划代码="532326100201", **{"年销售额（元）": 100})],
        2,
        "年销售额（元）",
        "年销售额只对龙头企业填写",
    ),
    (
        "entities",
        "county_admin",
        lambda w: [cooperative_row(注册地区划代码="532326100201", 经营产业="核桃、咖啡")],
        2,
        "经营产业",
        "“咖啡”不在注册地所在县的产业目录中",
    ),
    (
        "entities",
        "county_admin",
        lambda w: [enterprise_row(主体类型="公司", 注册地="大姚县")],
        2,
        "主体类型",
        "“公司”不是有效选项",
    ),
    (
        "entities",
        "county_admin",
        lambda w: [enterprise_row(注册地区划代码="532399000000")],
        2,
        "注册地区划代码",
        "注册地区划代码“532399000000”不存在或不在您的管辖范围内",
    ),
    (
        "entities",
        "county_admin",
        lambda w: [cooperative_row(注册地区划代码="532326100201", 注册地="石丫村")],
        2,
        "注册地",
        "注册地与注册地区划代码对应的不是同一行政区划",
    ),
    (
        "entities",
        "county_admin",
        lambda w: [enterprise_row(注册地="大姚县", 状态="已注销")],
        2,
        "注销日期",
        "注销须填写注销日期",
    ),
    (
        "entities",
        "county_admin",
        lambda w: [enterprise_row(注册地="大姚县", 成立日期="2023-13-01")],
        2,
        "成立日期",
        "日期“2023-13-01”不存在或超出范围",
    ),
    (
        "entities",
        "county_admin",
        lambda w: [enterprise_row(注册地="大姚县"), enterprise_row(注册地="大姚县", 名称="另一个")],
        3,
        "统一社会信用代码",
        "与第2行重复",
    ),
    (
        "entities",
        "county_admin",
        lambda w: [enterprise_row(注册地="大姚县", 名称="长" * 5000)],
        2,
        "名称",
        "不能超过100个字（现有5000个）",
    ),
    (
        "entities",
        "township_admin",
        lambda w: [enterprise_row(注册地区划代码="532326000000")],
        2,
        "注册地区划代码",
        "注册地不在您的管辖范围内，不能登记或修改该主体",
    ),
    (
        "entities",
        "township_admin",
        lambda w: [enterprise_row(注册地区划代码="532326200201")],
        2,
        "注册地区划代码",
        "注册地区划代码“532326200201”不存在或不在您的管辖范围内",
    ),
    (
        "entities",
        "township_admin",
        lambda w: [enterprise_row(统一社会信用代码=w.county_enterprise.credit_code, 名称="改名", 注册地="大姚县")],
        2,
        "统一社会信用代码",
        "您无权修改该经营主体（大姚核桃集团）",
    ),
    (
        "entities",
        "township_admin",
        lambda w: [cooperative_row(统一社会信用代码=w.cooperative_b1.credit_code, 注册地区划代码="532326100201")],
        2,
        "统一社会信用代码",
        "已登记在其他经营主体名下（不在您的管辖范围内），不能重复登记",
    ),
    (
        "bindings",
        "township_admin",
        lambda w: [_binding(w, w.cooperative_a2, 开始日期="2024-05-01", 结束日期="2024-01-01")],
        2,
        "结束日期",
        "结束日期不能早于开始日期",
    ),
    (
        "bindings",
        "township_admin",
        lambda w: [_binding(w, w.cooperative_a2, 企业统一社会信用代码=w.cooperative_a1.credit_code, 企业名称="")],
        2,
        "企业统一社会信用代码",
        "“大村核桃专业合作社”不是龙头企业",
    ),
    (
        "bindings",
        "township_admin",
        lambda w: [_binding(w, w.cooperative_b1)],
        2,
        "合作社统一社会信用代码",
        "不存在或不在您的管辖范围内",
    ),
    (
        "bindings",
        "township_admin",
        lambda w: [_binding(w, w.cooperative_a2, 利益联结方式="")],
        2,
        "利益联结方式",
        "必填项为空",
    ),
    (
        "bindings",
        "township_admin",
        lambda w: [_binding(w, w.cooperative_a2, 利益联结方式="资产收益、入股分红")],
        2,
        "利益联结方式",
        "“入股分红”不存在或不可选",
    ),
    (
        "bindings",
        "township_admin",
        lambda w: [_binding(w, w.cooperative_a2), _binding(w, w.cooperative_a2, 开始日期="2024-06-01")],
        3,
        "开始日期",
        "与第2行的绑定期间重叠（同一企业同一合作社）",
    ),
    (
        "bindings",
        "township_admin",
        lambda w: [_binding(w, w.cooperative_a1, 开始日期="2024-01-01")],
        2,
        "开始日期",
        "该企业与该合作社在此期间已有绑定",
    ),
    (
        "bindings",
        "township_admin",
        lambda w: [_binding(w, w.cooperative_a2, 企业名称="别的公司")],
        2,
        "企业名称",
        "企业名称“别的公司”与登记的“大姚核桃集团”不一致，请核对",
    ),
    (
        "memberships",
        "village_clerk",
        lambda w: [_member(w, 户编号="H-X-404")],
        2,
        "户编号",
        "户编号“H-X-404”不存在或不在您的管辖范围内",
    ),
    (
        "memberships",
        "village_clerk",
        lambda w: [_member(w, 户编号="H-A2-001")],
        2,
        "户编号",
        "户编号“H-A2-001”不存在或不在您的管辖范围内",
    ),
    (
        "memberships",
        "village_clerk",
        lambda w: [_member(w, 身份证号=w.household_a1.members.get().id_number)],
        2,
        "身份证号",
        "身份证号与户编号对应的不是同一农户",
    ),
    ("memberships", "village_clerk", lambda w: [_member(w, 户编号="")], 2, "户编号", "户编号、身份证号至少填写一项"),
    (
        "memberships",
        "village_clerk",
        lambda w: [_member(w, 入社方式="入股")],
        2,
        "入社方式",
        "入社方式“入股”不是可选的值，可选：资金入股、土地经营权入股、劳动力入股、产品交售、其他",
    ),
    (
        "memberships",
        "village_clerk",
        lambda w: [_member(w, 退社日期="2024-01-01")],
        2,
        "退社日期",
        "退社日期不能早于入社日期",
    ),
    (
        "memberships",
        "township_admin",
        lambda w: [_member(w, 合作社统一社会信用代码=w.township_enterprise.credit_code, 合作社名称="")],
        2,
        "合作社统一社会信用代码",
        "“金碧花椒公司”不是合作社",
    ),
    (
        "memberships",
        "village_clerk",
        lambda w: [_member(w, 合作社统一社会信用代码=w.cooperative_a2.credit_code, 合作社名称="")],
        2,
        "合作社统一社会信用代码",
        "不存在或不在您的管辖范围内",
    ),
    (
        "memberships",
        "village_clerk",
        lambda w: [_member(w, 户主姓名="王麻子")],
        2,
        "户主姓名",
        "户主姓名“王麻子”与登记的“李四”不一致",
    ),
    (
        "memberships",
        "village_clerk",
        lambda w: [_member(w, **{"入股金额（元）": "-5"})],
        2,
        "入股金额（元）",
        "金额不能为负数",
    ),
    (
        "memberships",
        "village_clerk",
        lambda w: [_member(w), _member(w, 入社日期="2024-06-01", 退社日期="2024-09-01")],
        3,
        "入社日期",
        "与第2行的入社期间重叠（同一户同一合作社）",
    ),
    (
        "earnings",
        "village_clerk",
        lambda w: [_earning(w, w.household_a1b)],
        2,
        "合作社统一社会信用代码",
        "该户在2024年不是该合作社成员",
    ),
    ("earnings", "village_clerk", lambda w: [_earning(w, w.household_a1, 年度=2012)], 2, "年度", "年度不能早于2013年"),
    (
        "earnings",
        "village_clerk",
        lambda w: [_earning(w, w.household_a1, **{"金额（元）": None})],
        2,
        "金额（元）",
        "必填项为空",
    ),
    (
        "earnings",
        "village_clerk",
        lambda w: [_earning(w, w.household_b1)],
        2,
        "户编号",
        "户编号“H-B1-001”不存在或不在您的管辖范围内",
    ),
    # The rules the pages keep when a binding or membership begins hold in a file too.
    (
        "bindings",
        "county_admin",
        lambda w: [_binding(w, w.cooperative_a1, 开始日期="2017-01-01")],
        2,
        "合作社统一社会信用代码",
        "“大村核桃专业合作社”在2017-01-01未成立或已注销",
    ),
    (
        "memberships",
        "village_clerk",
        lambda w: [_member(w, 入社日期="2017-03-01")],
        2,
        "入社日期",
        "“大村核桃专业合作社”在2017-03-01未成立或已注销",
    ),
]


def _binding(w: World, cooperative: Entity, **cells: Any) -> dict[str, Any]:
    return {
        "企业统一社会信用代码": w.county_enterprise.credit_code,
        "企业名称": "大姚核桃集团",
        "合作社统一社会信用代码": cooperative.credit_code,
        "合作社名称": cooperative.name,
        "开始日期": "2024-01-01",
        "利益联结方式": "产品代销",
        **cells,
    }


def _member(w: World, **cells: Any) -> dict[str, Any]:
    return {
        "合作社统一社会信用代码": w.cooperative_a1.credit_code,
        "合作社名称": w.cooperative_a1.name,
        "户编号": w.household_a1b.number,
        "入社方式": "资金入股",
        "入社日期": "2024-03-01",
        **cells,
    }


def _earning(w: World, household: Any, **cells: Any) -> dict[str, Any]:
    return {
        "户编号": household.number,
        "合作社统一社会信用代码": w.cooperative_a1.credit_code,
        "年度": 2024,
        "收益类型": "土地流转租金",
        "金额（元）": 800,
        **cells,
    }


@pytest.mark.parametrize(("name", "role", "rows", "row", "column", "message"), CASES)
def test_a_broken_rule_names_its_row_and_column_and_nothing_is_written(
    world: World, staff: Staff, name: str, role: str, rows: Any, row: int, column: str, message: str
) -> None:
    before = checksums()
    batch = check(getattr(staff, role), sheet(name, rows(world)), name)
    assert batch.status == ImportStatus.INVALID, batch.errors
    assert any(
        (error_row, error_column) == (row, column) and message in text
        for error_row, error_column, text in error_list(batch)
    ), error_list(batch)
    assert not StagedRow.objects.filter(batch=batch).exists()
    assert checksums() == before


def test_one_bad_row_among_good_ones_writes_nothing(world: World, staff: Staff) -> None:
    rows = [
        _member(world),
        _member(world, 入社日期="2022-01-01", 退社日期="2022-12-31"),
        _member(world, 户编号="H-X-404"),
    ]
    batch = check(staff.village_clerk, sheet("memberships", rows), "memberships")
    assert batch.status == ImportStatus.INVALID
    assert batch.counts["memberships"]["error"] == 1
    assert error_list(batch) == [(4, "户编号", "户编号“H-X-404”不存在或不在您的管辖范围内")]
    assert Membership.objects.count() == 2 and not StagedRow.objects.filter(batch=batch).exists()


def test_an_out_of_scope_key_reads_exactly_as_an_unknown_one(world: World, staff: Staff) -> None:
    """The clerk of 大村村 learns nothing of 石丫村's household or cooperative from the messages."""

    def messages(**cells: Any) -> list[str]:
        batch = check(staff.village_clerk, sheet("memberships", [_member(world, **cells)]), "memberships")
        return [text for _, _, text in error_list(batch)]

    hidden, missing = world.household_a2.number, "H-A2-999"
    assert messages(户编号=hidden) == [f"户编号“{hidden}”不存在或不在您的管辖范围内"]
    assert messages(户编号=missing) == [f"户编号“{missing}”不存在或不在您的管辖范围内"]
    hidden_member = world.household_a2.members.get().id_number
    assert messages(户编号="", 身份证号=hidden_member) == [f"身份证号“{hidden_member}”不存在或不在您的管辖范围内"]
    hidden_cooperative, missing_cooperative = world.cooperative_a2.credit_code, credit_code(77)
    for code in (hidden_cooperative, missing_cooperative):
        assert messages(合作社统一社会信用代码=code, 合作社名称="") == [
            f"合作社统一社会信用代码“{code}”不存在或不在您的管辖范围内"
        ]


def test_a_household_is_found_by_any_active_members_id_number(world: World, staff: Staff) -> None:
    number = world.household_a1b.members.get().id_number
    rows = [_member(world, 户编号="", 身份证号=number.lower() if number[-1] == "X" else number)]
    batch = check(staff.village_clerk, sheet("memberships", rows), "memberships")
    assert batch.status == ImportStatus.READY, batch.errors
    assert batch.counts["memberships"]["new"] == 1


def test_new_records_of_every_register_are_written_with_their_lists(world: World, staff: Staff) -> None:
    from tests.cooperatives.sheet_world import confirm

    admin = staff.township_admin
    entity_rows = [cooperative_row(注册地区划代码="532326100202", 经营产业="花椒、核桃", 联系电话="0878-1234567")]
    assert confirm(check(admin, sheet("entities", entity_rows), "entities"), admin).status == "applied"
    created = Entity.objects.get(credit_code=credit_code(91))
    assert sorted(created.industries.values_list("name", flat=True)) == ["核桃", "花椒"]
    assert created.history.get().industries.count() == 2
    binding_rows = [_binding(world, created, 合作社名称="新合作社", 利益联结方式="产品代销、生产托管", 结束日期="")]
    assert confirm(check(admin, sheet("bindings", binding_rows), "bindings"), admin).status == "applied"
    binding = Binding.objects.get(cooperative=created)
    assert sorted(binding.linkage_types.values_list("name", flat=True)) == ["产品代销", "生产托管"]
    member_rows = [_member(world, 合作社统一社会信用代码=created.credit_code, 合作社名称="新合作社")]
    assert confirm(check(admin, sheet("memberships", member_rows), "memberships"), admin).status == "applied"
    earning_rows = [
        _earning(world, world.household_a1b, 合作社统一社会信用代码=created.credit_code, 收益类型=kind)
        for kind in ("分红", "务工工资")
    ]
    assert confirm(check(admin, sheet("earnings", earning_rows), "earnings"), admin).status == "applied"
    assert Earning.objects.filter(cooperative=created).count() == 2


def test_a_region_name_shared_by_two_villages_is_settled_by_its_code(world: World, staff: Staff, tree: Tree) -> None:
    from regions.models import Level, Region

    Region.objects.create(code="532326200202", name="大村村", level=Level.VILLAGE, parent=tree.township_b)
    admin = staff.county_admin
    named = check(admin, sheet("entities", [cooperative_row(注册地="大村村")]), "entities")
    assert error_list(named) == [(2, "注册地", "注册地“大村村”对应多条记录，请改填其他列以确定")]
    coded = check(
        admin, sheet("entities", [cooperative_row(注册地="大村村", 注册地区划代码="532326200202")]), "entities"
    )
    assert coded.status == ImportStatus.READY, coded.errors
    assert (
        StagedRow.objects.get(batch=coded, action="create").values["region_id"]
        == Region.objects.get(code="532326200202").pk
    )


def test_a_new_record_without_a_column_for_a_required_reference_is_refused_by_the_model(
    world: World, staff: Staff
) -> None:
    content = workbook(["主体类型", "名称", "统一社会信用代码"], [["龙头企业", "无注册地公司", credit_code(95)]])
    batch = check(staff.county_admin, content, "entities")
    assert error_list(batch) == [(2, "注册地区划代码", "必填项为空")]


def test_a_cancelled_household_cannot_join_a_cooperative_by_file(world: World, staff: Staff) -> None:
    Household.objects.filter(pk=world.household_a1b.pk).update(
        status=HouseholdStatus.CANCELLED, cancelled_reason="户籍迁出"
    )
    batch = check(staff.village_clerk, sheet("memberships", [_member(world)]), "memberships")
    assert batch.status == ImportStatus.INVALID
    assert error_list(batch) == [(2, "户编号", "已注销农户不能加入合作社")]
