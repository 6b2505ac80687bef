"""The quarter value object: `Quarter(2025, 3)` in code, "2025Q3" at every boundary."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_PATTERN = re.compile(r"^\s*(\d{4})\s*[Qq]\s*([1-4])\s*$")


@dataclass(frozen=True, order=True)
class Quarter:
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
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def label(self) -> str:
        return f"{self.year}年第{self.number}季度"

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def year_earlier(self) -> Quarter:
        return Quarter(self.year - 1, self.number)

    def trailing_four(self) -> list[Quarter]:
        """This quarter and the three before it, oldest first."""
        quarters = [self]
        for _ in range(3):
            quarters.insert(0, quarters[0].previous())
        return quarters

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    def has_begun(self, today: date) -> bool:
        """Whether the quarter's first day is `today` or earlier: income can only be entered for such quarters."""
        return self.first_day <= today
