"""产业 figures of the assessment registry: 产业到户率 and how many planned scales were reached.

Each class's docstring is its definition as the indicator page shows it. The assessment app
discovers this module; nothing here imports it. Two helpers here are shared with the cooperatives'
figures (cooperatives/indicators.py): a household share over the quarterly facts whose condition
reads the period, and a grouped query joined to every region of a level.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from figures.periods import PeriodKind, Quarter
from figures.registry import (
    Direction,
    FactSource,
    Indicator,
    RegionFigure,
    Unit,
    full_code,
    level_key,
    ratio,
    register,
)
from households.facts import HOUSEHOLD_FACTS, HouseholdFacts
from households.indicators.base import LIFTED, MONITORED, ShareIndicator, facts_in
from industries.models import Participation, ScalePlan, ScaleReport
from regions.models import PREFIX_LENGTH, Level, Region

INDUSTRY_AND_BINDING = "产业与双绑"


class RegisterFacts(HouseholdFacts):
    """The household facts once more, under a name of their own, for the shares that look into
    other registers (an EXISTS over memberships or participations for each household).

    The engine runs one query per fact source and county; in the household facts' own query,
    those subqueries would keep PostgreSQL from aggregating in parallel (subplans are parallel
    restricted) and make every household figure wait for them: at 200,000 households the shared
    query went from 0.56 s to 2.6 s. A second, narrow query over the same rows costs 0.2 s.
    The rows are the household facts', rebuilt by that source (which these indicators list too).
    """

    name: ClassVar[str] = "household_quarter_facts_with_registers"

    def refresh(self, *, period: Quarter, within: str) -> int:
        return 0


REGISTER_FACTS = RegisterFacts()


class PeriodFactShare(ShareIndicator):
    """Base: a share of the period's household facts whose conditions read the period (its last
    day, its year) and other registers. The aggregates are plain counts, so the engine computes
    them at village level in one query per county (over REGISTER_FACTS) and adds them up."""

    group = INDUSTRY_AND_BINDING
    direction = Direction.HIGHER
    source = REGISTER_FACTS

    def sources(self) -> tuple[FactSource, ...]:
        return (HOUSEHOLD_FACTS, REGISTER_FACTS)

    @abstractmethod
    def base_in(self, period: Quarter) -> Q:
        """Who the denominator counts (a condition on the facts)."""

    @abstractmethod
    def hit_in(self, period: Quarter) -> Q:
        """Who of them the numerator counts."""

    def aggregates(self, *, period: Quarter, parameters: Mapping[str, Decimal]) -> dict[str, Any]:
        base = self.base_in(period)
        return {"hits": Count("pk", filter=base & self.hit_in(period)), "base": Count("pk", filter=base)}

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        return facts_in(period=period, region=region).filter(self.base_in(period) & self.hit_in(period))

    def denominator_records(
        self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]
    ) -> QuerySet[Any]:
        return facts_in(period=period, region=region).filter(self.base_in(period))


def counts_per_region(*, level: int, within: str, grouped: QuerySet[Any], columns: list[str]) -> list[list[Any]]:
    """[code prefix, *columns] for every region of `level` under `within`, in one query: `grouped`
    (a values("unit").annotate(...) query, `unit` being the level's code prefix) left-joined to the
    regions, so a region it has no row for still gets its zeros (a county without a cooperative has
    0 cooperatives, not no figure)."""
    inner, params = grouped.order_by().query.sql_with_params()
    return sql_per_region(level=level, within=within, grouped=(inner, list(params)), columns=columns)


def sql_per_region(*, level: int, within: str, grouped: tuple[str, list[Any]], columns: list[str]) -> list[list[Any]]:
    """As counts_per_region, for a grouped query written in SQL (with its parameters)."""
    inner, params = grouped
    length = PREFIX_LENGTH[Level(level)]
    selected = ", ".join(f"COALESCE(g.{column}, 0)" for column in columns)
    sql = f"""
        SELECT SUBSTR(r.code, 1, {length}), {selected}
        FROM {Region._meta.db_table} r LEFT JOIN ({inner}) g ON g.unit = SUBSTR(r.code, 1, {length})
        WHERE r.level = %s AND r.code LIKE %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, int(level), f"{within}%"])
        return [list(row) for row in cursor.fetchall()]


# --- 产业到户 -----------------------------------------------------------------------------------


