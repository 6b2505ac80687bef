"""The roster planner's column-wise shortcuts give the answers the row-by-row rules give."""

from __future__ import annotations

import os
from typing import Any

import pytest

from households.excel import forked, roster_rows
from households.excel.forked import ForkedParse
from households.excel.reader import RawRow, Table
from households.excel.roster import RosterPlanner
from households.models import Household, Member
from tests.conftest import Staff
from tests.factories import Tree, household, id_number

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


def test_rows_of_one_household_that_disagree_are_reported_row_by_row(tree: Tree, staff: Staff) -> None:
    code = tree.village_a1.code
    rows = [
        row(code, "H1", "13800000000", "张三", "19800101", "户主"),
        row(code, "H1", "13800000000", "李四", "19820202", "配偶"),
        row(code, "H1", "13900000000", "张五", "20100303", "之子"),
        row(code, "H2", "13700000000", "王六", "19700404", "户主"),
        row(code, "H2", "13700000000", "赵七", "19720505", "配偶"),
    ]
    plan = RosterPlanner(user=staff.superuser, sheet="花名册").run_table(table(rows))
    assert [(e.row, e.column, e.message) for e in plan.errors] == [(4, "联系电话", "与同户第2行不一致")]
    assert plan.counts["households"].new == 1
    assert plan.counts["households"].error == 1


def test_table_and_raw_rows_give_the_same_plan(tree: Tree, staff: Staff) -> None:
    code = tree.village_a1.code
    rows = [
        row(code, "H1", "13800000000", "张三", "19800101", "户主"),
        row(code, "H1", "1380000000x", "李四", "19820202", "配偶"),
        row(code, "H2", "13700000000", "王六", "19700404", "之子"),
    ]
    source = table(rows)
    raw_rows = [RawRow(number, values.values) for number, values in zip(source.row_numbers, source.rows, strict=True)]
    by_table = RosterPlanner(user=staff.superuser, sheet="花名册").run_table(table(rows))
    by_rows = RosterPlanner(user=staff.superuser, sheet="花名册").run(raw_rows)
    assert [e.as_dict() for e in by_table.errors] == [e.as_dict() for e in by_rows.errors]
    assert by_table.summary() == by_rows.summary()
    assert by_table.errors


def test_registered_members_are_unchanged_or_updated_field_by_field(tree: Tree, staff: Staff) -> None:
    target: Household = household(staff.superuser, tree.village_a1, number="H1", phone="13800000000")
    head, spouse = target.members.get(relation="head"), target.members.get(relation="spouse")
    labour = {"ordinary": "普通劳动力", "skilled": "技能劳动力"}
    rows: list[list[Any]] = []
    for member, relation in ((head, "户主"), (spouse, "配偶")):
        household_cells = [tree.village_a1.code, "H1", "脱贫户", 2019.0, "13800000000"]
        rows.append([*household_cells, member.name, member.id_number, relation, labour[member.labour]])
    unchanged = RosterPlanner(user=staff.superuser, sheet="花名册", lock=False).run_table(table(rows))
    assert unchanged.counts["members"].unchanged == 2 and not unchanged.changes

    rows[1][8] = "技能劳动力"
    updated = RosterPlanner(user=staff.superuser, sheet="花名册", lock=False, keep_writes=True).run_table(table(rows))
    assert updated.counts["members"].updated == 1
    assert [(c.field, c.new) for c in updated.changes] == [("劳动技能", "技能劳动力")]
    assert [m.pk for m in updated.writes["updated_members"]] == [spouse.pk]
    assert Member.objects.get(pk=spouse.pk).labour == spouse.labour


def test_identity_numbers_parsed_by_a_forked_child_give_the_same_plan(
    tree: Tree, staff: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tree.village_a1.code
    rows = [
        row(code, "H1", "13800000000", "张三", "19800101", "户主"),
        row(code, "H1", "13800000000", "李四", "19820202", "配偶"),
        row(code, "H2", "13700000000", "王六", "19700404", "户主"),
        row(code, "H3", "13600000000", "赵七", "19600505", "户主"),
    ]
    rows[1][6] = rows[1][6][:-1] + ("0" if rows[1][6][-1] != "0" else "1")  # a wrong check digit
    rows[3][6] = ""
    in_process = RosterPlanner(user=staff.superuser, sheet="花名册").run_table(table(rows))
    forks: list[int] = []
    original = ForkedParse.__init__

    def counting(self: ForkedParse, columns: Any) -> None:
        original(self, columns)
        assert self.pid is not None, "forked"
        forks.append(self.pid)

    monkeypatch.setattr(ForkedParse, "__init__", counting)
    monkeypatch.setattr(roster_rows, "FORK_MIN_ROWS", 0)
    monkeypatch.setattr(forked, "_single_threaded", lambda: True)  # whatever threads the test run keeps
    by_child = RosterPlanner(user=staff.superuser, sheet="花名册").run_table(table(rows))
    assert len(forks) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forks[0], os.WNOHANG)  # already reaped
    assert [e.as_dict() for e in by_child.errors] == [e.as_dict() for e in in_process.errors]
    assert [e.column for e in by_child.errors] == ["身份证号", "身份证号"]
    assert by_child.summary() == in_process.summary()
    assert by_child.summary()["households"]["new"] == 1


def test_a_failed_forked_parse_falls_back_to_parsing_in_process(
    tree: Tree, staff: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tree.village_a1.code
    rows = [
        row(code, "H1", "13800000000", "张三", "19800101", "户主"),
        row(code, "H2", "13700000000", "王六", "19700404", "户主"),
    ]
    rows[1][6] = "53232619700404001"  # 17 digits
    in_process = RosterPlanner(user=staff.superuser, sheet="花名册").run_table(table(rows))

    def crash(*args: Any) -> None:
        os._exit(3)

    monkeypatch.setattr(forked, "_child", crash)
    monkeypatch.setattr(roster_rows, "FORK_MIN_ROWS", 0)
    fallen_back = RosterPlanner(user=staff.superuser, sheet="花名册").run_table(table(rows))
    assert [e.as_dict() for e in fallen_back.errors] == [e.as_dict() for e in in_process.errors]
    assert [e.message for e in fallen_back.errors if e.column == "身份证号"] == ["身份证号应为18位"]
    assert fallen_back.summary() == in_process.summary()


def test_one_person_under_two_households_of_the_file_is_an_error(tree: Tree, staff: Staff) -> None:
    code = tree.village_a1.code
    rows = [
        row(code, "H1", "13800000000", "张三", "19800101", "户主"),
        row(code, "H2", "13700000000", "王六", "19700404", "户主"),
        row(code, "H2", "13700000000", "张三", "19800101", "之子"),
    ]
    rows[2][6] = rows[0][6]
    plan = RosterPlanner(user=staff.superuser, sheet="花名册").run_table(table(rows))
    assert [(e.row, e.column, e.message) for e in plan.errors] == [(4, "身份证号", "与第2行身份证号重复（不同户）")]
    assert plan.counts["households"].new == 1
    assert plan.counts["households"].error == 1
