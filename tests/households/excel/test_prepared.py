"""A confirmation that writes the preview's prepared rows (PostgreSQL) writes what planning again writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from households.excel import batches
from households.excel.models import ImportBatch, ImportStatus
from households.excel.roster import RosterPlanner
from households.models import Household, Member, MonitoringCase, RiskType
from households.services import household_update
from tests.conftest import Staff
from tests.factories import Tree, household, id_number
from tests.households.excel.test_import import check, confirm, workbook

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared writes are PostgreSQL COPY text; the PostgreSQL run covers them"
)

HEADER = [
    "区划代码",
    "户编号",
    "户类型",
    "脱贫年度",
    "联系电话",
    "监测对象类别",
    "识别时间",
    "风险类型1",
    "成员姓名",
    "身份证号",
    "与户主关系",
    "劳动技能",
    "务工地点",
    "务工月数",
]


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every planning of a roster, as whether it held row locks (True: the confirmation planned again)."""
    seen: list[bool] = []
    original = RosterPlanner.run_table

    def run_table(self: RosterPlanner, table: Any) -> Any:
        seen.append(self.lock)
        return original(self, table)

    monkeypatch.setattr(RosterPlanner, "run_table", run_table)
    return seen


def roster(tree: Tree, existing: Household) -> bytes:
    code = tree.village_a1.code
    illness = RiskType.objects.get(code="illness").name
    head = existing.members.get(relation="head")
    new = [code, "N001", "脱贫户", 2019, "13800000001", "脱贫不稳定户", "2024-05", illness]
    known = [code, existing.number, "脱贫户", 2019, "13900000009", "", "", ""]
    rows = [
        # A new household with an open case; a backslash COPY must escape in 务工地点 (\\N would read as NULL).
        [*new, "张三", id_number("19700101"), "户主", "普通劳动力", "广东\\N东莞", 6],
        [*new, "张三甲", id_number("19720202"), "配偶", "普通劳动力", "", 0],
        # The existing household: a new phone, its head now works away, and a new member.
        [*known, head.name, head.id_number, "户主", "普通劳动力", "昆明", 10],
        [*known, "新成员", id_number("20100303"), "之子", "无劳动力", "", 0],
    ]
    return workbook(rows, header=HEADER)


def written(batch: ImportBatch) -> dict[str, Any]:
    """What the batch wrote, without ids, times and versions (the undo in between bumps them)."""
    reason = batch.history_reason
    skip = {"id", "household_id", "uuid", "created_at", "updated_at", "history_id", "history_date", "version"}

    numbers = dict(Household.objects.values_list("pk", "number"))

    def rows(queryset: Any) -> list[dict[str, Any]]:
        values = [
            {**{k: v for k, v in row.items() if k not in skip}, "household": numbers.get(row.get("household_id"))}
            for row in queryset.values()
        ]
        return sorted(values, key=repr)

    return {
        "households": rows(Household.objects.filter(number__in=["N001", "E001"])),
        "members": rows(Member.objects.filter(household__number__in=["N001", "E001"])),
        "cases": rows(MonitoringCase.objects.filter(household__number="N001")),
        "risks": sorted(MonitoringCase.objects.filter(household__number="N001").values_list("risk_types__code")),
        "history": [
            rows(model.history.filter(history_change_reason=reason)) for model in (Household, Member, MonitoringCase)
        ],
    }


