"""What an app declares so the assessment engine can compute, score and explain its figures.

An app's `indicators.py` subclasses `Indicator` (or `SourceIndicator`, to share one scan of a
precomputed table with its neighbours) and calls `register()`; the assessment app imports every
app's `indicators.py` at start-up, as the admin does with `admin.py`, and never the other way round.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar, Protocol

from django.db import models
from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from figures.periods import PeriodKind, Quarter
from regions.models import PREFIX_LENGTH, Level, Region

CENT = Decimal("0.01")
RATIO_PLACES = Decimal("0.0001")


class Direction(models.TextChoices):
    HIGHER = "higher", _("越高越好")
    LOWER = "lower", _("越低越好")


class Unit(models.TextChoices):
    YUAN_PER_PERSON = "yuan_per_person", _("元/人")
    YUAN = "yuan", _("元")
    PERCENT = "percent", _("%")
    HOUSEHOLDS = "households", _("户")
    VILLAGES = "villages", _("个村")
    PEOPLE = "people", _("人")


def per_capita(amount: Decimal, people: Decimal | int | None) -> Decimal | None:
    """Σ amount ÷ Σ people, rounded once, half up, to the fen; None without people."""
    if not people:
        return None
    return (Decimal(amount) / Decimal(people)).quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(part: Decimal | int, whole: Decimal | int | None) -> Decimal | None:
    """part ÷ whole with four places (a fraction, shown as a percentage); None when whole is zero."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def growth(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    """current ÷ previous − 1 with four places; None unless both exist and the base is positive."""
    if current is None or previous is None or previous <= 0:
        return None
    return (current / previous - 1).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Parameter:
    """A number policy sets that an indicator or alert rule reads (the 10,000 line, the 3% share…).

    The assessment app keeps its values as data by region and year; `default` seeds them.
    """

    key: str
    label: str
    default: Decimal
    source: str = ""


@dataclass
class RegionFigure:
    """One region's figure: what is counted, what it is divided by, and the value."""

    code: str  # the region's 12-digit code
    numerator: Decimal
    denominator: Decimal | None
    value: Decimal | None
    records: int = 0  # rows of the drill-down list behind the figure (households, villages…)


def level_key(field: str, level: int) -> Substr:
    """The code prefix that identifies a unit of `level`: group by it to get one row per unit."""
    return Substr(field, 1, PREFIX_LENGTH[Level(level)])


def full_code(prefix: str) -> str:
    return prefix.ljust(12, "0")


class Indicator(ABC):
    """One figure, computed for every region of a level in one query.

    Subclasses set the class attributes and write the definition in the docstring (it is shown
    on the indicator's page).
    """

    code: ClassVar[str]
    name: ClassVar[str]
    group: ClassVar[str]  # the tile group on pages: 收入, 监测帮扶, 产业与双绑 …
    unit: ClassVar[str]
    direction: ClassVar[str] = Direction.HIGHER
    period_kind: ClassVar[str] = PeriodKind.QUARTER
    levels: ClassVar[tuple[int, ...]] = (Level.PROVINCE, Level.PREFECTURE, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE)
    numerator_label: ClassVar[str] = ""
    denominator_label: ClassVar[str] = ""
    formula: ClassVar[str] = ""  # the formula in the users' words
    parameters: ClassVar[tuple[Parameter, ...]] = ()
    order: ClassVar[int] = 1000

    @property
    def definition(self) -> str:
        return "".join(line.strip() for line in (self.__doc__ or "").splitlines())

    @abstractmethod
    def compute(
        self, *, period: Quarter, level: int, within: str, parameters: Mapping[str, Decimal]
    ) -> list[RegionFigure]:
        """Every region of `level` under the code prefix `within`: one SQL query."""

    @abstractmethod
    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        """The records the numerator counts or sums, for one region (the drill-down)."""

    @abstractmethod
    def denominator_records(
        self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]
    ) -> QuerySet[Any]:
        """The records the denominator counts or sums, for one region."""

    def sources(self) -> tuple[FactSource, ...]:
        """Precomputed tables the engine refreshes before computing this indicator."""
        return ()


