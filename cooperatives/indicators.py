"""双绑 and market-entity figures of the assessment registry (issue 10 §4), for the group 产业与双绑.

Each class's docstring is its definition as the indicator page shows it; the date of a quarter's
figure is the quarter's last day, and "in force", "covered" and "eligible" are defined once in
cooperatives/coverage.py. The household shares are counts over the quarterly household facts, so
the engine computes them in one query per county at village level and adds them up (a query of
their own: industries.indicators.RegisterFacts says why); the others take one query per level.
The assessment app discovers this module; nothing here imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from cooperatives.coverage import ELIGIBLE_FACT, entity_in_force, is_member, memberships_in_force
from cooperatives.models import Entity, EntityKind, EntityLevel, Membership
from figures.periods import PeriodKind, Quarter
from figures.registry import Direction, Indicator, RegionFigure, Unit, full_code, level_key, per_capita, ratio, register
from households.facts import HouseholdQuarterFact
from industries.indicators import INDUSTRY_AND_BINDING, PeriodFactShare, counts_per_region, sql_per_region
from regions.models import PREFIX_LENGTH, Level, Region

# Units the registry has no member for: the pages show such a value as a bare number (1.25, not
# "1 户") and the unit text as it is.
ENTITIES = "个"
HOUSEHOLDS_PER_COOPERATIVE = "户/社"
LEVELS_COUNTY_AND_ABOVE = (EntityLevel.NATIONAL, EntityLevel.PROVINCIAL, EntityLevel.PREFECTURAL, EntityLevel.COUNTY)


# --- households ----------------------------------------------------------------------------------


class BindingCoverage(PeriodFactShare):
    """双绑覆盖率：期末有劳动力（至少一名技能、普通或弱劳动力）的脱贫户和监测户中，
    加入了合作社、且该合作社期末与龙头企业绑定在约的户数 ÷ 这些户数。入社、退社、绑定起止、
    主体成立和注销均按期末日期判断；一户加入两个合作社只计一次。001（三）：双绑覆盖率达 100%。"""

    code = "binding_coverage"
    name = "双绑覆盖率"
    period_kind = PeriodKind.QUARTER
    numerator_label = "已双绑户数"
    denominator_label = "有劳动力的脱贫户和监测户数"
    formula = "加入已绑定龙头企业的合作社的户数 ÷ 有劳动力的脱贫户和监测户数"
    order = 60

    def base_in(self, period: Quarter) -> Q:
        return ELIGIBLE_FACT

    def hit_in(self, period: Quarter) -> Q:
        return Q(is_member(period.last_day, bound=True))


class MembershipRate(BindingCoverage):
    """入社率：期末有劳动力的脱贫户和监测户中，期末是某个在册合作社成员的户数 ÷ 这些户数
    （不论合作社是否绑定龙头企业）。000（四）1、002 三（一）4：入社率达 100%。"""

    code = "cooperative_membership_rate"
    name = "入社率"
    numerator_label = "已入社户数"
    formula = "已加入合作社的户数 ÷ 有劳动力的脱贫户和监测户数"
    order = 61

    def hit_in(self, period: Quarter) -> Q:
        return Q(is_member(period.last_day, bound=False))


# --- villages ------------------------------------------------------------------------------------


def _village_cooperatives(period: Quarter) -> Exists:
    cooperatives = Entity.objects.filter(region=OuterRef("pk"), kind=EntityKind.COOPERATIVE).filter(
        entity_in_force(period.last_day)
    )
    return Exists(cooperatives.order_by())


class VillagesWithCooperative(Indicator):
    """有合作社的行政村占比：注册在本村、期末在册的农民专业合作社至少 1 个的行政村数 ÷ 行政村数。
    000（四）1、002、003（六）：每个行政村至少 1 个合作社。"""

    code = "villages_with_cooperative"
    name = "有合作社的行政村占比"
    group = INDUSTRY_AND_BINDING
    unit = Unit.PERCENT
    direction = Direction.HIGHER
    period_kind = PeriodKind.QUARTER
    levels = (Level.PROVINCE, Level.PREFECTURE, Level.COUNTY, Level.TOWNSHIP)
    numerator_label = "有合作社的行政村数"
    denominator_label = "行政村数"
    formula = "有在册合作社的行政村数 ÷ 行政村数"
    order = 62

    def compute(
        self, *, period: Quarter, level: int, within: str, parameters: Mapping[str, Decimal]
    ) -> list[RegionFigure]:
        rows = (
            Region.objects.filter(level=Level.VILLAGE, code__startswith=within)
            .annotate(unit=level_key("code", level))
            .values("unit")
            .annotate(with_cooperative=Count("pk", filter=Q(_village_cooperatives(period))), villages=Count("pk"))
            .order_by()
        )
        return [
            RegionFigure(
                code=full_code(row["unit"]),
                numerator=Decimal(row["with_cooperative"]),
                denominator=Decimal(row["villages"]),
                value=ratio(row["with_cooperative"], row["villages"]),
                records=row["with_cooperative"],
            )
            for row in rows
        ]

    def denominator_records(
        self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]
    ) -> QuerySet[Any]:
        return Region.objects.filter(level=Level.VILLAGE, code__startswith=region.prefix).order_by("code")

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        return self.denominator_records(period=period, region=region, parameters=parameters).filter(
            _village_cooperatives(period)
        )


# --- 带动 -----------------------------------------------------------------------------------------


def _memberships_of(period: Quarter, prefix: str) -> QuerySet[Membership]:
    """Memberships in force at the period's end of the households registered then (the facts) in
    the code prefix: one filter(), so one join to the facts."""
    return memberships_in_force(period.last_day).filter(
        household__quarter_facts__year=period.year,
        household__quarter_facts__quarter=period.number,
        household__quarter_facts__village_code__startswith=prefix,
    )


LED = Q(household__quarter_facts__lifted=True) | Q(household__quarter_facts__monitored=True)


class HouseholdsLedPerCooperative(Indicator):
    """合作社户均带动：本区划的脱贫户和监测户期末加入合作社的户次 ÷ 有本区划农户期末入社的合作社数。
    一户加入两个合作社，两个社各带动一户（001（三）按带动的脱贫户和监测对象户计联农带农）；
    按农户所在地计，合作社注册在外乡镇的也算，成员户只列本区划的。"""

    code = "households_led_per_cooperative"
    name = "合作社户均带动脱贫户和监测户"
    group = INDUSTRY_AND_BINDING
    unit = HOUSEHOLDS_PER_COOPERATIVE
    direction = Direction.HIGHER
    period_kind = PeriodKind.QUARTER
    numerator_label = "带动的脱贫户和监测户（户次）"
    denominator_label = "有本区划农户入社的合作社数"
    formula = "脱贫户和监测户的入社户次 ÷ 合作社数"
    order = 63

    def compute(
        self, *, period: Quarter, level: int, within: str, parameters: Mapping[str, Decimal]
    ) -> list[RegionFigure]:
        # The memberships in force (their definition, compiled) joined to the facts by household:
        # the ORM would go through the households table, a join of 200,000 rows that adds nothing.
        memberships, params = (
            memberships_in_force(period.last_day).values("household_id", "cooperative_id").order_by().query
        ).sql_with_params()
        length = PREFIX_LENGTH[Level(level)]
        grouped = f"""
            SELECT SUBSTR(f.village_code, 1, {length}) AS unit,
                SUM(CASE WHEN f.lifted OR f.monitored THEN 1 ELSE 0 END) AS led,
                COUNT(DISTINCT m.cooperative_id) AS cooperatives
            FROM {HouseholdQuarterFact._meta.db_table} f JOIN ({memberships}) m ON m.household_id = f.household_id
            WHERE f.year = %s AND f.quarter = %s AND f.village_code LIKE %s
            GROUP BY SUBSTR(f.village_code, 1, {length})
        """
        rows = sql_per_region(
            level=level,
            within=within,
            grouped=(grouped, [*params, period.year, period.number, f"{within}%"]),
            columns=["led", "cooperatives"],
        )
        return [
            RegionFigure(
                code=full_code(unit),
                numerator=Decimal(led),
                denominator=Decimal(cooperatives),
                value=per_capita(Decimal(led), cooperatives),
                records=int(led),
            )
            for unit, led, cooperatives in rows
        ]

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        # The facts' conditions in the same filter() as the join, so they read the same row.
        return (
            memberships_in_force(period.last_day)
            .filter(
                LED,
                household__quarter_facts__year=period.year,
                household__quarter_facts__quarter=period.number,
                household__quarter_facts__village_code__startswith=region.prefix,
            )
            .select_related("cooperative", "household")
            .order_by("household__number", "cooperative__name")
        )

    def denominator_records(
        self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]
    ) -> QuerySet[Any]:
        cooperatives = _memberships_of(period, region.prefix).values("cooperative_id")
        return Entity.objects.filter(pk__in=cooperatives).order_by("name")


# --- entities by kind and level ------------------------------------------------------------------


class EntityCount(Indicator):
    """Base: entities of a kind registered in the region (or below) and in force at the period's
    end; `ranked` narrows the count to some levels (示范社 of 县级 and above)."""

    group = INDUSTRY_AND_BINDING
    unit = ENTITIES
    direction = Direction.HIGHER
    period_kind = PeriodKind.QUARTER
    kind: ClassVar[str]
    ranked: ClassVar[tuple[str, ...]] = ()

    def _hit(self) -> Q:
        return Q(level__in=self.ranked) if self.ranked else Q()

    def _in_force(self, period: Quarter) -> QuerySet[Entity]:
        return Entity.objects.filter(kind=self.kind).filter(entity_in_force(period.last_day))

    def compute(
        self, *, period: Quarter, level: int, within: str, parameters: Mapping[str, Decimal]
    ) -> list[RegionFigure]:
        # An entity registered above the level (a county's enterprise, for townships) is not in any
        # of its units: without the level condition it would be counted under a made-up code.
        grouped = (
            self._in_force(period)
            .filter(region__code__startswith=within, region__level__gte=level)
            .annotate(unit=level_key("region__code", level))
            .values("unit")
            .annotate(hits=Count("pk", filter=self._hit()), entities=Count("pk"))
        )
        rows = counts_per_region(level=level, within=within, grouped=grouped, columns=["hits", "entities"])
        return [
            RegionFigure(
                code=full_code(unit),
                numerator=Decimal(hits),
                denominator=Decimal(entities),
                value=Decimal(hits),
                records=int(hits),
            )
            for unit, hits, entities in rows
        ]

    def denominator_records(
        self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]
    ) -> QuerySet[Any]:
        return self._in_force(period).filter(region__code__startswith=region.prefix).order_by("name")

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        return self.denominator_records(period=period, region=region, parameters=parameters).filter(self._hit())


class EnterpriseCount(EntityCount):
    """龙头企业数：注册在本区划（含下级）、期末在册的龙头企业数（各级别合计）。"""

    code = "enterprise_count"
    name = "龙头企业数"
    kind = EntityKind.ENTERPRISE
    numerator_label = "龙头企业数"
    denominator_label = "龙头企业数"
    formula = "期末在册的龙头企业数"
    order = 66


class CooperativeCount(EntityCount):
    """农民专业合作社数：注册在本区划（含下级）、期末在册的合作社数。"""

    code = "cooperative_count"
    name = "农民专业合作社数"
    kind = EntityKind.COOPERATIVE
    numerator_label = "合作社数"
    denominator_label = "合作社数"
    formula = "期末在册的合作社数"
    order = 67


class ModelCooperativeCount(EntityCount):
    """县级及以上示范社数：期末在册的合作社中，示范社级别为国家级、省级、州(市)级或县级的个数
    （分母为全部在册合作社）。000、002 按级别提出示范社培育目标。"""

    code = "model_cooperative_count"
    name = "县级及以上示范社数"
    kind = EntityKind.COOPERATIVE
    ranked = LEVELS_COUNTY_AND_ABOVE
    numerator_label = "县级及以上示范社数"
    denominator_label = "合作社数"
    formula = "示范社级别为县级及以上的在册合作社数"
    order = 68


class FamilyFarmCount(EntityCount):
    """家庭农场数：注册在本区划（含下级）、期末在册的家庭农场数。"""

    code = "family_farm_count"
    name = "家庭农场数"
    kind = EntityKind.FAMILY_FARM
    numerator_label = "家庭农场数"
    denominator_label = "家庭农场数"
    formula = "期末在册的家庭农场数"
    order = 69


INDICATORS: list[Indicator] = [
    BindingCoverage(),
    MembershipRate(),
    VillagesWithCooperative(),
    HouseholdsLedPerCooperative(),
    EnterpriseCount(),
    CooperativeCount(),
    ModelCooperativeCount(),
    FamilyFarmCount(),
]
for _indicator in INDICATORS:
    register(_indicator)
