"""Each normalisation rule for cells as real workbooks hold them."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from households.excel.cell_parsers import (
    CellError,
    CellValue,
    fold,
    parse_bool,
    parse_choice,
    parse_id_number,
    parse_int,
    parse_money,
    parse_month,
    parse_phone,
    parse_quarter,
    parse_region_code,
    parse_text,
    parse_year,
)
from households.excel.columns import INCOME_COLUMNS, ROSTER_COLUMNS, Column, Kind
from households.excel.normalise import parse_cell
from households.id_numbers import id_number_with_check_digit

VALID_ID = id_number_with_check_digit("53232619900101123")
ROSTER = {column.key: column for column in ROSTER_COLUMNS}
INCOME = {column.key: column for column in INCOME_COLUMNS}


def error_of(parse: object, value: CellValue) -> str:
    with pytest.raises(CellError) as caught:
        parse(value)  # type: ignore[operator]
    return caught.value.message


def test_fold_turns_full_width_characters_and_ideographic_spaces_into_plain_ones() -> None:
    assert fold("１２３") == "123"
    assert fold("ＡＢＣ") == "ABC"
    assert fold("\u3000张\u3000 三  丰 ") == "张 三 丰"
    assert fold(None) == ""
    assert fold("") == ""


def test_text_keeps_whole_numbers_without_a_trailing_point_zero() -> None:
    assert parse_text(5323261010010.0) == "5323261010010"
    assert parse_text(" 大村村 ") == "大村村"
    assert parse_text(12.5) == "12.5"


def test_text_refuses_a_number_too_long_to_have_kept_its_digits() -> None:
    assert "设置为文本" in error_of(parse_text, 5.32326e17)


def test_phone_accepts_an_excel_number_and_dashes() -> None:
    assert parse_phone(13812345678.0) == "13812345678"
    assert parse_phone("０８７１－１２３４５６７８") == "0871-12345678"
    assert parse_phone("138 1234 5678") == "13812345678"
    assert parse_phone("") == ""


def test_phone_refuses_letters_and_two_numbers_in_one_cell() -> None:
    assert "只能包含数字" in error_of(parse_phone, "138xxxx5678")
    assert "只能包含数字" in error_of(parse_phone, "13812345678，13912345678")


def test_id_number_is_folded_and_upper_cased() -> None:
    lower_x = id_number_with_check_digit("11010519491231002")
    assert lower_x.endswith("X")
    assert parse_id_number(lower_x.lower()) == lower_x
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in VALID_ID)
    assert parse_id_number(f" {full_width} ") == VALID_ID


@pytest.mark.parametrize("number", [5.32326199001011e17, 532326199001011234, "5.32326E+17", "５.３２３２６Ｅ＋１７"])
def test_id_number_stored_as_a_number_is_refused_never_guessed(number: CellValue) -> None:
    assert error_of(parse_id_number, number).startswith("请将身份证号列设置为文本")


def test_id_number_with_a_wrong_check_digit_gets_the_model_message() -> None:
    wrong = VALID_ID[:-1] + ("0" if VALID_ID[-1] != "0" else "1")
    assert error_of(parse_id_number, wrong) == "身份证号校验码错误，请核对"
    assert error_of(parse_id_number, "12345") == "身份证号应为18位"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234.5, "1234.50"),
        (0.1 + 0.2, "0.30"),
        (100, "100.00"),
        (2.675, "2.68"),
        ("1,234.50", "1234.50"),
        ("１２３元", "123.00"),
        ("¥1,234", "1234.00"),
        ("￥1,234", "1234.00"),
        ("1234.5元", "1234.50"),
        (" 1 234.567 ", "1234.57"),
        ("１，２３４．５", "1234.50"),
        ("", "0.00"),
        (None, "0.00"),
        ("-", "0.00"),
    ],
)
def test_money_reads_amounts_as_people_type_them(value: CellValue, expected: str) -> None:
    assert parse_money(value) == Decimal(expected)


def test_money_refuses_negative_amounts() -> None:
    assert error_of(parse_money, -5) == "金额不能为负数"
    assert error_of(parse_money, "-1,000元") == "金额不能为负数"


@pytest.mark.parametrize("value", ["abc", "1.2.3", "1e5", "五百", True, float("nan")])
def test_money_refuses_what_is_not_an_amount(value: CellValue) -> None:
    assert error_of(parse_money, value).startswith("金额格式不正确：")


def test_money_refuses_amounts_beyond_the_database_column() -> None:
    assert "金额过大" in error_of(parse_money, "1234567890123")


@pytest.mark.parametrize("value", [1e30, 10**30, "1" + "0" * 30, 1.7976931348623157e308])
def test_money_refuses_amounts_too_large_to_round_to_cents(value: CellValue) -> None:
    # Rounding such a number to cents overflows Decimal's 28 digits: a row error, not a failed batch.
    assert "金额过大" in error_of(parse_money, value)


def test_int_reads_numbers_and_units_within_bounds() -> None:
    assert parse_int(6.0, low=0, high=12) == 6
    assert parse_int("６个月", low=0, high=12) == 6
    assert parse_int("", low=0, high=12) is None
    assert "超出范围" in error_of(lambda v: parse_int(v, low=0, high=12), 13)
    assert "应为整数" in error_of(lambda v: parse_int(v, low=0, high=12), 6.5)
    assert "应为整数" in error_of(lambda v: parse_int(v, low=0, high=12), "半年")


@pytest.mark.parametrize("value", [2023, 2023.0, "2023", "2023年", "２０２３年度"])
def test_year_accepts_numbers_and_chinese_suffixes(value: CellValue) -> None:
    assert parse_year(value) == 2023


def test_year_refuses_two_digit_and_far_years() -> None:
    assert "四位年份" in error_of(parse_year, 23)
    assert "四位年份" in error_of(parse_year, "2200")
    assert parse_year(None) is None


@pytest.mark.parametrize(
    "value", [3, 3.0, "3", "第3季度", "三季度", "第三季度", "Q3", "q3", "2023Q3", "2023年第三季度", "３季度"]
)
def test_quarter_accepts_every_common_spelling(value: CellValue) -> None:
    assert parse_quarter(value) == 3


@pytest.mark.parametrize("value", [5, 0, "第五季度", "Q5", "三月", 2.5])
def test_quarter_refuses_what_is_not_one_to_four(value: CellValue) -> None:
    assert "季度" in error_of(parse_quarter, value)


@pytest.mark.parametrize(
    "value",
    [
        202305,
        202305.0,
        "202305",
        "2023-05",
        "2023/5",
        "2023.05",
        "2023年5月",
        "2023年05月",
        "2023-05-17",
        "2023年5月17日",
        "2023/5/17 0:00:00",
        datetime.date(2023, 5, 17),
        datetime.datetime(2023, 5, 17, 8, 30),
        45047,
        45047.0,
        "２０２３年５月",
    ],
)
def test_month_reads_every_common_spelling_as_the_first_of_the_month(value: CellValue) -> None:
    assert parse_month(value) == datetime.date(2023, 5, 1)


@pytest.mark.parametrize("value", ["2023-13", "202313", "五月", 2023.1, 12345, 2023, "1999-05"])
def test_month_refuses_ambiguous_or_impossible_months(value: CellValue) -> None:
    assert "月份" in error_of(parse_month, value)


def test_a_blank_month_is_none() -> None:
    assert parse_month("  ") is None


@pytest.mark.parametrize("value", ["是", "Y", "y", "1", 1, 1.0, "TRUE", "true", "√", True, "是 "])
def test_bool_reads_yes(value: CellValue) -> None:
    assert parse_bool(value) is True


@pytest.mark.parametrize("value", ["否", "N", "0", 0, "false", "×", False])
def test_bool_reads_no(value: CellValue) -> None:
    assert parse_bool(value) is False


def test_bool_leaves_blank_as_none_and_refuses_anything_else() -> None:
    assert parse_bool("") is None
    assert "“是”或“否”" in error_of(parse_bool, "可能")


def test_choice_maps_a_label_to_its_stored_value_and_accepts_the_value_itself() -> None:
    choices = ROSTER["household_type"].choices
    assert parse_choice(" 脱贫户 ", choices) == "lifted"
    assert parse_choice("ordinary", choices) == "ordinary"
    assert parse_choice("", choices) is None


def test_choice_names_the_options_when_the_value_is_not_one() -> None:
    message = error_of(lambda v: parse_choice(v, ROSTER["household_type"].choices), "贫困户")
    assert message == "“贫困户”不是有效选项，可选：脱贫户、一般农户"


def test_region_code_accepts_an_excel_number_because_twelve_digits_survive() -> None:
    assert parse_region_code(532326101001.0) == "532326101001"
    assert parse_region_code("５３２３２６１０１００１") == "532326101001"
    assert "12位数字" in error_of(parse_region_code, "5323261010")
    assert "设置为文本" in error_of(parse_region_code, "5.32326E+11")


def test_parse_cell_dispatches_on_the_column_kind() -> None:
    assert parse_cell(ROSTER["id_number"], VALID_ID.lower()) == VALID_ID
    assert parse_cell(ROSTER["work_months"], "6") == 6
    assert "超出范围" in error_of(lambda v: parse_cell(ROSTER["work_months"], v), 13)
    assert parse_cell(ROSTER["relocated"], "是") is True
    assert parse_cell(ROSTER["identified_month"], "2023年5月") == datetime.date(2023, 5, 1)
    assert parse_cell(ROSTER["relation"], "户主") == "head"
    assert parse_cell(INCOME["quarter"], "Q2") == 2
    assert parse_cell(INCOME["wages_migrant_work"], "1,000元") == Decimal("1000.00")
    assert parse_cell(Column("note", "备注", Kind.TEXT), "  ") == ""


def test_parse_cell_leaves_blank_cells_to_the_required_check() -> None:
    assert parse_cell(ROSTER["id_number"], "") is None
    assert parse_cell(ROSTER["region_code"], None) is None
    assert parse_cell(ROSTER["household_type"], "") is None


def test_parse_cell_knows_every_column_of_both_workbooks() -> None:
    for column in (*ROSTER_COLUMNS, *INCOME_COLUMNS):
        parse_cell(column, "")


def test_parse_cell_remembers_values_without_confusing_one_true_and_one_point_zero() -> None:
    months = ROSTER["work_months"]
    assert parse_cell(months, 1) == 1
    assert parse_cell(months, 1.0) == 1
    for _ in range(2):
        assert "应为整数" in error_of(lambda v: parse_cell(months, v), True)
    relocated = ROSTER["relocated"]
    assert parse_cell(relocated, 1) is True
    assert parse_cell(relocated, "1") is True


def test_columns_with_the_same_key_but_other_choices_are_parsed_by_their_own_choices() -> None:
    first = Column("kind", "类别", Kind.CHOICE, choices={"甲": "a"})
    second = Column("kind", "类别", Kind.CHOICE, choices={"甲": "b"})
    assert (parse_cell(first, "甲"), parse_cell(second, "甲")) == ("a", "b")
