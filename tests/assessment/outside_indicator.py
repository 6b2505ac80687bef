"""An indicator declared outside the assessment app, as the industries or funds apps will declare theirs."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet

from figures.periods import PeriodKind, Quarter
from figures.registry import Direction, SourceIndicator, Unit
from households.facts import HOUSEHOLD_FACTS, HouseholdQuarterFact
from regions.models import Region


class LargeHouseholds(SourceIndicator):
    """大户：本季度家庭人口 3 人及以上的户数（测试用）。"""

    code = "large_households"
    name = "三人及以上的户"
    group = "测试"
    unit = Unit.HOUSEHOLDS
    direction = Direction.LOWER
    period_kind = PeriodKind.QUARTER
    source = HOUSEHOLD_FACTS

    def aggregates(self, *, period: Quarter, parameters: Mapping[str, Decimal]) -> dict[str, Any]:
        return {"large": Count("pk", filter=Q(size__gte=3)), "all": Count("pk")}

    def figures(self, totals: Mapping[str, Any]) -> tuple[Decimal, Decimal | None, Decimal | None, int]:
        return Decimal(totals["large"]), Decimal(totals["all"]), Decimal(totals["large"]), totals["large"]

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        return self.denominator_records(period=period, region=region, parameters=parameters).filter(size__gte=3)

    def denominator_records(
        self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]
    ) -> QuerySet[Any]:
        return HouseholdQuarterFact.objects.filter(
            year=period.year, quarter=period.number, village_code__startswith=region.prefix
        )
