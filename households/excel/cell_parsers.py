"""Each kind of cell as real workbooks hold it → a clean Python value, or a Chinese reason why not.

Pure functions, no ORM: normalise.py applies them column by column, each distinct value once.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, cast

from django.core.exceptions import ValidationError

from households.excel.columns import Column, Kind
from households.id_numbers import normalised_id_number_error
from households.models import validate_phone
from workbooks.cells import CellError
from workbooks.characters import invisible_character_error
from workbooks.reader import CellValue

# What a masked export holds: it cannot be imported (it would write the asterisks).
MASKED = "已脱敏（含“*”）：脱敏导出的文件不能用于导入，请由有权查看完整信息的账号导出后再导入"
ID_NUMBER_AS_NUMBER = "请将身份证号列设置为文本"
ID_NUMBER_HINT = "（以数字保存的身份证号已丢失末几位，请设为文本格式后重新录入）"
CENT = Decimal("0.01")
# DecimalField(max_digits=14, decimal_places=2).
MONEY_MAX = Decimal("999999999999.99")
# Excel keeps 15 significant digits; integers beyond that may already have lost some.
EXACT_DIGITS = 15
EXCEL_EPOCH = datetime.date(1899, 12, 30)
YEAR_LOW, YEAR_HIGH = 2000, 2100
# Integer columns without their own bounds are only checked for being whole and non-negative.
INT_BOUNDS: dict[str, tuple[int, int]] = {"work_months": (0, 12)}
DEFAULT_INT_BOUNDS = (0, 1_000_000)

# Full-width ASCII (U+FF01–U+FF5E) → ASCII; str.split() then handles every kind of space (U+3000, NBSP).
_FOLD_TABLE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
# translate() is slow on Chinese text; the search is fast and most cells need no folding at all.
_FULL_WIDTH = re.compile("[\uff01-\uff5e]")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?E[+-]?\d+$", re.IGNORECASE)
_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}
_QUARTER = re.compile(r"^(?:\d{4}(?:年度?|-|/)?)?(?:第)?([1-4一二三四])(?:季度|季)?$|^(?:\d{4}-?)?Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})(?:[-/.年])(\d{1,2})(?:月份?)?(?:(?:[-/.])(\d{1,2})日?|(\d{1,2})日)?$")
_INT_WITH_UNIT = re.compile(r"^(\d+)(?:\.0+)?(?:个月|月|人|个|年度|年)?$")
_TIME_OF_DAY = re.compile(r"\s+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_TRUE = {"是", "Y", "YES", "1", "TRUE", "√", "✓", "✔", "对"}
_FALSE = {"否", "N", "NO", "0", "FALSE", "×", "✗", "✘", "X"}
# Lone dashes or slashes are how paper forms say "nothing" in an amount cell.
_NOTHING = {"-", "—", "/", "无"}


def fold(text: object) -> str:
    """Full-width ASCII → half-width, ideographic space → space, trimmed, inner runs of space collapsed."""
    if text is None:
        return ""
    folded = text if isinstance(text, str) else str(text)
    if _FULL_WIDTH.search(folded):
        folded = folded.translate(_FOLD_TABLE)
    return " ".join(folded.split())


def _is_blank(value: CellValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(value: CellValue) -> str:
    """The value as quoted back in a message, kept short; a whole number as the clerk typed it (13, not 13.0)."""
    if isinstance(value, float) and (whole := _whole_number(value)) is not None:
        value = whole
    text = fold(value)
    return text if len(text) <= 30 else text[:30] + "…"


def _whole_number(value: float) -> int | None:
    """An Excel number that is a whole number with every digit intact, else None."""
    if math.isfinite(value) and value == int(value) and abs(value) < 10**EXACT_DIGITS:
        return int(value)
    return None


def parse_text(value: CellValue) -> str:
    """Free text: folded; numbers Excel typed for us come back without a trailing .0."""
    if value.__class__ is str:
        # Refused, not dropped: a name with a zero-width space is not the name the clerk sees.
        invisible = invisible_character_error(value)  # type: ignore[arg-type]
        if invisible is not None:
            raise CellError(invisible)
        return fold(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        whole = _whole_number(value)
        if whole is not None:
            return str(whole)
        if math.isfinite(value) and abs(value) >= 10**EXACT_DIGITS:
            raise CellError("数字位数过多，Excel 已丢失末几位，请将本列设置为文本后重新录入")
        return repr(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return fold(value)


def parse_phone(value: CellValue) -> str:
    """A phone number: spaces dropped, then the model's rule (households.models.validate_phone)."""
    text = parse_text(value).replace(" ", "")
    if "*" in text:
        raise CellError(MASKED)
    try:
        validate_phone(text)
    except ValidationError as error:
        raise CellError("；".join(error.messages)) from error
    if len(text) > 20:
        raise CellError("联系电话不能超过20位")
    return text