def test_prepared_rows_write_what_the_orm_path_writes(
    tree: Tree, staff: Staff, plans: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001", phone="13700000000")
    content = roster(tree, existing)

    first = check(staff.village_clerk, content)
    assert first.status == ImportStatus.READY, first.errors
    assert Path(f"{first.file.path}.writes").exists()
    assert confirm(first, staff.village_clerk).status == ImportStatus.APPLIED
    assert plans == [False], "the confirmation wrote the prepared rows without planning again"
    assert Member.objects.get(household__number="N001", relation="head").work_place == "广东\\N东莞"
    assert Household.objects.get(number="E001").version == existing.version + 1
    prepared = written(first)
    batches.import_batch_rollback(batch=ImportBatch.objects.get(pk=first.pk), by=staff.village_clerk)
    assert not Household.objects.filter(number="N001").exists()
    assert Household.objects.get(number="E001").phone == "13700000000"

    # The same file through the other way of writing (SQLite's): model instances, bulk_create/update_with_history.
    plans.clear()
    monkeypatch.setattr(batches, "_can_prepare", lambda: False)
    second = check(staff.village_clerk, content)
    assert not Path(f"{second.file.path}.writes").exists()
    assert confirm(second, staff.village_clerk).status == ImportStatus.APPLIED
    assert plans == [False, True], "without prepared rows the confirmation plans again"
    planned = written(second)
    for kind in ("households", "members", "cases", "risks"):
        assert prepared[kind] == planned[kind], kind
    # History rows differ only in the batch they name.
    for old, new in zip(prepared["history"], planned["history"], strict=True):
        assert [{**row, "history_change_reason": ""} for row in old] == [
            {**row, "history_change_reason": ""} for row in new
        ]
    assert len(prepared["history"][1]) == 4  # three new members, one updated


def test_members_of_many_new_households_land_in_their_own(tree: Tree, staff: Staff, plans: list[bool]) -> None:
    code = tree.village_a1.code
    rows = [
        [code, f"M{n:03d}", "脱贫户", 2019, "", "", "", "", name, id_number("19700101"), relation, "普通劳动力"]
        for n in range(60)
        for name, relation in ((f"户主{n}", "户主"), (f"配偶{n}", "配偶"))
    ]
    batch = check(staff.village_clerk, workbook(rows, header=HEADER[:12]))
    assert confirm(batch, staff.village_clerk).status == ImportStatus.APPLIED
    assert plans == [False]
    placed = {(m.household.number, m.name) for m in Member.objects.select_related("household")}
    assert placed == {(row[1], row[8]) for row in rows}


def test_another_import_changing_only_members_makes_the_confirmation_plan_again(
    tree: Tree, staff: Staff, plans: list[bool]
) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001", phone="13700000000")
    first = check(staff.village_clerk, roster(tree, existing))
    # Meanwhile another file, with a column the first one lacks, changes the members only.
    code = tree.village_a1.code
    header = ["区划代码", "户编号", "户类型", "脱贫年度", "联系电话", "成员姓名", "身份证号", "与户主关系", "劳动技能"]
    relation = {"head": "户主", "spouse": "配偶"}
    before = list(existing.members.order_by("-relation"))
    members = [
        [
            code,
            "E001",
            "脱贫户",
            2019,
            "13700000000",
            m.name,
            m.id_number,
            relation[m.relation],
            "普通劳动力",
            "长期慢性病",
        ]
        for m in before
    ]
    other = check(staff.village_clerk, workbook(members, header=[*header, "健康状况"]))
    assert other.counts["members"]["updated"] == 2, other.errors
    assert confirm(other, staff.village_clerk).status == ImportStatus.APPLIED

    plans.clear()
    assert confirm(first, staff.village_clerk).status == ImportStatus.APPLIED
    assert plans == [True], "the household moved on: the confirmation plans again"
    assert {Member.objects.get(pk=m.pk).health for m in before} == {"chronic"}
    head = Member.objects.get(household=existing, relation="head")
    assert (head.work_place, head.work_months) == ("昆明", 10)


def test_undoing_another_import_after_the_preview_makes_the_confirmation_plan_again(
    tree: Tree, staff: Staff, plans: list[bool]
) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001", phone="13700000000")
    code = tree.village_a1.code
    header = ["区划代码", "户编号", "户类型", "脱贫年度", "联系电话", "成员姓名", "身份证号", "与户主关系", "劳动技能"]
    head = existing.members.get(relation="head")
    added = [
        [code, "E001", "脱贫户", 2019, "13700000000", head.name, head.id_number, "户主", "普通劳动力"],
        [code, "E001", "脱贫户", 2019, "13700000000", "后来者", id_number("20150505"), "之女", "无劳动力"],
    ]
    earlier = confirm(check(staff.village_clerk, workbook(added, header=header)), staff.village_clerk)
    assert earlier.status == ImportStatus.APPLIED
    batch = check(staff.village_clerk, roster(tree, existing))
    batches.import_batch_rollback(batch=ImportBatch.objects.get(pk=earlier.pk), by=staff.village_clerk)

    plans.clear()
    assert confirm(batch, staff.village_clerk).status == ImportStatus.APPLIED
    assert plans == [True]
    assert not Member.objects.filter(name="后来者").exists()


def test_a_new_head_replacing_the_old_one_is_written(tree: Tree, staff: Staff, plans: list[bool]) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001", phone="13700000000")
    code = tree.village_a1.code
    header = ["区划代码", "户编号", "户类型", "脱贫年度", "联系电话", "成员姓名", "身份证号", "与户主关系", "劳动技能"]
    old_head = existing.members.get(relation="head")
    spouse = existing.members.get(relation="spouse")
    rows = [
        [code, "E001", "脱贫户", 2019, "13700000000", old_head.name, old_head.id_number, "之子", "普通劳动力"],
        [code, "E001", "脱贫户", 2019, "13700000000", spouse.name, spouse.id_number, "户主", "普通劳动力"],
        [code, "E001", "脱贫户", 2019, "13700000000", "新户主", id_number("19900909"), "配偶", "普通劳动力"],
    ]
    batch = check(staff.village_clerk, workbook(rows, header=header))
    assert batch.status == ImportStatus.READY, batch.errors
    assert confirm(batch, staff.village_clerk).status == ImportStatus.APPLIED
    assert plans == [False]
    assert Member.objects.get(household=existing, relation="head").pk == spouse.pk


def test_an_edit_after_the_preview_makes_the_confirmation_plan_again(
    tree: Tree, staff: Staff, plans: list[bool]
) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001", phone="13700000000")
    batch = check(staff.village_clerk, roster(tree, existing))
    assert batch.status == ImportStatus.READY
    existing.address = "改过的地址"
    household_update(by=staff.village_clerk, household=existing, expected_version=existing.version)

    assert confirm(batch, staff.village_clerk).status == ImportStatus.APPLIED
    assert plans == [False, True]
    updated = Household.objects.get(number="E001")
    assert (updated.address, updated.phone) == ("改过的地址", "13900000009")


def test_a_household_registered_meanwhile_under_the_same_number_fails_the_confirmation(
    tree: Tree, staff: Staff, plans: list[bool]
) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001")
    batch = check(staff.village_clerk, roster(tree, existing))
    household(staff.village_clerk, tree.village_a1, number="N001")

    result = confirm(batch, staff.village_clerk)
    # The prepared rows trip the unique 户编号; planning again finds the household and its members' clash.
    assert plans == [False, True]
    assert result.status == ImportStatus.FAILED
    assert Member.objects.filter(household__number="N001").count() == 2  # its own two, none from the file
    assert Household.objects.get(number="E001").phone == existing.phone


def test_altered_prepared_rows_are_never_used(tree: Tree, staff: Staff, plans: list[bool]) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001")
    batch = check(staff.village_clerk, roster(tree, existing))
    kept = Path(f"{batch.file.path}.writes")
    data = bytearray(kept.read_bytes())
    data[-20] ^= 1
    kept.write_bytes(bytes(data))

    assert confirm(batch, staff.village_clerk).status == ImportStatus.APPLIED
    assert plans == [False, True]
    assert not kept.exists()


def test_another_user_confirming_makes_the_confirmation_plan_again(tree: Tree, staff: Staff, plans: list[bool]) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001")
    batch = check(staff.village_clerk, roster(tree, existing))
    assert confirm(batch, staff.township_admin).status == ImportStatus.APPLIED
    assert plans == [False, True]
    assert Household.objects.get(number="N001").history.get().history_user == staff.township_admin
