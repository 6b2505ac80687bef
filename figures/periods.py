"""Periods an indicator reads, and the quarter value they are built from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _

_PATTERN = re.compile(r"^\s*(\d{4})\s*[Qq]\s*([1-4])\s*$")


@dataclass(frozen=True, order=True)
class Quarter:
    """`Quarter(2025, 3)` in code, "2025Q3" at every boundary."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 4:
            raise ValueError(f"quarter number must be 1-4, got {self.number}")

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = _PATTERN.match(text)
        if match is None:
            raise ValueError(f"not a quarter like 2025Q3: {text!r}")
        year = int(match.group(1))
        if year < 1:  # no calendar date in year 0: its first and last days could not be computed
            raise ValueError(f"no quarter in year {year}: {text!r}")
        return cls(year, int(match.group(2)))

    @classmethod
    def containing(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def from_index(cls, index: int) -> Quarter:
        return cls(index // 4, index % 4 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def label(self) -> str:
        return f"{self.year}年第{self.number}季度"

    @property
    def index(self) -> int:
        """Quarters since year 0: consecutive quarters have consecutive indexes (SQL window arithmetic)."""
        return self.year * 4 + self.number - 1

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def year_earlier(self) -> Quarter:
        return Quarter(self.year - 1, self.number)

    def trailing_four(self) -> list[Quarter]:
        """This quarter and the three before it, oldest first."""
        return [Quarter.from_index(self.index - back) for back in (3, 2, 1, 0)]

    def year_to_date(self) -> list[Quarter]:
        """Q1 of this year up to this quarter, oldest first."""
        return [Quarter(self.year, number) for number in range(1, self.number + 1)]

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        # Not next().first_day − 1: 9999Q4 parses, and year 10000 has no dates.
        return date(self.year, 3 * self.number, 31 if self.number in (1, 4) else 30)

    def has_begun(self, today: date) -> bool:
        """Whether the quarter's first day is `today` or earlier: income can only be entered for such quarters."""
        return self.first_day <= today


class PeriodKind(models.TextChoices):
    QUARTER = "quarter", _("当季")
    YEAR_TO_DATE = "ytd", _("年内累计")
    TRAILING = "trailing", _("滚动四季度")
    YEAR = "year", _("全年")


def window(kind: str, period: Quarter) -> list[Quarter]:
    """The quarters a figure of this kind reads for `period`, oldest first."""
    if kind == PeriodKind.QUARTER:
        return [period]
    if kind == PeriodKind.YEAR_TO_DATE:
        return period.year_to_date()
    if kind == PeriodKind.TRAILING:
        return period.trailing_four()
    return [Quarter(period.year, number) for number in range(1, 5)]


def window_label(kind: str, period: Quarter) -> str:
    """How a page names the window, e.g. 2025Q4–2026Q3 (滚动四季度)."""
    quarters = window(kind, period)
    span = str(quarters[0]) if len(quarters) == 1 else f"{quarters[0]}–{quarters[-1]}"
    return f"{span}（{PeriodKind(kind).label}）"
