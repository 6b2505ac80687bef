"""Reading an indicator's target in words, for pages outside the assessment app.

The targets are data of the assessment app (year, region, nearest ancestor wins); a register's own page
that shows a share beside its target (the fund overview's 产业发展资金占比) asks here, and the assessment app
registers the reader when it loads. Without it, a page shows no target.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

# (indicator codes, region, year) → the year-end target of each code that has one, in words ("≥ 60.0%").
TargetReader = Callable[[Iterable[str], Any, int], Mapping[str, str]]
_readers: list[TargetReader] = []


def register_target_reader(reader: TargetReader) -> None:
    """Set the function that reads targets (registering again replaces it)."""
    _readers[:] = [reader]


def targets_in_words(codes: Iterable[str], region: Any, year: int) -> Mapping[str, str]:
    return _readers[0](list(codes), region, year) if _readers else {}