class FactSource(ABC):
    """A table of precomputed per-period facts that several indicators aggregate over."""

    name: ClassVar[str]
    code_field: ClassVar[str]  # the column holding the 12-digit code of the row's village

    @abstractmethod
    def refresh(self, *, period: Quarter, within: str) -> int:
        """Rebuild the facts of `period` for every row whose village code starts with `within`."""

    @abstractmethod
    def rows(self, *, period: Quarter) -> QuerySet[Any]:
        """The facts of one period."""


class SourceIndicator(Indicator):
    """An indicator that aggregates a fact source; the engine computes all of one source's
    indicators for a level in a single query (`aggregate_sources`)."""

    source: ClassVar[FactSource]

    @abstractmethod
    def aggregates(self, *, period: Quarter, parameters: Mapping[str, Decimal]) -> dict[str, Any]:
        """Named aggregate expressions over the source's rows (e.g. Sum(…, filter=Q(…)))."""

    @abstractmethod
    def figures(self, totals: Mapping[str, Any]) -> tuple[Decimal, Decimal | None, Decimal | None, int]:
        """(numerator, denominator, value, records) from the aggregates of one region."""

    def sources(self) -> tuple[FactSource, ...]:
        return (self.source,)

    def compute(
        self, *, period: Quarter, level: int, within: str, parameters: Mapping[str, Decimal]
    ) -> list[RegionFigure]:
        by_indicator = aggregate_source(
            indicators=[self], period=period, level=level, within=within, parameters={self.code: parameters}
        )
        return by_indicator[self.code]


Totals = dict[str, Any]


class Aggregated(Protocol):
    """Anything summed over a fact source in the shared query: a source indicator or a breakdown."""

    @property
    def code(self) -> str: ...

    @property
    def source(self) -> FactSource: ...

    def aggregates(self, *, period: Quarter, parameters: Mapping[str, Decimal]) -> dict[str, Any]: ...


def source_totals(
    *,
    indicators: Iterable[Aggregated],
    period: Quarter,
    level: int,
    within: str,
    parameters: Mapping[str, Mapping[str, Decimal]],
) -> dict[str, dict[str, Totals]]:
    """One query over one fact source for a level: code prefix → indicator code → its aggregates."""
    indicators = list(indicators)
    if not indicators:
        return {}
    source = indicators[0].source
    assert all(indicator.source is source for indicator in indicators), "one source per query"
    named: dict[str, Any] = {}
    for position, indicator in enumerate(indicators):
        for name, expression in indicator.aggregates(period=period, parameters=parameters[indicator.code]).items():
            named[f"i{position}__{name}"] = expression
    rows = (
        source.rows(period=period)
        .filter(**{f"{source.code_field}__startswith": within})
        # At village level the code itself: rows come in its index order and group without a sort.
        .annotate(unit_prefix=F(source.code_field) if level == Level.VILLAGE else level_key(source.code_field, level))
        .values("unit_prefix")
        .annotate(**named)
        .order_by()
    )
    results: dict[str, dict[str, Totals]] = {}
    for row in rows:
        by_indicator = results.setdefault(row["unit_prefix"], {})
        for position, indicator in enumerate(indicators):
            mark = f"i{position}__"
            by_indicator[indicator.code] = {
                key[len(mark) :]: value for key, value in row.items() if key.startswith(mark)
            }
    return results


def is_additive(indicator: SourceIndicator, *, period: Quarter, parameters: Mapping[str, Decimal]) -> bool:
    """Whether every aggregate is a plain SUM or COUNT: then a unit's totals are the sums of its
    villages' totals, and the levels above the village need no query of their own."""
    expressions = indicator.aggregates(period=period, parameters=parameters).values()
    return all(
        isinstance(expression, (Sum, Count)) and not getattr(expression, "distinct", False)
        for expression in expressions
    )


def roll_up(totals_by_prefix: Mapping[str, Totals], level: int) -> dict[str, Totals]:
    """Add finer units' totals up to the units of `level` (None counts as nothing)."""
    length = PREFIX_LENGTH[Level(level)]
    rolled: dict[str, Totals] = {}
    for prefix, totals in totals_by_prefix.items():
        into = rolled.setdefault(prefix[:length], {})
        for name, amount in totals.items():
            if amount is not None:
                into[name] = (into.get(name) or 0) + amount
            else:
                into.setdefault(name, None)
    return rolled


