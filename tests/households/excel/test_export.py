"""Roster and income exports: one row per member, masking, monitoring columns, flat query counts."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from households import selectors
from households.excel.columns import INCOME_COLUMNS, ROSTER_COLUMNS
from households.excel.export import export_filename, income_rows, risk_type_names, roster_rows
from households.excel.writer import rows_workbook
from households.models import Household, HouseholdType, IncomeRecord, MonitoringCase, Relation, RiskType
from households.services import monitoring_case_register
from tests.conftest import Staff
from tests.factories import Tree, household, income, member

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\t=1"]


def _three_member_household(staff: Staff, tree: Tree, **fields: str) -> Household:
    return household(
        staff.village_clerk,
        tree.village_a1,
        members=[
            member(name="张三"),
            member(Relation.SPOUSE, name="李四", birth="19820202"),
            member(Relation.SON, name="张小明", birth="20100303", labour="none", schooling="primary"),
        ],
        phone="13812345678",
        **fields,
    )


def _open_case(staff: Staff, target: Household, *risk_codes: str) -> MonitoringCase:
    return monitoring_case_register(
        by=staff.village_clerk,
        household=target,
        category="unstable",
        identified_month=date(2024, 5, 1),
        risk_types=RiskType.objects.filter(code__in=risk_codes),
    )


def _all_xml(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "".join(archive.read(name).decode() for name in archive.namelist())


def _roster(
    staff: Staff, households: QuerySet[Household] | None = None, *, reveal: bool = True
) -> list[dict[str, Any]]:
    queryset = households if households is not None else selectors.household_list(user=staff.township_admin)
    return list(roster_rows(households=queryset, reveal_personal_data=reveal))


def test_a_household_of_three_gives_three_rows_with_household_columns_repeated(tree: Tree, staff: Staff) -> None:
    target = _three_member_household(staff, tree)
    rows = _roster(staff)
    assert [row["member_name"] for row in rows] == ["张三", "李四", "张小明"]
    assert {key for row in rows for key in row} == {column.key for column in ROSTER_COLUMNS}
    for row in rows:
        assert row["household_number"] == target.number
        assert row["head_name"] == "张三"
        assert (row["county"], row["township"], row["village"]) == ("大姚县", "金碧镇", "大村村")
        assert row["region_code"] == "532326100201"
        assert row["household_type"] == HouseholdType.LIFTED
        assert row["lifted_year"] == 2019
        assert row["phone"] == "13812345678"
        assert row["category"] is None
        assert row["eliminated"] is None
    assert rows[2]["relation"] == Relation.SON
    assert rows[2]["schooling"] == "primary"
    ids = set(target.members.values_list("id_number", flat=True))
    assert {row["id_number"] for row in rows} == ids


def test_members_who_left_are_not_exported(tree: Tree, staff: Staff) -> None:
    target = _three_member_household(staff, tree)
    target.members.filter(relation=Relation.SON).update(is_active=False, left_reason="迁出")
    assert [row["member_name"] for row in _roster(staff)] == ["张三", "李四"]


def test_export_keeps_the_list_order_and_scope(tree: Tree, staff: Staff) -> None:
    second = household(staff.village_clerk, tree.village_a1, number="532326100201900002")
    first = household(staff.village_clerk, tree.village_a1, number="532326100201900001")
    household(staff.other_township_admin, tree.village_b1, number="532326200201900001")
    numbers = [row["household_number"] for row in _roster(staff)]
    assert numbers == [first.number, first.number, second.number, second.number]
    descending = selectors.household_list(user=staff.township_admin, ordering="-number")
    assert next(row["household_number"] for row in _roster(staff, descending)) == second.number


def test_without_personal_data_rights_numbers_are_masked_everywhere_in_the_file(tree: Tree, staff: Staff) -> None:
    target = _three_member_household(staff, tree)
    ids = list(target.members.values_list("id_number", flat=True))
    rows = _roster(staff, reveal=False)
    assert rows[0]["id_number"] == ids[0][:6] + "********" + ids[0][-4:]
    assert rows[0]["phone"] == "138****5678"
    xml = _all_xml(rows_workbook("roster", rows, risk_type_names=risk_type_names(user=staff.village_clerk)))
    assert not any(number in xml for number in ids)
    assert "13812345678" not in xml
    assert ids[0][:6] + "********" + ids[0][-4:] in xml


def test_with_personal_data_rights_full_numbers_are_exported(tree: Tree, staff: Staff) -> None:
    target = _three_member_household(staff, tree)
    xml = _all_xml(
        rows_workbook("roster", _roster(staff, reveal=True), risk_type_names=risk_type_names(user=staff.village_clerk))
    )
    assert all(number in xml for number in target.members.values_list("id_number", flat=True))
    assert "13812345678" in xml


def test_the_open_case_is_exported_with_its_risk_types_by_name(tree: Tree, staff: Staff) -> None:
    target = _three_member_household(staff, tree)
    MonitoringCase.objects.create(
        household=target,
        category="unstable",
        identified_month=date(2021, 1, 1),
        eliminated_month=date(2022, 1, 1),
        elimination_method="natural",
    )
    _open_case(staff, target, "schooling", "illness")
    row = _roster(staff)[0]
    assert (row["category"], row["identified_month"]) == ("unstable", date(2024, 5, 1))
    assert [row[f"risk_type_{n}"] for n in range(1, 6)] == ["因病", "因学", None, None, None]
    assert (row["eliminated"], row["eliminated_month"], row["elimination_method"]) == (False, None, None)


def test_only_eliminated_cases_export_the_latest_as_eliminated(tree: Tree, staff: Staff) -> None:
    target = _three_member_household(staff, tree)
    for identified, eliminated, method in ((2020, 2021, "natural"), (2022, 2023, "assisted")):
        case = MonitoringCase.objects.create(
            household=target,
            category="unstable",
            identified_month=date(identified, 1, 1),
            eliminated_month=date(eliminated, 3, 1),
            elimination_method=method,
        )
        case.risk_types.set(RiskType.objects.filter(code="illness"))
    row = _roster(staff)[0]
    assert (row["eliminated"], row["eliminated_month"], row["elimination_method"]) == (
        True,
        date(2023, 3, 1),
        "assisted",
    )
    assert row["identified_month"] == date(2022, 1, 1)
    cells = load_workbook(
        io.BytesIO(rows_workbook("roster", [row], risk_type_names=risk_type_names(user=staff.village_clerk)))
    )["花名册"][2]
    values = {column.key: cell.value for column, cell in zip(ROSTER_COLUMNS, cells, strict=False)}
    assert (values["eliminated"], values["eliminated_month"], values["elimination_method"]) == (
        "是",
        "2023-03",
        "帮扶消除",
    )
    assert (values["category"], values["risk_type_1"]) == ("脱贫不稳定户", "因病")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_exported_names_that_look_like_formulas_stay_inert_text(tree: Tree, staff: Staff, hostile: str) -> None:
    household(
        staff.village_clerk,
        tree.village_a1,
        members=[member(name=hostile, work_place=hostile), member(Relation.SPOUSE, name="李四", birth="19820202")],
    )
    content = rows_workbook("roster", _roster(staff), risk_type_names=risk_type_names(user=staff.village_clerk))
    assert "<f>" not in _all_xml(content) and "<f " not in _all_xml(content)
    sheet = load_workbook(io.BytesIO(content))["花名册"]
    keys = [column.key for column in ROSTER_COLUMNS]
    for key in ("head_name", "member_name", "work_place"):
        cell = sheet.cell(row=2, column=keys.index(key) + 1)
        assert (cell.value, cell.data_type, cell.quotePrefix) == (hostile, "s", True)


def test_income_rows_carry_the_head_amounts_and_derived_totals(tree: Tree, staff: Staff) -> None:
    target = _three_member_household(staff, tree)
    income(staff.village_clerk, target, "2025Q2", wages_migrant_work="3000.50", operating_costs="500")
    income(staff.village_clerk, target, "2025Q1", transfer_minimum_living="900")
    rows = list(income_rows(records=IncomeRecord.objects.filter(household=target)))
    assert [(row["year"], row["quarter"]) for row in rows] == [(2025, 1), (2025, 2)]
    assert {key for row in rows for key in row} == {column.key for column in INCOME_COLUMNS}
    second = rows[1]
    assert (second["household_number"], second["head_name"]) == (target.number, "张三")
    assert second["wages_migrant_work"] == Decimal("3000.50")
    assert second["net_income"] == Decimal("2500.50")
    assert second["per_capita_net_income"] == Decimal("833.50")
    sheet = load_workbook(io.BytesIO(rows_workbook("income", rows, risk_type_names=[])))["收入表"]
    keys = [column.key for column in INCOME_COLUMNS]
    for key in ("wages_migrant_work", "net_income", "per_capita_net_income", "transfer_pension"):
        cell = sheet.cell(row=3, column=keys.index(key) + 1)
        assert (cell.data_type, cell.number_format) == ("n", "0.00")
    assert sheet.cell(row=3, column=keys.index("net_income") + 1).value == 2500.5
    assert sheet.cell(row=3, column=1).data_type == "s"


def _count_export_queries(staff: Staff, chunk_size: int) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as context:
        rows = list(
            roster_rows(
                households=selectors.household_list(user=staff.township_admin),
                reveal_personal_data=False,
                chunk_size=chunk_size,
            )
        )
    return len(context.captured_queries), len(rows)


def test_roster_export_queries_do_not_grow_with_households_members_or_cases(tree: Tree, staff: Staff) -> None:
    _open_case(staff, _three_member_household(staff, tree), "illness")
    few_queries, few_rows = _count_export_queries(staff, chunk_size=2000)
    for _ in range(6):
        _open_case(staff, _three_member_household(staff, tree), "illness", "disability")
    many_queries, many_rows = _count_export_queries(staff, chunk_size=2000)
    assert (few_rows, many_rows) == (3, 21)
    # The ids, then households, members, cases and risk types once per chunk.
    assert few_queries == many_queries == 5
    chunked_queries, _rows = _count_export_queries(staff, chunk_size=3)
    assert chunked_queries == 1 + 4 * 3


def test_income_export_is_one_query(tree: Tree, staff: Staff) -> None:
    for _ in range(3):
        target = _three_member_household(staff, tree)
        income(staff.village_clerk, target, "2025Q1", wages_other="100")
    with CaptureQueriesContext(connection) as context:
        rows = list(income_rows(records=IncomeRecord.objects.all()))
    assert len(rows) == 3
    assert len(context.captured_queries) == 1


def test_export_filename_names_kind_region_and_day() -> None:
    assert export_filename("roster", "金碧镇", date(2026, 11, 23)) == "花名册_金碧镇_20261123.xlsx"
    assert export_filename("income", "大姚县", datetime(2026, 1, 2, 15, 0)) == "收入表_大姚县_20260102.xlsx"
    assert export_filename("roster", "a/b c", date(2026, 1, 2)) == "花名册_abc_20260102.xlsx"
