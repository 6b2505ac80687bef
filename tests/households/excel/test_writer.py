"""Templates and filled workbooks: layout, drop-downs, value formats and formula neutralisation."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook

from households.excel.columns import INCOME_COLUMNS, ROSTER_COLUMNS, Kind
from households.excel.writer import (
    NOTES_TITLE,
    OPTIONS_TITLE,
    TEMPLATE_ROWS,
    rows_workbook,
    template_workbook,
)

RISKS = ["因病", "因残", "因学", "因自然灾害"]
HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\t=1", "\r=1", "=1+1"]


def _sheet(content: bytes, title: str) -> Worksheet:
    return load_workbook(io.BytesIO(content))[title]


def _xml_parts(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist() if name.endswith(".xml")}


def _validations(sheet: Worksheet) -> dict[str, tuple[str, str]]:
    """Column letter → (list source, covered range) of each drop-down."""
    found = {}
    for validation in sheet.data_validations.dataValidation:
        assert validation.type == "list"
        for cell_range in validation.sqref.ranges:
            found[re.sub(r"\d", "", cell_range.coord.split(":")[0])] = (validation.formula1, cell_range.coord)
    return found


def _letter(columns: tuple[Any, ...], key: str) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter([column.key for column in columns].index(key) + 1)


@pytest.mark.parametrize(
    ("kind", "title", "columns"), [("roster", "花名册", ROSTER_COLUMNS), ("income", "收入表", INCOME_COLUMNS)]
)
def test_template_has_the_data_sheet_then_the_notes_sheet_with_headers_in_spec_order(
    kind: Any, title: str, columns: tuple[Any, ...]
) -> None:
    content = template_workbook(kind, risk_type_names=RISKS)
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == [title, NOTES_TITLE]
    sheet = workbook[title]
    assert [cell.value for cell in sheet[1]] == [column.header for column in columns]
    assert sheet.max_row == 1
    assert sheet.freeze_panes == "A2"


def test_template_marks_required_columns_by_style_not_by_header_text() -> None:
    sheet = _sheet(template_workbook("roster", risk_type_names=RISKS), "花名册")
    for cell, column in zip(sheet[1], ROSTER_COLUMNS, strict=True):
        assert "*" not in cell.value
        assert cell.font.bold is column.required
        assert cell.fill.fgColor.rgb.endswith("FFE699") is column.required


def test_template_offers_drop_downs_on_every_choice_and_yes_no_column() -> None:
    sheet = _sheet(template_workbook("roster", risk_type_names=RISKS), "花名册")
    validations = _validations(sheet)
    choice_columns = [column for column in ROSTER_COLUMNS if column.kind in (Kind.CHOICE, Kind.BOOL)]
    assert len(validations) == len(choice_columns)
    for column in choice_columns:
        letter = _letter(ROSTER_COLUMNS, column.key)
        source, covered = validations[letter]
        labels = RISKS if column.key.startswith("risk_type_") else list(column.choices)
        assert source == '"' + ",".join(labels) + '"'
        assert covered == f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"
    assert validations[_letter(ROSTER_COLUMNS, "household_type")][0] == '"脱贫户,一般农户"'
    assert validations[_letter(ROSTER_COLUMNS, "relocated")][0] == '"是,否"'


def test_a_long_risk_list_moves_to_a_hidden_sheet_of_options() -> None:
    many = [f"风险类型名称很长的第{n}项" for n in range(30)]
    workbook = load_workbook(io.BytesIO(template_workbook("roster", risk_type_names=many)))
    assert workbook.sheetnames[:2] == ["花名册", NOTES_TITLE]
    options = workbook[OPTIONS_TITLE]
    assert options.sheet_state == "hidden"
    assert [row[0].value for row in options.iter_rows()] == many
    assert options.max_column == 1
    validations = _validations(workbook["花名册"])
    for n in range(1, 6):
        assert validations[_letter(ROSTER_COLUMNS, f"risk_type_{n}")][0] == f"'{OPTIONS_TITLE}'!$A$1:$A$30"
    assert validations[_letter(ROSTER_COLUMNS, "relocated")][0] == '"是,否"'


def test_a_label_with_a_comma_cannot_be_an_inline_list() -> None:
    workbook = load_workbook(io.BytesIO(template_workbook("roster", risk_type_names=["因病", "因灾,因意外"])))
    assert [row[0].value for row in workbook[OPTIONS_TITLE].iter_rows()] == ["因病", "因灾,因意外"]


def test_template_formats_identifier_and_month_columns_as_text() -> None:
    sheet = _sheet(template_workbook("roster", risk_type_names=RISKS), "花名册")
    for key in ("id_number", "household_number", "region_code", "phone", "identified_month"):
        assert sheet.column_dimensions[_letter(ROSTER_COLUMNS, key)].number_format == "@", key
    assert sheet.column_dimensions[_letter(ROSTER_COLUMNS, "member_name")].number_format == "General"


def test_notes_sheet_explains_every_column_with_aliases_and_allowed_values() -> None:
    notes = _sheet(template_workbook("roster", risk_type_names=RISKS), NOTES_TITLE)
    rows = {row[0]: row for row in notes.iter_rows(values_only=True) if row[0]}
    for column in ROSTER_COLUMNS:
        _header, requirement, aliases, help_text, allowed = rows[column.header]
        assert requirement == ("必填" if column.required else "选填")
        assert (aliases or "") == "、".join(column.aliases)
        assert (help_text or "") == column.help
        if column.kind == Kind.CHOICE and column.choices:
            assert allowed == "、".join(column.choices)
    assert rows["风险类型1"][4] == "因病、因残、因学、因自然灾害"
    text = "\n".join(str(row[0]) for row in notes.iter_rows(values_only=True) if row[0])
    assert "每行填写一名家庭成员" in text
    assert "文本格式" in text


def test_income_notes_mark_derived_columns_as_computed() -> None:
    notes = _sheet(template_workbook("income", risk_type_names=[]), NOTES_TITLE)
    rows = {row[0]: row for row in notes.iter_rows(values_only=True) if row[0]}
    assert rows["人均纯收入"][1] == "系统计算，导入时忽略"
    assert rows["户编号"][1] == "必填"
    assert "金额单位为元" in "".join(str(key) for key in rows)


def test_rows_are_written_as_labels_months_text_and_numbers() -> None:
    row = {
        "region_code": "532326100201",
        "household_number": "0053232610020100001",
        "household_type": "lifted",
        "lifted_year": 2019,
        "relocated": False,
        "phone": "13812345678",
        "category": "unstable",
        "identified_month": date(2023, 5, 1),
        "risk_type_1": "因病",
        "eliminated": True,
        "eliminated_month": date(2024, 3, 1),
        "elimination_method": "assisted",
        "member_name": "张三",
        "id_number": "532326198001011234",
        "relation": "head",
        "labour": "weak",
        "medical_insurance": True,
        "work_months": 0,
    }
    content = rows_workbook("roster", [row], risk_type_names=RISKS)
    sheet = _sheet(content, "花名册")
    cells = {column.key: sheet.cell(row=2, column=index) for index, column in enumerate(ROSTER_COLUMNS, start=1)}
    assert cells["household_type"].value == "脱贫户"
    assert cells["relocated"].value == "否"
    assert cells["eliminated"].value == "是"
    assert cells["medical_insurance"].value == "是"
    assert cells["category"].value == "脱贫不稳定户"
    assert cells["elimination_method"].value == "帮扶消除"
    assert cells["relation"].value == "户主"
    assert cells["labour"].value == "弱劳动力或半劳动力"
    assert (cells["identified_month"].value, cells["identified_month"].number_format) == ("2023-05", "@")
    assert cells["eliminated_month"].value == "2024-03"
    for key in ("id_number", "household_number", "region_code", "phone"):
        assert cells[key].data_type == "s"
        assert cells[key].number_format == "@"
        assert cells[key].value == row[key]
    assert (cells["lifted_year"].value, cells["lifted_year"].data_type) == (2019, "n")
    assert cells["work_months"].value == 0
    assert cells["health"].value is None
    assert sheet.max_row == 2
    assert sheet.calculate_dimension() == "A1:AC2"


def test_money_is_a_two_decimal_number_never_text() -> None:
    row = {"household_number": "1", "year": 2025, "quarter": 3, "wages_migrant_work": Decimal("12345.60")}
    sheet = _sheet(rows_workbook("income", [{**row, "net_income": Decimal("-20.05")}], risk_type_names=[]), "收入表")
    wages = sheet.cell(row=2, column=6)  # after 户编号, 户主姓名, 年度, 季度, 家庭人口数
    assert (wages.value, wages.data_type, wages.number_format) == (12345.6, "n", "0.00")
    assert sheet.cell(row=2, column=len(INCOME_COLUMNS) - 1).value == -20.05


@pytest.mark.parametrize("hostile", HOSTILE)
def test_text_that_looks_like_a_formula_stays_the_exact_text(hostile: str) -> None:
    row = {"member_name": hostile, "work_place": hostile, "household_number": hostile, "risk_type_1": hostile}
    content = rows_workbook("roster", [row], risk_type_names=RISKS)
    parts = _xml_parts(content)
    assert not any("<f>" in xml or "<f " in xml for xml in parts.values())
    assert re.search(r'<xf [^>]*quotePrefix="1"', parts["xl/styles.xml"])
    sheet = _sheet(content, "花名册")
    for key in row:
        cell = sheet.cell(row=2, column=[column.key for column in ROSTER_COLUMNS].index(key) + 1)
        assert cell.value == hostile
        assert cell.data_type == "s"
        assert cell.quotePrefix is True


def test_ordinary_text_gets_no_quote_prefix() -> None:
    sheet = _sheet(
        rows_workbook("roster", [{"member_name": "张三", "work_place": "昆明"}], risk_type_names=[]), "花名册"
    )
    assert sheet["U2"].value == "张三"
    assert sheet["U2"].quotePrefix is False


def test_awkward_characters_survive_a_round_trip_through_calamine() -> None:
    texts = ['a & <b> "c"', "\r\n换行", " 前后空格 ", "_x0041_", "控制\x01字符", "全角ＡＢＣ１２３"]
    rows = [{"member_name": text} for text in texts]
    content = rows_workbook("roster", rows, risk_type_names=[])
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_name("花名册").to_python()
    column = [column.key for column in ROSTER_COLUMNS].index("member_name")
    assert [row[column] for row in sheet[1:]] == texts


def test_drop_downs_follow_an_export_longer_than_the_template() -> None:
    rows = ({"member_name": f"成员{n}", "relation": "son"} for n in range(TEMPLATE_ROWS + 10))
    content = rows_workbook("roster", rows, risk_type_names=RISKS)
    sheet = load_workbook(io.BytesIO(content), read_only=True)["花名册"]
    assert sheet.max_row == TEMPLATE_ROWS + 11
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    letter = _letter(ROSTER_COLUMNS, "relation")
    assert f'sqref="{letter}2:{letter}{TEMPLATE_ROWS + 11}"' in xml