class ParticipationRate(PeriodFactShare):
    """产业到户率：期末在册的脱贫户和监测户中，本年度登记了产业到户（任一产业，规模不限）的户数 ÷ 脱贫户和监测户数。
    003（三）：产业到户率达到 75%。"""

    code = "industry_participation_rate"
    name = "产业到户率"
    period_kind = PeriodKind.YEAR
    numerator_label = "本年度有产业到户的户数"
    denominator_label = "脱贫户和监测户数"
    formula = "本年度有产业到户登记的脱贫户和监测户数 ÷ 脱贫户和监测户数"
    order = 64

    def base_in(self, period: Quarter) -> Q:
        return LIFTED | MONITORED

    def hit_in(self, period: Quarter) -> Q:
        participations = Participation.objects.filter(household=OuterRef("household_id"), year=period.year)
        return Q(Exists(participations.order_by()))


# --- 计划规模 -------------------------------------------------------------------------------------


def plans_with_actual(year: int, within: str) -> QuerySet[ScalePlan]:
    """The year's planned scales inside the code prefix `within`, each with `reached`: what the
    villages inside the plan's region (the village itself, or the villages of the township or the
    county) reported for that industry and year.

    One subquery per level of plan, each reached through the region tree by equality (a village's
    reports, a township's villages, a county's townships), so every plan costs a few index lookups
    whatever the size of the province; CASE evaluates only the plan's own level."""
    same = {"year": OuterRef("year"), "industry": OuterRef("industry")}
    village = ScaleReport.objects.filter(village=OuterRef("region"), **same)
    township = ScaleReport.objects.filter(village__parent=OuterRef("region"), **same)
    county = ScaleReport.objects.filter(village__parent__parent=OuterRef("region"), **same)
    scale: DecimalField[Decimal, Decimal] = DecimalField(max_digits=16, decimal_places=2)

    def total(reports: QuerySet[ScaleReport]) -> Subquery:
        summed = reports.order_by().values("industry").annotate(total=Sum("scale")).values("total")
        return Subquery(summed, output_field=scale)

    reached = Case(
        When(region__level=Level.VILLAGE, then=total(village)),
        When(region__level=Level.TOWNSHIP, then=total(township)),
        default=total(county),
        output_field=scale,
    )
    return ScalePlan.objects.filter(year=year, region__code__startswith=within).annotate(
        reached=Coalesce(reached, Value(Decimal(0)), output_field=scale)
    )


REACHED = Q(reached__gte=F("scale"))


class ScalePlansMet(Indicator):
    """计划规模达成率：本年度本区划及下级区划的各项计划规模（县、乡镇、村按产业填报）中，
    实际规模达到计划的项数 ÷ 计划项数。实际规模为计划所在区划内各村本年度上报的该产业规模之和
    （村的计划即与本村上报比较）。各产业计量单位不同，故按项计数，不把亩和头相加。"""

    code = "scale_plans_met"
    name = "计划规模达成率"
    group = INDUSTRY_AND_BINDING
    unit = Unit.PERCENT
    direction = Direction.HIGHER
    period_kind = PeriodKind.YEAR
    numerator_label = "实际达到计划的项数"
    denominator_label = "计划规模项数"
    formula = "实际规模 ≥ 计划规模的项数 ÷ 计划规模项数"
    order = 65

    def compute(
        self, *, period: Quarter, level: int, within: str, parameters: Mapping[str, Decimal]
    ) -> list[RegionFigure]:
        grouped = (
            plans_with_actual(period.year, within)
            .filter(region__level__gte=level)
            .annotate(unit=level_key("region__code", level))
            .values("unit")
            .annotate(met=Count("pk", filter=REACHED), plans=Count("pk"))
        )
        rows = counts_per_region(level=level, within=within, grouped=grouped, columns=["met", "plans"])
        return [
            RegionFigure(
                code=full_code(unit),
                numerator=Decimal(met),
                denominator=Decimal(plans),
                value=ratio(met, plans),
                records=int(met),
            )
            for unit, met, plans in rows
        ]

    def _plans(self, *, period: Quarter, region: Region) -> QuerySet[ScalePlan]:
        return (
            plans_with_actual(period.year, region.prefix)
            .filter(region__level__gte=region.level)
            .select_related("region", "industry", "industry__unit")
            .order_by("region__code", "industry__name")
        )

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        return self._plans(period=period, region=region).filter(REACHED)

    def denominator_records(
        self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]
    ) -> QuerySet[Any]:
        return self._plans(period=period, region=region)


INDICATORS: list[Indicator] = [ParticipationRate(), ScalePlansMet()]
for _indicator in INDICATORS:
    register(_indicator)
