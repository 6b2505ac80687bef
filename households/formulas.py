"""Income arithmetic of DOMAIN §3, as pure functions: numbers in, Decimal (or None) out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class IncomeTotals:
    wages: Decimal
    operating: Decimal
    property_income: Decimal
    transfers: Decimal
    operating_costs: Decimal

    @property
    def gross(self) -> Decimal:
        return self.wages + self.operating + self.property_income + self.transfers

    @property
    def net(self) -> Decimal:
        """家庭纯收入 = 工资性 + 生产经营性 + 财产性 + 转移性 − 生产经营性支出."""
        return self.gross - self.operating_costs


def income_totals(
    *,
    wages: Iterable[Decimal],
    operating: Iterable[Decimal],
    property_income: Iterable[Decimal],
    transfers: Iterable[Decimal],
    operating_costs: Decimal,
) -> IncomeTotals:
    """Sum each of the four wheels from its sub-items."""
    return IncomeTotals(
        wages=sum(wages, ZERO),
        operating=sum(operating, ZERO),
        property_income=sum(property_income, ZERO),
        transfers=sum(transfers, ZERO),
        operating_costs=operating_costs,
    )


def per_capita(*, net_income: Decimal, household_size: int) -> Decimal | None:
    """人均纯收入 = 家庭纯收入 ÷ 家庭人口数; None for a household of nobody."""
    if household_size <= 0:
        return None
    return money(net_income / household_size)


def growth(*, current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    """Growth against the same period a year earlier, as a fraction with four places.

    None when either side is missing or the earlier figure is not positive (a rate against
    zero or a loss means nothing to the reader).
    """
    if current is None or previous is None or previous <= 0:
        return None
    return ((current - previous) / previous).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def window_per_capita(records: Sequence[tuple[Decimal, int]]) -> Decimal | None:
    """Per-capita net income over several quarters, oldest first: Σ 家庭纯收入 ÷ 家庭人口.

    家庭人口 is the size at the window's end (its last quarter's record, DOMAIN §9), and the
    quotient is rounded once, at the end: never a sum of already-rounded quarterly figures.
    None for an empty window or a household of nobody.
    """
    if not records:
        return None
    return per_capita(net_income=sum((net for net, _ in records), ZERO), household_size=records[-1][1])


def is_sharp_fall(*, current: Decimal | None, previous: Decimal | None, limit: Decimal) -> bool:
    """True when income fell by more than `limit` (a fraction) against the year-earlier period."""
    rate = growth(current=current, previous=previous)
    return rate is not None and rate < -limit
