"""The roster planner: row-by-row rules over column-wise cells, and what it stages."""

from __future__ import annotations

from typing import Any

from households.excel.roster import RosterPlanner
from households.models import Household, Member
from tests.conftest import Staff
from tests.factories import Tree, household, id_number
from workbooks.plan import Plan
from workbooks.reader import Table
from workbooks.staging import Stager

KEYS = ["region_code", "household_number", "household_type", "lifted_year", "phone"]
MEMBER_KEYS = ["member_name", "id_number", "relation", "labour"]


def row(code: str, number: str, phone: str, name: str, birth: str, relation: str) -> list[Any]:
    return [code, number, "脱贫户", 2019.0, phone, name, id_number(birth), relation, "普通劳动力"]


def table(rows: list[list[Any]]) -> Table:
    keys = KEYS + MEMBER_KEYS
    return Table(
        sheet="花名册",
        header_row=1,
        column_map={key: n for n, key in enumerate(keys, start=1)},
        ignored_columns=[],
        row_numbers=list(range(2, len(rows) + 2)),
        data=[list(column) for column in zip(*rows, strict=True)],
    )


def plan_of(staff: Staff, rows: list[list[Any]]) -> Plan:
    return RosterPlanner(user=staff.superuser, sheet="花名册", stager=Stager(batch_id=0)).run(table(rows))


def test_rows_of_one_household_that_disagree_are_reported_row_by_row(tree: Tree, staff: Staff) -> None:
    code = tree.village_a1.code
    rows = [
        row(code, "H1", "13800000000", "张三", "19800101", "户主"),
        row(code, "H1", "13800000000", "李四", "19820202", "配偶"),
        row(code, "H1", "13900000000", "张五", "20100303", "之子"),
        row(code, "H2", "13700000000", "王六", "19700404", "户主"),
        row(code, "H2", "13700000000", "赵七", "19720505", "配偶"),
    ]
    plan = plan_of(staff, rows)
    assert [(e.row, e.column, e.message) for e in plan.errors] == [(4, "联系电话", "与同户第2行不一致")]
    assert plan.counts["households"].new == 1
    assert plan.counts["households"].error == 1


def test_registered_members_are_unchanged_or_updated_field_by_field(tree: Tree, staff: Staff) -> None:
    target: Household = household(staff.superuser, tree.village_a1, number="H1", phone="13800000000")
    head, spouse = target.members.get(relation="head"), target.members.get(relation="spouse")
    labour = {"ordinary": "普通劳动力", "skilled": "技能劳动力"}
    rows: list[list[Any]] = []
    for member, relation in ((head, "户主"), (spouse, "配偶")):
        household_cells = [tree.village_a1.code, "H1", "脱贫户", 2019.0, "13800000000"]
        rows.append([*household_cells, member.name, member.id_number, relation, labour[member.labour]])
    unchanged = plan_of(staff, rows)
    assert unchanged.counts["members"].unchanged == 2 and not unchanged.changes

    rows[1][8] = "技能劳动力"
    stager = Stager(batch_id=0)
    updated = RosterPlanner(user=staff.superuser, sheet="花名册", stager=stager).run(table(rows))
    assert updated.counts["members"].updated == 1
    assert [(c.field, c.new) for c in updated.changes] == [("劳动技能", "技能劳动力")]
    staged = [(row[3], row[4], row[5]) for row in stager.pending]
    assert ("households.household", "check", target.pk) in staged
    assert ("households.member", "update", spouse.pk) in staged
    assert len(staged) == 2
    assert Member.objects.get(pk=spouse.pk).labour == spouse.labour


def test_one_person_under_two_households_of_the_file_is_an_error(tree: Tree, staff: Staff) -> None:
    code = tree.village_a1.code
    rows = [
        row(code, "H1", "13800000000", "张三", "19800101", "户主"),
        row(code, "H2", "13700000000", "王六", "19700404", "户主"),
        row(code, "H2", "13700000000", "张三", "19800101", "之子"),
    ]
    rows[2][6] = rows[0][6]
    plan = plan_of(staff, rows)
    assert [(e.row, e.column, e.message) for e in plan.errors] == [(4, "身份证号", "与第2行身份证号重复（不同户）")]
    assert plan.counts["households"].new == 1
    assert plan.counts["households"].error == 1


def test_member_cells_that_break_a_field_rule_are_reported_on_their_row_and_column(tree: Tree, staff: Staff) -> None:
    from tests.households.excel.test_import import check, family, workbook

    rows = family(tree.village_a1.code, "H001", "张三", 2) + family(tree.village_a1.code, "H002", "李四", 3)
    rows[1][6] = "长" * 33  # the first household's spouse
    rows[4][6] = "长" * 32  # the longest name a member may have
    batch = check(staff.village_clerk, workbook(rows))
    assert [(e["row"], e["column"], e["message"]) for e in batch.errors] == [
        (4, "成员姓名", "不能超过32个字（现有33个）")
    ]
    assert batch.counts["households"]["new"] == 1 and batch.counts["members"]["new"] == 3
