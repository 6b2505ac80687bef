"""身份证号 (GB 11643) helpers built on python-stdnum, and masking for display."""

from __future__ import annotations

import contextlib
import datetime
import functools
from collections.abc import Iterator

from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

MESSAGES = {
    InvalidLength: "身份证号应为18位",
    InvalidFormat: "身份证号格式不正确（前17位须为数字，最后一位为数字或X）",
    InvalidChecksum: "身份证号校验码错误，请核对",
    InvalidComponent: "身份证号中的出生日期或地区代码不存在",
}


def normalise_id_number(raw: str) -> str:
    """Strip spaces, fold full-width digits and X, upper-case the check character."""
    if raw.isascii():
        # Nothing to fold (the usual case, and 10× cheaper than the loop below).
        return raw.strip().replace(" ", "").upper()
    folded = "".join(chr(ord(ch) - 0xFEE0) if "\uff01" <= ch <= "\uff5e" else ch for ch in raw.strip())
    return folded.replace(" ", "").upper()


# Numbers found valid inside a remembering_valid_numbers() block, with their birth dates; None outside any.
_known_valid: dict[str, datetime.date] | None = None


@contextlib.contextmanager
def remembering_valid_numbers() -> Iterator[None]:
    """Within the block, a number id_number_error found valid once is not checked again.

    An import checks every 身份证号 twice, as a cell and again in Member.clean (the model's own
    rule, which must run); the answer cannot differ, and the second check is then a dict lookup
    that also gives the birth date. The memory goes with the block.
    """
    global _known_valid
    outermost = _known_valid is None
    if outermost:
        _known_valid = {}
    try:
        yield
    finally:
        if outermost:
            _known_valid = None


def id_number_error(raw: str) -> str | None:
    """A Chinese message explaining why the number is invalid, or None when it is valid."""
    return normalised_id_number_error(normalise_id_number(raw))


def normalised_id_number_error(number: str) -> str | None:
    """id_number_error of a number normalise_id_number already returned."""
    known = _known_valid
    if known is not None and number in known:
        return None
    message, birth = _checked(number)
    if birth is not None and known is not None:  # valid
        known[number] = birth
    return message


def known_birth_date(number: str) -> datetime.date | None:
    """The birth date of a normalised number found valid in this remembering_valid_numbers() block, else None."""
    known = _known_valid
    return known.get(number) if known is not None else None


def _checked(number: str) -> tuple[str | None, datetime.date | None]:
    """(None, the birth date) for a valid number, else (the message, None)."""
    if len(number) != 18:
        return MESSAGES[InvalidLength], None
    if not number[:17].isdigit():
        return MESSAGES[InvalidFormat], None
    if number[-1] != ric.calc_check_digit(number):
        return MESSAGES[InvalidChecksum], None
    birth = _birth_date(number[6:14])
    if birth is None or not _region_valid(number[:6], birth.year):
        return MESSAGES[InvalidComponent], None
    return None, birth


# YYYYMMDD → the date, or None when there is no such day. A county's 200,000 numbers hold some
# 25,000 birth dates; each is built once, and the members born that day share the object.
_BIRTH_DATES: dict[str, datetime.date | None] = {}


def _birth_date(digits: str) -> datetime.date | None:
    try:
        return _BIRTH_DATES[digits]
    except KeyError:
        pass
    try:
        birth: datetime.date | None = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        birth = None
    if len(_BIRTH_DATES) < 100_000:
        _BIRTH_DATES[digits] = birth
    return birth


@functools.lru_cache(maxsize=65536)
def _region_valid(area: str, year: int) -> bool:
    """Whether the 6-digit area code was a county in that year (python-stdnum's table, cached).

    stdnum scans its region table on every call (~90 µs); an import checks 200,000 numbers
    drawn from a few hundred areas, so the answer is cached per (area, birth year).
    """
    try:
        ric.get_birth_place(f"{area}{year:04d}0101" + "0000")
    except (ValidationError, KeyError):
        # (stdnum raises KeyError for an unknown county under a known prefecture, e.g. 532399.)
        return False
    return True


def birth_date_of(number: str) -> datetime.date:
    if len(number) == 18 and number.isascii() and number[:17].isdigit():
        # What ric.get_birth_date reads, without its character clean-up (8 µs → 0.3 µs).
        birth = _birth_date(number[6:14])
        if birth is None:
            raise InvalidComponent()
        return birth
    return ric.get_birth_date(number)


def sex_of(number: str) -> str:
    """'M' or 'F' from the 17th digit (odd is male)."""
    return "M" if int(number[16]) % 2 == 1 else "F"


def id_number_with_check_digit(first_seventeen: str) -> str:
    """Complete a 17-digit body with its GB 11643 check character."""
    # calc_check_digit expects the check position present and ignores it.
    return first_seventeen + ric.calc_check_digit(first_seventeen + "0")


def mask_id_number(number: str) -> str:
    """532326199001011234 → 532326********1234."""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str) -> str:
    """13812345678 → 138****5678; short numbers keep only their last two digits."""
    if not phone:
        return ""
    if len(phone) >= 7:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * (len(phone) - 2) + phone[-2:]
