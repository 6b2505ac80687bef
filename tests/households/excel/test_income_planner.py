"""The 收入表 planner judges column by column: the same rules, messages, rows and columns as a form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from households.models import IncomeRecord
from tests.conftest import Staff
from tests.factories import Tree, household, income
from tests.households.excel.test_import import check, confirm, workbook
from workbooks.models import ImportStatus

HEADER = ["户编号", "户主姓名", "年度", "季度", "家庭人口数", "务工收入", "低保金"]


def income_file(rows: list[list[Any]]) -> bytes:
    return workbook(rows, header=HEADER, title="收入表")


def test_income_rule_errors_name_the_row_and_column_in_row_order(tree: Tree, staff: Staff) -> None:
    household(staff.village_clerk, tree.village_a1, number="H001")
    rows = [
        ["H001", "", 2025, 1, 2, 100, 0],
        ["H001", "", 2030, 1, 2, 100, 0],  # a quarter that has not begun (IncomeRecord.clean)
        ["H001", "", 2025, 2, 0, 100, 0],  # 家庭人口数 below the model's minimum
        ["H001", "", 2015, 3, 2, 100, 0],  # 年度 below the model's minimum
        ["H001", "", 2025, 1, 2, 300, 0],  # the first row's quarter again
        ["NOPE", "", 2025, 1, 2, 100, 0],
        ["H001", "", 2025, 4, 3, 50.5, 12],
    ]
    batch = check(staff.village_clerk, income_file(rows), kind="income", name="收入.xlsx")
    assert batch.status == ImportStatus.INVALID
    assert [(e["row"], e["column"], e["message"]) for e in batch.errors] == [
        (4, "季度", "2030年第1季度尚未开始，不能录入收入"),
        (5, "家庭人口数", "不能小于1"),
        (6, "年度", "不能小于2016"),
        (7, "季度", "与第3行重复（同一户同一季度）"),
        (8, "户编号", "户编号 NOPE 不存在或不在您的管辖范围内"),
    ]
    assert batch.counts["income"] == {"new": 2, "updated": 0, "unchanged": 0, "error": 5}


def test_an_income_file_updates_only_the_quarters_it_changes_and_computes_the_totals(tree: Tree, staff: Staff) -> None:
    target = household(staff.village_clerk, tree.village_a1, number="H001")
    income(staff.village_clerk, target, "2025Q1", wages_migrant_work="3000")
    income(staff.village_clerk, target, "2025Q2", wages_migrant_work="1000")
    size = target.size()
    rows = [
        ["H001", "", 2025, 1, size, 3000, 0],  # as recorded
        ["H001", "", 2025, 2, 4, 1000, 200.5],  # four people now, and 低保金
        ["H001", "", 2025, 3, None, 900, None],  # new: the household's active members
    ]
    batch = check(staff.village_clerk, income_file(rows), kind="income", name="收入.xlsx")
    assert batch.status == ImportStatus.READY, batch.errors
    assert batch.counts["income"] == {"new": 1, "updated": 1, "unchanged": 1, "error": 0}
    assert {(c["field"], c["old"], c["new"]) for c in batch.changes} == {
        ("家庭人口数", str(size), "4"),
        ("低保金", "0.00", "200.50"),
    }
    confirm(batch, staff.village_clerk)
    second = IncomeRecord.objects.get(household=target, year=2025, quarter=2)
    assert (second.household_size, second.net_income, second.per_capita_net_income) == (
        4,
        Decimal("1200.50"),
        Decimal("300.13"),
    )
    third = IncomeRecord.objects.get(household=target, year=2025, quarter=3)
    assert third.household_size == target.size()
    assert third.net_income == Decimal("900.00")


def test_a_recorded_quarter_that_breaks_a_rule_is_reported_when_the_file_changes_it(tree: Tree, staff: Staff) -> None:
    target = household(staff.village_clerk, tree.village_a1, number="H001")
    income(staff.village_clerk, target, "2025Q1", wages_migrant_work="3000")
    rows = [["H001", "", 2025, 1, 0, 3000, 5]]
    batch = check(staff.village_clerk, income_file(rows), kind="income", name="收入.xlsx")
    assert [(e["row"], e["column"], e["message"]) for e in batch.errors] == [(3, "家庭人口数", "不能小于1")]
