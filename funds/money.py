"""Yuan and 万元: money is stored in yuan (two places); people often think and type in 万元.

Pure functions, no floats: 1.2345 万元 = 12,345.00 元 exactly, and an amount that is not a whole
number of fen in yuan is refused rather than rounded.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

YUAN = "yuan"
WAN = "wan"
UNITS = [(WAN, "万元"), (YUAN, "元")]
TEN_THOUSAND = Decimal(10000)
FEN = Decimal("0.01")
MOST_YUAN = Decimal("999999999999.99")


class NotWholeFen(ValueError):
    """The amount does not come to a whole number of fen."""


class TooLarge(ValueError):
    """The amount is beyond what an amount field holds (checked before any arithmetic: 1e999999 万元 overflows)."""


def to_yuan(amount: Decimal, unit: str) -> Decimal:
    """The amount in yuan with two places; NotWholeFen when it has more precision than a fen, TooLarge when
    it is beyond MOST_YUAN."""
    if abs(amount) > MOST_YUAN:
        raise TooLarge(str(amount))
    yuan = amount * TEN_THOUSAND if unit == WAN else amount
    try:
        exact = yuan.quantize(FEN)
    except InvalidOperation as error:
        raise NotWholeFen(str(amount)) from error
    if exact != yuan:
        raise NotWholeFen(str(amount))
    return exact


def from_yuan(amount: Decimal, unit: str) -> Decimal:
    """Yuan in the given unit, exactly (万元 with up to six places), without trailing zeros."""
    value = amount / TEN_THOUSAND if unit == WAN else amount
    return strip(value)


def strip(value: Decimal) -> Decimal:
    """12.3400 → 12.34, 1E+4 → 10000 (never an exponent)."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


def wan_text(amount: Decimal | None) -> str:
    """Yuan as 万元 for reading: 12345.00 → 1.2345, 1234567.89 → 123.456789, grouped by thousands."""
    if amount is None:
        return "—"
    value = from_yuan(Decimal(amount), WAN)
    places = max(-value.as_tuple().exponent, 0)  # type: ignore[operator]
    return f"{value:,.{places}f}"


def yuan_text(amount: Decimal | None) -> str:
    """12345.6 → 12,345.60."""
    if amount is None:
        return "—"
    return f"{Decimal(amount):,.2f}"


def share(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    """part ÷ whole as a fraction with four places; None when the whole is zero or unknown."""
    if not whole:
        return None
    return (Decimal(part or 0) / Decimal(whole)).quantize(Decimal("0.0001"))
