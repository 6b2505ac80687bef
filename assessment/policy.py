"""Which target, scoring rule and parameter hold for a region: the nearest one at or above it.

Pure lookups over rows loaded once per computation; code prefixes give a region's ancestors
without a query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from assessment.models import VALUED, Comparator, ParameterValue, ScoringRule, Status, Target
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
    """Targets, scoring rules and parameters of one year, indexed for nearest-ancestor lookups."""

    def __init__(self, *, period: Quarter, codes: Iterable[str] | None = None) -> None:
        self.period = period
        targets = Target.objects.filter(year=period.year).select_related("region")
        rules = ScoringRule.objects.filter(year=period.year).select_related("region")
        parameters = ParameterValue.objects.filter(year=period.year).select_related("region")
        self._targets: dict[tuple[str, str], Target] = {}
        for target in targets:
            if target.quarter not in (None, period.number):
                continue
            key = (target.indicator, target.region.code)
            # A quarter's own target beats the year-round one set on the same region.
            if key not in self._targets or target.quarter is not None:
                self._targets[key] = target
        self._rules = {(rule.indicator, rule.region.code): rule for rule in rules}
        self._parameters = {(value.key, value.region.code): value.value for value in parameters}

    def target(self, indicator: str, code: str, level: int) -> Resolved | None:
        for candidate in ancestor_codes(code, level):
            found = self._targets.get((indicator, candidate))
            if found is not None:
                return Resolved(found, candidate)
        return None

    def rule(self, indicator: str, code: str, level: int) -> ScoringRule | None:
        for candidate in ancestor_codes(code, level):
            found = self._rules.get((indicator, candidate))
            if found is not None:
                return found
        return None

    def parameters(self, declared: Iterable[Parameter], code: str, level: int) -> dict[str, Decimal]:
        """Each declared parameter's value for the region: the nearest row, else its default."""
        values = {}
        ancestors = ancestor_codes(code, level)
        for parameter in declared:
            values[parameter.key] = next(
                (
                    self._parameters[(parameter.key, candidate)]
                    for candidate in ancestors
                    if (parameter.key, candidate) in self._parameters
                ),
                parameter.default,
            )
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