def figure_of(indicator: SourceIndicator, prefix: str, totals: Totals) -> RegionFigure:
    numerator, denominator, value, records = indicator.figures(totals)
    return RegionFigure(
        code=full_code(prefix), numerator=numerator, denominator=denominator, value=value, records=records
    )


def aggregate_source(
    *,
    indicators: Iterable[SourceIndicator],
    period: Quarter,
    level: int,
    within: str,
    parameters: Mapping[str, Mapping[str, Decimal]],
) -> dict[str, list[RegionFigure]]:
    """One query over one fact source for a level: every listed indicator's figures for every region."""
    indicators = list(indicators)
    totals = source_totals(indicators=indicators, period=period, level=level, within=within, parameters=parameters)
    return {
        indicator.code: [
            figure_of(indicator, prefix, by_indicator[indicator.code]) for prefix, by_indicator in totals.items()
        ]
        for indicator in indicators
    }


class Breakdown(ABC):
    """A distribution a chart draws (households by income band, cases by category and risk…): named
    counts per village, added up to every level above and stored with the indicator values."""

    code: ClassVar[str]
    name: ClassVar[str]
    parameters: ClassVar[tuple[Parameter, ...]] = ()

    def sources(self) -> tuple[FactSource, ...]:
        return ()

    @abstractmethod
    def village_totals(
        self, *, period: Quarter, within: str, parameters: Mapping[str, Decimal]
    ) -> dict[str, dict[str, int]]:
        """Village code → named counts, for every village under `within` (one query)."""

    @abstractmethod
    def label(self, key: str, *, within: str = "") -> str | None:
        """What one named count counts, in words (人均纯收入 10,000–11,000 元); None for a name it never counts
        or one that means nothing under `within` (a region's code prefix: another county's own 风险类型)."""

    @abstractmethod
    def records(self, *, period: Quarter, region: Region, key: str, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        """The records one named count of one region counts (the list behind a bar): as many as the count."""


class SourceBreakdown(Breakdown):
    """A breakdown over a fact source: its counts come from the same kind of query as the indicators."""

    source: ClassVar[FactSource]

    def sources(self) -> tuple[FactSource, ...]:
        return (self.source,)

    @abstractmethod
    def aggregates(self, *, period: Quarter, parameters: Mapping[str, Decimal]) -> dict[str, Any]:
        """Named Count/Sum expressions over the source's rows."""

    def village_totals(
        self, *, period: Quarter, within: str, parameters: Mapping[str, Decimal]
    ) -> dict[str, dict[str, int]]:
        found = source_totals(
            indicators=[self], period=period, level=Level.VILLAGE, within=within, parameters={self.code: parameters}
        )
        return {prefix: {k: v or 0 for k, v in own[self.code].items()} for prefix, own in found.items()}


_BREAKDOWNS: dict[str, Breakdown] = {}


def register_breakdown(breakdown: Breakdown) -> Breakdown:
    _BREAKDOWNS[breakdown.code] = breakdown
    return breakdown


def breakdowns() -> list[Breakdown]:
    return sorted(_BREAKDOWNS.values(), key=lambda breakdown: breakdown.code)


def get_breakdown(code: str) -> Breakdown | None:
    return _BREAKDOWNS.get(code)


_REGISTRY: dict[str, Indicator] = {}


def register(indicator: Indicator) -> Indicator:
    """Add an indicator to the registry (its code must be new)."""
    if indicator.code in _REGISTRY and type(_REGISTRY[indicator.code]) is not type(indicator):
        raise ValueError(f"indicator code {indicator.code!r} is already registered")
    _REGISTRY[indicator.code] = indicator
    return indicator


def unregister(code: str) -> None:
    _REGISTRY.pop(code, None)


def indicators() -> list[Indicator]:
    """Every registered indicator, in page order."""
    return sorted(_REGISTRY.values(), key=lambda indicator: (indicator.order, indicator.code))


def get(code: str) -> Indicator | None:
    return _REGISTRY.get(code)
