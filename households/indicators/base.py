"""Shared shapes of the household indicators: counts, shares, per-capita figures and growth over the facts."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from django.db.models import Count, Q, QuerySet, Sum

from figures.periods import PeriodKind, Quarter
from figures.registry import (
    Direction,
    SourceIndicator,
    Unit,
    growth,
    per_capita,
    ratio,
)
from households.facts import HOUSEHOLD_FACTS, HouseholdQuarterFact
from regions.models import Region

INCOME = "收入"
MONITORING = "监测帮扶"
FEN = Decimal(100)
LIFTED = Q(lifted=True)
MONITORED = Q(monitored=True)
EVERYONE = Q()


def facts_in(*, period: Quarter, region: Region) -> QuerySet[HouseholdQuarterFact]:
    """One region's facts for a period, with the household for the drill-down list."""
    return (
        HouseholdQuarterFact.objects.filter(
            year=period.year, quarter=period.number, village_code__startswith=region.prefix
        )
        .select_related("household", "household__village")
        .order_by("village_code", "household__number")
    )


def yuan(fen: int | None) -> Decimal:
    return (Decimal(fen or 0) / FEN).quantize(Decimal("0.01"))


class HouseholdIndicator(SourceIndicator):
    """Base: a denominator condition (`base`) and, for counts, a numerator condition (`hit`)."""

    source = HOUSEHOLD_FACTS

    def base(self, parameters: Mapping[str, Decimal]) -> Q:
        return Q()

    def hit(self, parameters: Mapping[str, Decimal]) -> Q:
        return Q()

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        return facts_in(period=period, region=region).filter(self.base(parameters) & self.hit(parameters))

    def denominator_records(
        self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]
    ) -> QuerySet[Any]:
        return facts_in(period=period, region=region).filter(self.base(parameters))


class CountIndicator(HouseholdIndicator):
    """Base for counts of households: the value is the numerator."""

    unit = Unit.HOUSEHOLDS
    direction = Direction.LOWER

    def aggregates(self, *, period: Quarter, parameters: Mapping[str, Decimal]) -> dict[str, Any]:
        base = self.base(parameters)
        return {"hits": Count("pk", filter=base & self.hit(parameters)), "base": Count("pk", filter=base)}

    def figures(self, totals: Mapping[str, Any]) -> tuple[Decimal, Decimal | None, Decimal | None, int]:
        return Decimal(totals["hits"]), Decimal(totals["base"]), Decimal(totals["hits"]), totals["hits"]


class ShareIndicator(CountIndicator):
    """Base for shares of households: numerator ÷ denominator."""

    unit = Unit.PERCENT

    def figures(self, totals: Mapping[str, Any]) -> tuple[Decimal, Decimal | None, Decimal | None, int]:
        return Decimal(totals["hits"]), Decimal(totals["base"]), ratio(totals["hits"], totals["base"]), totals["hits"]


class PerCapitaIndicator(HouseholdIndicator):
    """Base for Σ 家庭纯收入 ÷ Σ 家庭人口 over a window, rounded once."""

    unit = Unit.YUAN_PER_PERSON
    group = INCOME
    numerator_label = "家庭纯收入合计（元）"
    denominator_label = "家庭人口合计（人）"
    who: ClassVar[Q] = EVERYONE
    complete_field: ClassVar[str] = "trailing_complete"
    amount_field: ClassVar[str] = "trailing_net_fen"

    def base(self, parameters: Mapping[str, Decimal]) -> Q:
        return self.who & Q(**{self.complete_field: True}, size__gt=0)

    def aggregates(self, *, period: Quarter, parameters: Mapping[str, Decimal]) -> dict[str, Any]:
        base = self.base(parameters)
        return {
            "fen": Sum(self.amount_field, filter=base),
            "people": Sum("size", filter=base),
            "households": Count("pk", filter=base),
        }

    def figures(self, totals: Mapping[str, Any]) -> tuple[Decimal, Decimal | None, Decimal | None, int]:
        amount = yuan(totals["fen"])
        people = Decimal(totals["people"] or 0)
        return amount, people, per_capita(amount, people), totals["households"]


class GrowthIndicator(HouseholdIndicator):
    """Base for per-capita growth on the same four quarters a year earlier, over the households
    with a record in all eight quarters (the same households on both sides)."""

    unit = Unit.PERCENT
    group = INCOME
    period_kind = PeriodKind.TRAILING
    numerator_label = "本期人均（元）"
    denominator_label = "上年同期人均（元）"
    who: ClassVar[Q] = LIFTED
    current_field: ClassVar[str] = "trailing_net_fen"
    prior_field: ClassVar[str] = "prior_net_fen"

    def base(self, parameters: Mapping[str, Decimal]) -> Q:
        return self.who & Q(trailing_complete=True, prior_complete=True, size__gt=0, prior_size__gt=0)

    def aggregates(self, *, period: Quarter, parameters: Mapping[str, Decimal]) -> dict[str, Any]:
        base = self.base(parameters)
        return {
            "now_fen": Sum(self.current_field, filter=base),
            "now_people": Sum("size", filter=base),
            "then_fen": Sum(self.prior_field, filter=base),
            "then_people": Sum("prior_size", filter=base),
            "households": Count("pk", filter=base),
        }

    def figures(self, totals: Mapping[str, Any]) -> tuple[Decimal, Decimal | None, Decimal | None, int]:
        now = per_capita(yuan(totals["now_fen"]), totals["now_people"])
        then = per_capita(yuan(totals["then_fen"]), totals["then_people"])
        rate = None
        if now is not None and then is not None and totals["then_fen"] > 0:
            # From the unrounded per-capita figures: the rate is rounded once, like they are.
            exact_now = Decimal(totals["now_fen"]) / Decimal(totals["now_people"])
            exact_then = Decimal(totals["then_fen"]) / Decimal(totals["then_people"])
            rate = growth(exact_now, exact_then)
        return now or Decimal(0), then, rate, totals["households"]
