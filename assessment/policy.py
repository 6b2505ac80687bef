"""Which target, scoring rule and parameter hold for a region: the nearest one at or above it.

Pure lookups over rows loaded once per computation; code prefixes give a region's ancestors
without a query.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any

from django.db.models import QuerySet

from assessment.models import VALUED, Comparator, ParameterValue, PolicyRow, ScoringRule, Status, Target
from figures.periods import Quarter
from figures.registry import Direction, Indicator, Parameter
from regions.models import PREFIX_LENGTH, Level

SCORE_PLACES = Decimal("0.01")


def ancestor_codes(code: str, level: int) -> list[str]:
    """The region's own code and its ancestors' codes, nearest first."""
    codes = []
    for each in sorted((lvl for lvl in PREFIX_LENGTH if lvl <= level and lvl != Level.GROUP), reverse=True):
        codes.append(code[: PREFIX_LENGTH[Level(each)]].ljust(12, "0"))
    return codes


@dataclass(frozen=True)
class Resolved:
    """The target that holds for one region: the row it came from and that row's region."""

    target: Target
    region_code: str


class Policy:
    """Targets, scoring rules and parameters of one year, indexed for nearest-ancestor lookups.

    Each kind of row is read when first looked up, so a reader of targets alone asks for no rules.
    `regions` narrows the rows to those set on these regions (one region's ancestors, for the lookups
    of that region alone).
    """

    def __init__(self, *, period: Quarter, regions: Collection[str] | None = None) -> None:
        self.period = period
        self._regions = None if regions is None else list(regions)
        self._by_quarter: dict[int, dict[tuple[str, str], Target]] = {}

    def _rows(self, model: type[PolicyRow]) -> QuerySet[Any]:
        rows = model.objects.filter(year=self.period.year).select_related("region")
        return rows if self._regions is None else rows.filter(region__code__in=self._regions)

    @cached_property
    def _year_targets(self) -> list[Target]:
        return list(self._rows(Target))

    def _targets(self, quarter: int) -> dict[tuple[str, str], Target]:
        if quarter in self._by_quarter:
            return self._by_quarter[quarter]
        found: dict[tuple[str, str], Target] = {}
        self._by_quarter[quarter] = found
        for target in self._year_targets:
            if target.quarter not in (None, quarter):
                continue
            key = (target.indicator, target.region.code)
            # A quarter's own target beats the year-round one set on the same region.
            if key not in found or target.quarter is not None:
                found[key] = target
        return found

    @cached_property
    def _rules(self) -> dict[tuple[str, str], ScoringRule]:
        return {(rule.indicator, rule.region.code): rule for rule in self._rows(ScoringRule)}

    @cached_property
    def _parameters(self) -> dict[tuple[str, str], ParameterValue]:
        return {(value.key, value.region.code): value for value in self._rows(ParameterValue)}

    def target(self, indicator: str, code: str, level: int, *, quarter: int | None = None) -> Resolved | None:
        """The target that holds for the region in the period's quarter (or in `quarter` of its year)."""
        targets = self._targets(quarter or self.period.number)
        for candidate in ancestor_codes(code, level):
            found = targets.get((indicator, candidate))
            if found is not None:
                return Resolved(found, candidate)
        return None

    def rule(self, indicator: str, code: str, level: int) -> ScoringRule | None:
        for candidate in ancestor_codes(code, level):
            found = self._rules.get((indicator, candidate))
            if found is not None:
                return found
        return None

    def parameter_row(self, key: str, code: str, level: int) -> ParameterValue | None:
        """The row that sets the parameter for the region: its own, else its nearest ancestor's."""
        return next(
            (
                self._parameters[(key, candidate)]
                for candidate in ancestor_codes(code, level)
                if (key, candidate) in self._parameters
            ),
            None,
        )

    def parameters(self, declared: Iterable[Parameter], code: str, level: int) -> dict[str, Decimal]:
        """Each declared parameter's value for the region: the nearest row, else its default."""
        values = {}
        for parameter in declared:
            row = self.parameter_row(parameter.key, code, level)
            values[parameter.key] = parameter.default if row is None else row.value
        return values


@dataclass(frozen=True)
class Judgement:
    status: str
    target: Decimal | None
    score: Decimal | None
    full_score: Decimal | None


def judge(
    *,
    indicator: Indicator,
    value: Decimal | None,
    comparator: str | None,
    target_value: Decimal | None,
    reference: Decimal | None,
    rule: ScoringRule | None,
) -> Judgement:
    """Status and score of one value against its target.

    `reference` is the value the relative comparators compare with: the same region's value a
    year earlier (不低于上年同期) or the parent region's value (不差于上级).
    """
    if comparator is None:
        return Judgement(Status.NO_TARGET, None, None, None)
    if comparator in VALUED:
        goal = target_value
    elif comparator == Comparator.ZERO:
        goal = Decimal(0)
    else:
        goal = reference
    full = None if rule is None else rule.full_score * rule.weight
    if value is None or goal is None:
        return Judgement(Status.NO_DATA, goal, None, full)
    higher_is_better = {
        Comparator.AT_LEAST: True,
        Comparator.AT_MOST: False,
        Comparator.ZERO: False,
        Comparator.NOT_BELOW_LAST_YEAR: True,
        Comparator.BETTER_THAN_PARENT: indicator.direction == Direction.HIGHER,
    }[Comparator(comparator)]
    shortfall = (goal - value) if higher_is_better else (value - goal)
    met = shortfall <= 0
    if comparator == Comparator.ZERO:
        met = value == 0
    status = Status.MET if met else Status.MISSED
    return Judgement(status, goal, score(rule=rule, shortfall=max(shortfall, Decimal(0))), full)


def score(*, rule: ScoringRule | None, shortfall: Decimal) -> Decimal | None:
    """Weighted score: full marks when nothing is short, else full − deduction × points short (≥ floor)."""
    if rule is None:
        return None
    if shortfall <= 0:
        raw = rule.full_score
    elif rule.deduction_per_point is None:
        raw = rule.floor
    else:
        raw = max(rule.floor, rule.full_score - rule.deduction_per_point * shortfall / rule.point)
    return (raw * rule.weight).quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)


def competition_ranks(scores: Mapping[str, Decimal]) -> dict[str, int]:
    """1 for the highest score; equal scores share a rank and the next rank skips (1, 2, 2, 4)."""
    ordered = sorted(scores.values(), reverse=True)
    return {code: ordered.index(value) + 1 for code, value in scores.items()}
