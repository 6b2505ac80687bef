"""The policy arithmetic, without a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from households import formulas
from households.id_numbers import (
    id_number_error,
    id_number_with_check_digit,
    mask_id_number,
    mask_phone,
    normalise_id_number,
    sex_of,
)
from households.quarter import Quarter

D = Decimal


def test_net_income_is_the_four_wheels_minus_operating_costs() -> None:
    totals = formulas.income_totals(
        wages=[D("3000"), D("1200.50")],
        operating=[D("2000"), D("0")],
        property_income=[D("300")],
        transfers=[D("150.25"), D("100")],
        operating_costs=D("800.75"),
    )
    assert totals.wages == D("4200.50")
    assert totals.gross == D("6750.75")
    assert totals.net == D("5950.00")


def test_net_income_may_be_negative_when_costs_exceed_income() -> None:
    totals = formulas.income_totals(
        wages=[], operating=[D("100")], property_income=[], transfers=[], operating_costs=D("400")
    )
    assert totals.net == D("-300")


def test_per_capita_rounds_half_up_to_cents() -> None:
    assert formulas.per_capita(net_income=D("10000"), household_size=3) == D("3333.33")
    assert formulas.per_capita(net_income=D("0.05"), household_size=2) == D("0.03")


def test_per_capita_is_undefined_for_an_empty_household() -> None:
    assert formulas.per_capita(net_income=D("100"), household_size=0) is None


def test_growth_against_the_same_period_last_year() -> None:
    assert formulas.growth(current=D("11920"), previous=D("10000")) == D("0.1920")
    assert formulas.growth(current=D("6000"), previous=D("10000")) == D("-0.4000")


@pytest.mark.parametrize("previous", [None, D("0"), D("-50")])
def test_growth_is_undefined_without_a_positive_base(previous: Decimal | None) -> None:
    assert formulas.growth(current=D("100"), previous=previous) is None


def test_window_per_capita_divides_the_window_by_the_size_at_its_end() -> None:
    # A member joined in Q3: 4 quarters of 6000 net, sizes 2, 2, 3, 3 — 24,000 over 3 people.
    records = [(D("6000"), 2), (D("6000"), 2), (D("6000"), 3), (D("6000"), 3)]
    assert formulas.window_per_capita(records) == D("8000.00")
    assert formulas.window_per_capita([]) is None


def test_window_per_capita_rounds_once_at_the_end() -> None:
    # 14,723.63 over two people is 7,361.815 → 7,361.82; summing the four quarters' rounded
    # per-capita figures (1,840.455 → 1,840.46 each, and so on) would give 7,361.83.
    records = [(D("3680.91"), 2), (D("3680.91"), 2), (D("3680.91"), 2), (D("3680.90"), 2)]
    assert sum(formulas.per_capita(net_income=net, household_size=2) or 0 for net, _ in records) == D("7361.83")
    assert formulas.window_per_capita(records) == D("7361.82")


def test_a_fall_of_more_than_thirty_percent_is_sharp() -> None:
    limit = D("0.30")
    assert formulas.is_sharp_fall(current=D("6900"), previous=D("10000"), limit=limit)
    assert not formulas.is_sharp_fall(current=D("7000"), previous=D("10000"), limit=limit)
    assert not formulas.is_sharp_fall(current=D("100"), previous=None, limit=limit)


def test_quarters_parse_print_and_step() -> None:
    quarter = Quarter.parse("2025Q1")
    assert str(quarter) == "2025Q1"
    assert quarter.previous() == Quarter(2024, 4)
    assert Quarter(2024, 4).next() == quarter
    assert quarter.year_earlier() == Quarter(2024, 1)
    assert [str(q) for q in quarter.trailing_four()] == ["2024Q2", "2024Q3", "2024Q4", "2025Q1"]
    assert quarter.label == "2025年第1季度"


def test_a_quarter_begins_on_its_first_day() -> None:
    assert Quarter(2026, 4).has_begun(date(2026, 10, 1))
    assert Quarter(2026, 4).has_begun(date(2026, 11, 30))
    assert not Quarter(2026, 4).has_begun(date(2026, 9, 30))
    assert not Quarter(2027, 4).has_begun(date(2026, 11, 30))
    assert Quarter(2016, 1).has_begun(date(2026, 11, 30))


def test_a_quarter_ends_on_its_last_day_even_in_the_last_year_a_date_can_hold() -> None:
    assert [Quarter(2026, number).last_day for number in (1, 2, 3, 4)] == [
        date(2026, 3, 31),
        date(2026, 6, 30),
        date(2026, 9, 30),
        date(2026, 12, 31),
    ]
    # "9999Q4" parses; its end must not be computed from a first day of year 10000, which no date holds.
    assert Quarter.parse("9999Q4").last_day == date(9999, 12, 31)


@pytest.mark.parametrize("text", ["2025Q5", "2025", "Q3", "2025-03"])
def test_malformed_quarters_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Quarter.parse(text)


def test_a_generated_id_number_is_valid_and_its_sex_follows_the_seventeenth_digit() -> None:
    number = id_number_with_check_digit("53232619900101123")
    assert id_number_error(number) is None
    assert sex_of(number) == "M"
    assert sex_of(id_number_with_check_digit("53232619900101124")) == "F"


def test_id_number_errors_are_explained_in_chinese() -> None:
    valid = id_number_with_check_digit("53232619900101123")
    wrong_check = valid[:-1] + ("1" if valid[-1] == "0" else "0")
    assert id_number_error(valid[:17]) == "身份证号应为18位"
    assert "校验码" in (id_number_error(wrong_check) or "")
    assert "出生日期" in (id_number_error(id_number_with_check_digit("53232619901301123")) or "")
    assert "格式" in (id_number_error("53232619900101A23X") or "")


def test_an_id_number_of_an_unknown_county_under_a_known_prefecture_is_an_error_not_a_crash() -> None:
    # 5323 is 楚雄州; it has no county 532399 (stdnum's table raised KeyError for it).
    number = id_number_with_check_digit("53239919900101123")
    assert id_number_error(number) == "身份证号中的出生日期或地区代码不存在"


def test_full_width_and_lower_case_id_numbers_are_normalised() -> None:
    assert normalise_id_number(" １１０１０５１９４９１２３１００２ｘ ") == "11010519491231002X"


def test_masking_keeps_only_the_region_and_last_four_digits() -> None:
    assert mask_id_number("532326199001011235") == "532326********1235"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("") == ""
