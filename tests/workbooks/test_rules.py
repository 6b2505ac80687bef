"""FieldRules.failing, the column-wise check, finds exactly the values error() refuses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from households.models import Household, IncomeRecord, Member
from workbooks.rules import FieldRules


def refused_one_by_one(model: Any, name: str, values: list[Any], skip: tuple[Any, ...]) -> set[int]:
    """The values field.clean() refuses, judged in full one by one (no memo, no quick test)."""
    field = FieldRules(model).fields[name]
    return {index for index, value in enumerate(values) if value not in skip and FieldRules._judge(field, value)}


@pytest.mark.parametrize(
    ("model", "name", "values"),
    [
        (Member, "name", ["张三", "", "李" * 32, "李" * 33, "王\x00五", "张三", None, 7]),
        (Household, "phone", ["13812345678", "0851-1234567", "abc", "", "1" * 21, "13812345678", "138 1234"]),
        (
            IncomeRecord,
            "wages_migrant_work",
            [
                Decimal("12.50"),
                Decimal("-0.01"),
                Decimal("0.00"),
                Decimal("1.005"),
                Decimal("999999999999.99"),
                Decimal("1000000000000.00"),
                Decimal("5E+3"),
                Decimal("1.0"),
                Decimal("1.000"),
                None,
                1.5,
                "12",
            ],
        ),
        (IncomeRecord, "household_size", [1, 0, 3, True, False, None, 1.0, -1]),
        (IncomeRecord, "year", [2025, 2015, 2101, 2016, 2025]),
        (IncomeRecord, "quarter", [1, 4, 5, 0, "1"]),
    ],
)
def test_failing_finds_the_values_that_error_refuses(model: Any, name: str, values: list[Any]) -> None:
    for skip in ((None,), (None, Decimal("0.00"))):
        expected = refused_one_by_one(model, name, values, skip)
        assert FieldRules(model).failing(name, values, skip=skip) == expected
    assert FieldRules(model).failing(name, values)  # each list holds a value the field refuses
    rules, field = FieldRules(model), FieldRules(model).fields[name]
    assert [rules.error(name, value) for value in values] == [FieldRules._judge(field, value) for value in values]


def test_failing_ignores_a_field_the_rules_do_not_judge() -> None:
    assert FieldRules(IncomeRecord).failing("net_income", [Decimal("-1")]) == set()


def test_error_tells_apart_equal_numbers_that_differ_in_places() -> None:
    rules = FieldRules(IncomeRecord)
    assert rules.error("wages_other", Decimal("1.0")) is None
    assert rules.error("wages_other", Decimal("1.000")) == "最多保留2位小数"