def parse_id_number(value: CellValue) -> str:
    """An 18-character 身份证号; one Excel stored as a number is refused, never repaired."""
    if value.__class__ is not str:  # (the test below costs more than a check of the number)
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise CellError(ID_NUMBER_AS_NUMBER + ID_NUMBER_HINT)
        if not isinstance(value, str):
            raise CellError("身份证号应为18位文本")
    value = cast(str, value)
    if "*" in value:
        raise CellError(MASKED)
    # fold() of ASCII text only collapses whitespace, which is then dropped altogether.
    if value.isascii():
        number = "".join(value.split()).upper()
    elif (invisible := invisible_character_error(value)) is not None:
        raise CellError(invisible)
    else:
        number = fold(value).replace(" ", "").upper()
    if "E" in number and _SCIENTIFIC.match(number):  # (upper-cased) the test alone costs more than a check
        raise CellError(ID_NUMBER_AS_NUMBER + ID_NUMBER_HINT)
    message = normalised_id_number_error(number)
    if message:
        raise CellError(message)
    return number


def parse_region_code(value: CellValue) -> str:
    """A 12-digit 统计用区划代码; 12 digits survive being stored as an Excel number."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        whole = _whole_number(float(value))
        text = str(whole) if whole is not None else ""
    else:
        text = fold(value).replace(" ", "")
        if _SCIENTIFIC.match(text):
            raise CellError("请将区划代码列设置为文本")
    if not re.fullmatch(r"\d{12}", text):
        raise CellError(f"区划代码“{_shown(value)}”应为12位数字")
    return text


def parse_money(value: CellValue) -> Decimal:
    """Yuan with two decimals (half up); blank is zero, negatives and other text are refused."""
    if isinstance(value, bool):
        raise CellError(f"金额格式不正确：{_shown(value)}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CellError(f"金额格式不正确：{_shown(value)}")
        # repr is the shortest text that gives back the same float: what the clerk typed, so
        # 2.675 rounds half up to 2.68 (the binary float itself lies just below 2.675).
        amount = Decimal(repr(value))
    elif isinstance(value, int):
        amount = Decimal(value)
    elif _is_blank(value):
        return Decimal("0.00")
    elif isinstance(value, str):
        text = fold(value).replace("\uffe5", "¥")
        if text in _NOTHING:
            return Decimal("0.00")
        for noise in (" ", ",", "元", "¥", "RMB"):
            text = text.replace(noise, "")
        if not _PLAIN_NUMBER.match(text):
            raise CellError(f"金额格式不正确：{_shown(value)}")
        try:
            amount = Decimal(text)
        except InvalidOperation as error:
            raise CellError(f"金额格式不正确：{_shown(value)}") from error
    else:
        raise CellError(f"金额格式不正确：{_shown(value)}")
    if amount < 0:
        raise CellError("金额不能为负数")
    # Checked before rounding too: rounding a number of more than 26 digits to cents overflows Decimal.
    too_large = CellError(f"金额过大：{_shown(value)}")
    if amount > MONEY_MAX:
        raise too_large
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if amount > MONEY_MAX:
        raise too_large
    return amount


def _integer(value: CellValue, *, what: str) -> int:
    """A whole number from an Excel number or text such as "6" or "6个月"."""
    whole: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        whole = value
    elif isinstance(value, float):
        whole = _whole_number(value)
    elif isinstance(value, str):
        match = _INT_WITH_UNIT.match(fold(value).replace(" ", ""))
        whole = int(match.group(1)) if match else None
    if whole is None:
        raise CellError(f"{what}“{_shown(value)}”应为整数")
    return whole


def parse_int(value: CellValue, *, low: int, high: int) -> int | None:
    """A whole number between low and high inclusive ("6个月" reads as 6); blank is None."""
    if _is_blank(value):
        return None
    number = _integer(value, what="")
    if not low <= number <= high:
        raise CellError(f"“{_shown(value)}”超出范围，应在{low}到{high}之间")
    return number


def parse_year(value: CellValue) -> int | None:
    """A four-digit year, also written "2023年"; blank is None."""
    if _is_blank(value):
        return None
    year = _integer(value, what="年度")
    if not YEAR_LOW <= year <= YEAR_HIGH:
        raise CellError(f"年度“{_shown(value)}”应为{YEAR_LOW}到{YEAR_HIGH}之间的四位年份")
    return year


def parse_quarter(value: CellValue) -> int | None:
    """1–4 from 3, "第3季度", "三季度", "Q3" or "2023Q3"; blank is None."""
    if _is_blank(value):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        whole = _whole_number(float(value))
        if whole is not None and 1 <= whole <= 4:
            return whole
        raise CellError(f"季度“{_shown(value)}”应为1到4")
    match = _QUARTER.match(fold(value).replace(" ", "").upper()) if isinstance(value, str) else None
    if match is None:
        raise CellError(f"季度“{_shown(value)}”应为1到4，或写作“第3季度”“三季度”“Q3”")
    digit = match.group(1) or match.group(2)
    return _CHINESE_DIGITS.get(digit) or int(digit)


def _month(year: int, month: int, value: CellValue) -> datetime.date:
    if not (YEAR_LOW <= year <= YEAR_HIGH and 1 <= month <= 12):
        raise CellError(f"月份“{_shown(value)}”不存在或超出范围")
    return datetime.date(year, month, 1)


def parse_month(value: CellValue) -> datetime.date | None:
    """The first day of the month from 202305, "2023-05", "2023年5月", a date, or an Excel date serial."""
    if _is_blank(value):
        return None
    if isinstance(value, datetime.datetime | datetime.date):
        return _month(value.year, value.month, value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A fractional number such as 2023.1 cannot tell January from October: refuse it.
        whole = _whole_number(float(value))
        if whole is not None and 190001 <= whole <= 299912:
            return _month(whole // 100, whole % 100, value)
        if whole is not None and 20000 <= whole <= 80000:
            day = EXCEL_EPOCH + datetime.timedelta(days=whole)
            return _month(day.year, day.month, value)
        raise CellError(f"月份“{_shown(value)}”无法识别，请写作 2023-05 或 2023年5月")
    # Text dates from a CSV may carry a time of day ("2023-05-01 00:00:00").
    text = _TIME_OF_DAY.sub("", fold(value)).replace(" ", "") if isinstance(value, str) else ""
    if re.fullmatch(r"\d{6}|\d{8}", text):
        return _month(int(text[:4]), int(text[4:6]), value)
    match = _MONTH.match(text)
    if match is None:
        raise CellError(f"月份“{_shown(value)}”无法识别，请写作 2023-05 或 2023年5月")
    return _month(int(match.group(1)), int(match.group(2)), value)


_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def _day(year: int, month: int, day: int, value: CellValue) -> datetime.date:
    try:
        if not YEAR_LOW <= year <= YEAR_HIGH:
            raise ValueError
        return datetime.date(year, month, day)
    except ValueError:
        raise CellError(f"日期“{_shown(value)}”不存在或超出范围") from None


def parse_date(value: CellValue) -> datetime.date | None:
    """A day from a date cell, an Excel serial, "2024-03-01", "2024/3/1", "2024年3月1日" or 20240301; blank is None."""
    if _is_blank(value):
        return None
    if isinstance(value, datetime.datetime):
        if value.time() != datetime.time(0):
            raise CellError(f"日期“{_shown(value)}”带有时间，请只填日期")
        return _day(value.year, value.month, value.day, value)
    if isinstance(value, datetime.date):
        return _day(value.year, value.month, value.day, value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        whole = _whole_number(float(value))
        if whole is not None and 19000101 <= whole <= 29991231:
            return _day(whole // 10000, whole // 100 % 100, whole % 100, value)
        if whole is not None and 20000 <= whole <= 80000:
            day = EXCEL_EPOCH + datetime.timedelta(days=whole)
            return _day(day.year, day.month, day.day, value)
        raise CellError(f"日期“{_shown(value)}”无法识别，请写作 2024-03-01")
    text = _TIME_OF_DAY.sub("", fold(value)).replace(" ", "") if isinstance(value, str) else ""
    if re.fullmatch(r"\d{8}", text):
        return _day(int(text[:4]), int(text[4:6]), int(text[6:]), value)
    match = _DATE.match(text)
    if match is None:
        raise CellError(f"日期“{_shown(value)}”无法识别，请写作 2024-03-01")
    return _day(int(match.group(1)), int(match.group(2)), int(match.group(3)), value)


def parse_bool(value: CellValue) -> bool | None:
    """是/否, Y/N, 1/0, true/false, √/×; blank is None."""
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = fold(value).replace(" ", "").upper()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(f"“{_shown(value)}”应填“是”或“否”")


def parse_choice(value: CellValue, choices: dict[str, str]) -> str | None:
    """The stored value for a label (or the stored value itself); blank is None.

    Columns whose options are reference data (风险类型) have no choices here; their text is
    returned as is and checked against the table by the validator.
    """
    if value.__class__ is str and value in choices:
        return choices[value]  # type: ignore[index]
    if _is_blank(value):
        return None
    text = parse_text(value)
    if not choices:
        return text
    if text in choices:
        return choices[text]
    if text in choices.values():
        return text
    raise CellError(f"“{_shown(value)}”不是有效选项，可选：{'、'.join(choices)}")


# Each column kind's parser, as normalise.parse_cell and parse_column call it.
PARSERS: dict[Kind, Callable[[Column, CellValue], Any]] = {
    Kind.TEXT: lambda column, value: parse_text(value),
    Kind.ID_NUMBER: lambda column, value: None if _is_blank(value) else parse_id_number(value),
    Kind.CHOICE: lambda column, value: parse_choice(value, column.choices),
    Kind.BOOL: lambda column, value: parse_bool(value),
    Kind.INT: lambda column, value: parse_int(value, **_bounds(column)),
    Kind.MONTH: lambda column, value: parse_month(value),
    Kind.MONEY: lambda column, value: parse_money(value),
    Kind.YEAR: lambda column, value: parse_year(value),
    Kind.QUARTER: lambda column, value: parse_quarter(value),
    Kind.REGION_CODE: lambda column, value: None if _is_blank(value) else parse_region_code(value),
    Kind.PHONE: lambda column, value: parse_phone(value),
}


def _bounds(column: Column) -> dict[str, int]:
    low, high = INT_BOUNDS.get(column.key, DEFAULT_INT_BOUNDS)
    return {"low": low, "high": high}
