"""The one masking helper: who sees what, and how numbers inside text are found."""

from __future__ import annotations

from datetime import date

import pytest

from households.personal_data import age_on, masked_text, shown


def test_birth_dates_become_ages_for_masked_roles_and_stay_dates_for_others() -> None:
    born = date(1980, 3, 15)
    assert shown("birth_date", born, reveal=False, today=date(2026, 3, 14)) == "45岁"
    assert shown("出生日期", "1980-03-15", reveal=False, today=date(2026, 3, 15)) == "46岁"
    assert shown("birth_date", born, reveal=True) == "1980-03-15"


def test_age_counts_completed_years() -> None:
    assert age_on(date(2000, 2, 29), date(2026, 2, 28)) == 25
    assert age_on(date(2000, 2, 29), date(2026, 3, 1)) == 26


@pytest.mark.parametrize(
    ("field", "value", "masked"),
    [
        ("id_number", "53232619800315001X", "532326********001X"),
        ("身份证号", "53232619800315001X", "532326********001X"),
        ("phone", "13812345678", "138****5678"),
        ("帮扶责任人电话", "13812345678", "138****5678"),
        ("name", "张三", "张三"),
    ],
)
def test_fields_are_masked_by_name_or_label(field: str, value: str, masked: str) -> None:
    assert shown(field, value, reveal=False) == masked
    assert shown(field, value, reveal=True) == value


def test_numbers_inside_text_are_masked_and_household_numbers_are_not() -> None:
    text = "第3行：身份证号 53232619800315001x 与 L532326198003150027 重复，联系电话13812345678"
    assert masked_text(text) == "第3行：身份证号 532326********001x 与 L532326********0027 重复，联系电话138****5678"
    assert masked_text("户编号 53232610020100001") == "户编号 53232610020100001"
    assert masked_text("户编号 532326100201000012") == "户编号 532326100201000012"
