"""监测对象人口占比: the figures that read a second register, the villages' rural population."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from figures.periods import PeriodKind, Quarter
from figures.registry import (
    Direction,
    FactSource,
    Indicator,
    Parameter,
    RegionFigure,
    Unit,
    full_code,
    ratio,
)
from households.facts import HOUSEHOLD_FACTS, HouseholdQuarterFact
from households.indicators.base import MONITORED, MONITORING, facts_in
from households.population import VillagePopulation
from regions.models import PREFIX_LENGTH, Level, Region

# --- 监测对象人口占比 (the one figure that reads a second register: the villages' population) ------


def _population_sql(level: int) -> str:
    facts = HouseholdQuarterFact._meta.db_table
    populations = VillagePopulation._meta.db_table
    regions = Region._meta.db_table
    length = PREFIX_LENGTH[Level(level)]
    return f"""
        WITH people AS (
            SELECT SUBSTR(village_code, 1, {length}) AS unit, SUM(members) AS monitored, COUNT(*) AS households
            FROM {facts}
            WHERE year = %(year)s AND quarter = %(quarter)s AND monitored AND village_code LIKE %(within)s
              AND village_code IN (
                  SELECT v.code FROM {populations} p JOIN {regions} v ON v.id = p.village_id WHERE p.year = %(year)s
              )
            GROUP BY SUBSTR(village_code, 1, {length})
        ),
        population AS (
            SELECT SUBSTR(v.code, 1, {length}) AS unit, SUM(p.population) AS population
            FROM {populations} p JOIN {regions} v ON v.id = p.village_id
            WHERE p.year = %(year)s AND v.code LIKE %(within)s
            GROUP BY SUBSTR(v.code, 1, {length})
        )
        SELECT population.unit, COALESCE(people.monitored, 0), COALESCE(people.households, 0), population.population
        FROM population LEFT JOIN people ON people.unit = population.unit
    """


class MonitoredPopulationShare(Indicator):
    """监测对象人口占农村人口比例：
    期末监测户的在户人数之和 ÷ 本年度登记的农村人口（只计登记了农村人口的村）。
    002：超过 3% 的村重点跟踪。"""

    code = "monitored_population_share"
    name = "监测对象人口占比"
    group = MONITORING
    unit = Unit.PERCENT
    direction = Direction.LOWER
    period_kind = PeriodKind.QUARTER
    numerator_label = "监测对象人口（人）"
    denominator_label = "农村人口（人）"
    formula = "Σ 监测户在户人数 ÷ Σ 农村人口"
    order = 34

    def sources(self) -> tuple[FactSource, ...]:
        return (HOUSEHOLD_FACTS,)

    def compute(
        self, *, period: Quarter, level: int, within: str, parameters: Mapping[str, Decimal]
    ) -> list[RegionFigure]:
        with connection.cursor() as cursor:
            cursor.execute(
                _population_sql(level), {"year": period.year, "quarter": period.number, "within": f"{within}%"}
            )
            return [
                RegionFigure(
                    code=full_code(unit),
                    numerator=Decimal(monitored),
                    denominator=Decimal(population),
                    value=ratio(monitored, population),
                    records=int(households),
                )
                for unit, monitored, households, population in cursor.fetchall()
            ]

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        # Only villages with a registered population count, as in the figure.
        counted = VillagePopulation.objects.filter(year=period.year).values("village__code")
        return facts_in(period=period, region=region).filter(MONITORED, village_code__in=counted)

    def denominator_records(
        self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]
    ) -> QuerySet[Any]:
        return VillagePopulation.objects.filter(year=period.year, village__code__startswith=region.prefix).order_by(
            "village__code"
        )


def _villages_over_sql(level: int) -> str:
    facts = HouseholdQuarterFact._meta.db_table
    populations = VillagePopulation._meta.db_table
    regions = Region._meta.db_table
    length = PREFIX_LENGTH[Level(level)]
    return f"""
        WITH share AS (
            SELECT v.code, p.population,
                (SELECT COALESCE(SUM(f.members), 0) FROM {facts} f
                 WHERE f.year = %(year)s AND f.quarter = %(quarter)s AND f.monitored AND f.village_code = v.code)
                AS monitored
            FROM {populations} p JOIN {regions} v ON v.id = p.village_id
            WHERE p.year = %(year)s AND v.code LIKE %(within)s
        )
        SELECT SUBSTR(code, 1, {length}),
            SUM(CASE WHEN monitored * 10000 > population * %(share)s THEN 1 ELSE 0 END),
            COUNT(*)
        FROM share GROUP BY SUBSTR(code, 1, {length})
    """


class VillagesOverMonitoredShare(Indicator):
    """监测对象人口占比超过所设比例（默认 3%）的村数：
    期末监测户在户人数 ÷ 本年度农村人口 超过该比例的村，
    分母为登记了本年度农村人口的村数。002：这些村重点跟踪。"""

    code = "villages_over_monitored_share"
    name = "监测对象占比超3%的村"
    group = MONITORING
    unit = Unit.VILLAGES
    direction = Direction.LOWER
    period_kind = PeriodKind.QUARTER
    levels = (Level.PROVINCE, Level.PREFECTURE, Level.COUNTY, Level.TOWNSHIP)
    numerator_label = "超过比例的村数"
    denominator_label = "登记了农村人口的村数"
    formula = "监测对象人口 ÷ 农村人口 > 所设比例 的村数"
    parameters = (Parameter("monitored_share_limit", "监测对象人口占比上限", Decimal("0.03"), "002"),)
    order = 35

    def sources(self) -> tuple[FactSource, ...]:
        return (HOUSEHOLD_FACTS,)

    def compute(
        self, *, period: Quarter, level: int, within: str, parameters: Mapping[str, Decimal]
    ) -> list[RegionFigure]:
        # The share compared in integers: monitored × 10,000 > population × (limit × 10,000).
        share = int(parameters["monitored_share_limit"] * 10000)
        with connection.cursor() as cursor:
            cursor.execute(
                _villages_over_sql(level),
                {"year": period.year, "quarter": period.number, "within": f"{within}%", "share": share},
            )
            return [
                RegionFigure(
                    code=full_code(unit),
                    numerator=Decimal(over),
                    denominator=Decimal(all_),
                    value=Decimal(over),
                    records=int(over),
                )
                for unit, over, all_ in cursor.fetchall()
            ]

    def _villages(self, *, period: Quarter, region: Region) -> QuerySet[Any]:
        return VillagePopulation.objects.filter(year=period.year, village__code__startswith=region.prefix)

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        monitored = (
            HouseholdQuarterFact.objects.filter(
                year=period.year, quarter=period.number, monitored=True, village_code=OuterRef("village__code")
            )
            .values("village_code")
            .annotate(people=Sum("members"))
            .values("people")
        )
        share = int(parameters["monitored_share_limit"] * 10000)
        return (
            self._villages(period=period, region=region)
            .annotate(monitored=Coalesce(Subquery(monitored), 0))
            .annotate(scaled=F("monitored") * 10000, limit=F("population") * share)
            .filter(scaled__gt=F("limit"))
            .select_related("village")
            .order_by("village__code")
        )

    def denominator_records(
        self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]
    ) -> QuerySet[Any]:
        return self._villages(period=period, region=region).select_related("village").order_by("village__code")
