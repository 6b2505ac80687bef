"""Columns of record registers (workbooks.records) built on this app's cell parsers, one builder per kind of cell.

Registers of the apps above households (industries, cooperatives, funds) declare their columns
with these, so every register reads a date, an amount, a choice or a 身份证号 the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.db import models

from households.excel.cell_parsers import (
    parse_choice,
    parse_date,
    parse_id_number,
    parse_money,
    parse_phone,
    parse_text,
    parse_year,
)
from households.id_numbers import mask_id_number, mask_phone
from workbooks.headers import CellValue
from workbooks.records import Column
from workbooks.records.declaration import Parser

TEXT = "@"
MONEY = "0.00"
DATE = "yyyy-mm-dd"


def _blank(value: CellValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(
    key: str, header: str, field: str | None = None, *, code: bool = False, parse: Parser = parse_text, **options: Any
) -> Column:
    """Free text (names, addresses); code=True keeps the column as text in Excel (户编号, 合同编号)."""
    if code:
        options.setdefault("number_format", TEXT)
        options.setdefault("width", 22)
    return Column(key, header, parse, field=field, **options)


def listed(key: str, header: str, names: Callable[[], Sequence[str]], **options: Any) -> Column:
    """The name of an item of a list (入社方式, 收益类型, 产业…), with the list as the drop-down."""
    return Column(key, header, parse_text, options=names, **options)


def money(key: str, header: str, field: str, *, blank_is_none: bool = False, **options: Any) -> Column:
    """Yuan with two decimals; a blank cell is 0.00, or None (unknown, or 必填项为空 in a required column)
    with blank_is_none or required."""
    blank_is_none = blank_is_none or bool(options.get("required"))

    def parse(value: CellValue) -> Decimal | None:
        return None if blank_is_none and _blank(value) else parse_money(value)

    return Column(key, header, parse, field=field, number_format=MONEY, width=14, **options)


def day(key: str, header: str, field: str, **options: Any) -> Column:
    """A date: a date cell, "2024-03-01", "2024/3/1", "2024年3月1日"…; blank is None."""
    help_text = options.pop("help", "") or "如 2024-03-01"
    return Column(key, header, parse_date, field=field, number_format=DATE, width=12, help=help_text, **options)


def year(key: str, header: str, field: str, **options: Any) -> Column:
    """A four-digit year, also written "2024年"."""
    return Column(key, header, parse_year, field=field, help=options.pop("help", "") or "如 2024", **options)


def choice(key: str, header: str, model: type[models.Model], field: str, **options: Any) -> Column:
    """A field with choices: its labels in the cell (the stored values are read too); blank is the field's default."""
    model_field: Any = model._meta.get_field(field)
    labels = {str(label): str(value) for value, label in model_field.flatchoices}
    by_value = {value: label for label, value in labels.items()}
    default = model_field.get_default() if model_field.has_default() else ""

    def parse(value: CellValue) -> Any:
        parsed = parse_choice(value, labels)
        return default if parsed is None else parsed

    return Column(
        key,
        header,
        parse,
        field=field,
        render=lambda value: by_value.get(value, value),
        options=lambda: list(labels),
        **options,
    )


def phone(key: str, header: str, field: str, **options: Any) -> Column:
    """A phone number (digits and -), masked in the exports of roles that may not see personal data."""
    return Column(key, header, parse_phone, field=field, number_format=TEXT, width=14, mask=mask_phone, **options)


def id_number(key: str, header: str, **options: Any) -> Column:
    """An 18-character 身份证号, kept as text, masked for roles that may not see personal data; blank is None."""

    def parse(value: CellValue) -> str | None:
        return None if _blank(value) else parse_id_number(value)

    return Column(key, header, parse, number_format=TEXT, width=22, mask=mask_id_number, **options)
