"""The household and income indicators (收入, 监测帮扶), computed over the quarterly household facts.

Each class's docstring is its definition as the indicator page shows it. Who counts follows
DOMAIN §9: a household is in a window's income figures when it is registered at the period's end
and has a record for every quarter of the window; 家庭人口 is the size on the window's last record.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum

from figures.periods import PeriodKind, Quarter
from figures.registry import (
    Direction,
    FactSource,
    Indicator,
    Parameter,
    RegionFigure,
    SourceIndicator,
    Unit,
    full_code,
    growth,
    per_capita,
    ratio,
    register,
)
from households.facts import HOUSEHOLD_FACTS, HouseholdQuarterFact
from households.population import VillagePopulation
from regions.models import PREFIX_LENGTH, Level, Region

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
        return now or Decimal(0), then, growth(now, then), totals["households"]


# --- 收入 -------------------------------------------------------------------------------------


class LiftedPerCapita(PerCapitaIndicator):
    """脱贫户人均纯收入（近四季度）：
    本季度及前三个季度均有收入记录的脱贫户，家庭纯收入之和 ÷ 家庭人口之和（家庭人口取本季度记录），
    最后一步四舍五入到分。"""

    code = "income_per_capita_lifted"
    name = "脱贫户人均纯收入（近四季度）"
    period_kind = PeriodKind.TRAILING
    who = LIFTED
    formula = "Σ 近四季度家庭纯收入 ÷ Σ 家庭人口（脱贫户）"
    order = 10


class MonitoredPerCapita(PerCapitaIndicator):
    """监测对象人均纯收入（近四季度）：
    期末未消除风险的监测户中，近四季度均有记录者的家庭纯收入之和 ÷ 家庭人口之和。"""

    code = "income_per_capita_monitored"
    name = "监测对象人均纯收入（近四季度）"
    period_kind = PeriodKind.TRAILING
    who = MONITORED
    formula = "Σ 近四季度家庭纯收入 ÷ Σ 家庭人口（监测对象）"
    order = 11


class AllPerCapita(PerCapitaIndicator):
    """全部农户人均纯收入（近四季度）：
    台账内近四季度均有记录的全部农户，家庭纯收入之和 ÷ 家庭人口之和。"""

    code = "income_per_capita_all"
    name = "全部农户人均纯收入（近四季度）"
    period_kind = PeriodKind.TRAILING
    formula = "Σ 近四季度家庭纯收入 ÷ Σ 家庭人口（全部农户）"
    order = 12


class LiftedPerCapitaYearToDate(PerCapitaIndicator):
    """脱贫户人均纯收入（年内累计）：
    本年第一季度至本季度均有记录的脱贫户，家庭纯收入之和 ÷ 家庭人口之和。年度目标在第四季度考核。
    """

    code = "income_per_capita_lifted_ytd"
    name = "脱贫户人均纯收入（年内累计）"
    period_kind = PeriodKind.YEAR_TO_DATE
    who = LIFTED
    complete_field = "ytd_complete"
    amount_field = "ytd_net_fen"
    formula = "Σ 年内累计家庭纯收入 ÷ Σ 家庭人口（脱贫户）"
    order = 13


class MonitoredPerCapitaYearToDate(PerCapitaIndicator):
    """监测对象人均纯收入（年内累计）：
    本年第一季度至本季度均有记录的监测户，家庭纯收入之和 ÷ 家庭人口之和。"""

    code = "income_per_capita_monitored_ytd"
    name = "监测对象人均纯收入（年内累计）"
    period_kind = PeriodKind.YEAR_TO_DATE
    who = MONITORED
    complete_field = "ytd_complete"
    amount_field = "ytd_net_fen"
    formula = "Σ 年内累计家庭纯收入 ÷ Σ 家庭人口（监测对象）"
    order = 14


class AllPerCapitaYearToDate(PerCapitaIndicator):
    """全部农户人均纯收入（年内累计）：
    本年第一季度至本季度均有记录的全部农户，家庭纯收入之和 ÷ 家庭人口之和。"""

    code = "income_per_capita_all_ytd"
    name = "全部农户人均纯收入（年内累计）"
    period_kind = PeriodKind.YEAR_TO_DATE
    complete_field = "ytd_complete"
    amount_field = "ytd_net_fen"
    formula = "Σ 年内累计家庭纯收入 ÷ Σ 家庭人口（全部农户）"
    order = 15


class LiftedIncomeGrowth(GrowthIndicator):
    """脱贫户人均纯收入同比增长：
    近四季度人均纯收入 ÷ 上年同期四个季度人均纯收入 − 1，只计八个季度均有记录的脱贫户。"""

    code = "income_growth_lifted"
    name = "脱贫户人均纯收入增长"
    formula = "本期人均纯收入 ÷ 上年同期人均纯收入 − 1"
    order = 20


class OperatingIncomeGrowth(GrowthIndicator):
    """脱贫户人均生产经营性收入同比增长（种植、养殖、林果、其他经营收入，未扣经营性支出）。"""

    code = "operating_income_growth_lifted"
    name = "脱贫户生产经营性收入增长"
    current_field = "trailing_operating_fen"
    prior_field = "prior_operating_fen"
    formula = "本期人均生产经营性收入 ÷ 上年同期 − 1"
    order = 21


class PropertyIncomeGrowth(GrowthIndicator):
    """脱贫户人均财产性收入同比增长（资产收益分红、土地流转、其他财产性收入）。"""

    code = "property_income_growth_lifted"
    name = "脱贫户财产性收入增长"
    current_field = "trailing_property_fen"
    prior_field = "prior_property_fen"
    formula = "本期人均财产性收入 ÷ 上年同期 − 1"
    order = 22


class OperatingFallShare(ShareIndicator):
    """生产经营收入同比下降户占比：
    本季度与上年同季度都有记录的农户中，本季度生产经营性收入低于上年同季度的户数 ÷ 户数。
    001：每高于上级 1 个百分点扣 0.5 分。"""

    code = "operating_fall_share"
    name = "生产经营收入下降户占比"
    group = INCOME
    period_kind = PeriodKind.QUARTER
    numerator_label = "下降户数"
    denominator_label = "两期均有记录户数"
    formula = "本季度生产经营性收入 < 上年同季度的户数 ÷ 两期均有记录的户数"
    order = 23

    def base(self, parameters: Mapping[str, Decimal]) -> Q:
        return Q(quarter_operating_fen__isnull=False, prior_quarter_operating_fen__isnull=False)

    def hit(self, parameters: Mapping[str, Decimal]) -> Q:
        return Q(quarter_operating_fen__lt=F("prior_quarter_operating_fen"))


# --- 监测帮扶 -----------------------------------------------------------------------------------


class LiftedBelowThresholdUnmonitored(CountIndicator):
    """低于监测标准未纳入监测的脱贫户：
    近四季度人均纯收入低于本年度监测范围、期末不是监测对象的脱贫户数，应为 0。"""

    code = "lifted_below_threshold_unmonitored"
    name = "低于监测标准未纳入监测的脱贫户"
    group = MONITORING
    period_kind = PeriodKind.TRAILING
    numerator_label = "低于标准未监测户数"
    denominator_label = "近四季度有完整记录的脱贫户数"
    formula = "近四季度人均纯收入 < 监测范围 且 未纳入监测的脱贫户数"
    order = 30

    def base(self, parameters: Mapping[str, Decimal]) -> Q:
        return LIFTED & Q(trailing_complete=True)

    def hit(self, parameters: Mapping[str, Decimal]) -> Q:
        return Q(below_threshold=True, monitored=False)


class BelowKeyLine(CountIndicator):
    """人均纯收入低于 1 万元的农户（重点户，002：
    一对一帮扶）：近四季度人均纯收入低于所设线（默认 10,000 元）的户数。"""

    code = "below_key_line"
    name = "人均纯收入低于1万元的农户"
    group = MONITORING
    period_kind = PeriodKind.TRAILING
    numerator_label = "低于该线户数"
    denominator_label = "近四季度有完整记录的户数"
    formula = "近四季度人均纯收入 < 重点户收入线 的户数"
    parameters = (Parameter("key_household_line", "重点户收入线（元/人·年）", Decimal("10000"), "002"),)
    order = 31

    def base(self, parameters: Mapping[str, Decimal]) -> Q:
        return Q(trailing_complete=True, per_capita_fen__isnull=False)

    def hit(self, parameters: Mapping[str, Decimal]) -> Q:
        return Q(per_capita_fen__lt=int(parameters["key_household_line"] * FEN))


class ZeroEmployment(CountIndicator):
    """零就业家庭（有劳动力）：
    有劳动能力成员、但无成员务工且本季度工资性收入为 0 的脱贫户和监测户数，应为 0（002）。"""

    code = "zero_employment_with_labour"
    name = "有劳动力的零就业家庭"
    group = MONITORING
    period_kind = PeriodKind.QUARTER
    numerator_label = "零就业户数"
    denominator_label = "有劳动力的脱贫户和监测户数"
    formula = "有劳动力、无务工成员、本季度工资性收入为 0 的户数"
    order = 32

    def base(self, parameters: Mapping[str, Decimal]) -> Q:
        return (LIFTED | MONITORED) & Q(labour=True, recorded=True)

    def hit(self, parameters: Mapping[str, Decimal]) -> Q:
        return Q(employed=False, quarter_wages_fen=0)


class LongOpenCases(CountIndicator):
    """识别满 12 个月仍未消除风险的监测对象：
    期末未消除风险、识别时间距期末已满所设月数（默认 12）的户数。"""

    code = "monitoring_open_twelve_months"
    name = "识别满12个月未消除风险的监测对象"
    group = MONITORING
    period_kind = PeriodKind.QUARTER
    numerator_label = "满期未消除户数"
    denominator_label = "期末监测对象户数"
    formula = "识别时间 ≤ 期末 − 所设月数 的未消除监测户数"
    parameters = (Parameter("open_case_months", "风险未消除预警月数", Decimal("12"), "实践"),)
    order = 33

    def base(self, parameters: Mapping[str, Decimal]) -> Q:
        return MONITORED

    def hit(self, parameters: Mapping[str, Decimal]) -> Q:
        # identified_month is a month's first day; "due" is that day of the period's last month minus N months.
        return Q(identified_month__lte=parameters["_open_case_due"])

    def aggregates(self, *, period: Quarter, parameters: Mapping[str, Decimal]) -> dict[str, Any]:
        return super().aggregates(period=period, parameters=_with_due(period, parameters))

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        return super().numerator_records(period=period, region=region, parameters=_with_due(period, parameters))


def _with_due(period: Quarter, parameters: Mapping[str, Decimal]) -> dict[str, Any]:
    months = int(parameters["open_case_months"])
    last_month = period.year * 12 + period.number * 3 - 1  # months since year 0, zero-based
    due = last_month - months
    return {**parameters, "_open_case_due": date(due // 12, due % 12 + 1, 1)}


class EntryProgress(ShareIndicator):
    """填报进度：本季度已录入收入的户数 ÷ 期末在册户数（乡镇在关账前催报的依据）。"""

    code = "entry_progress"
    name = "收入填报进度"
    group = MONITORING
    period_kind = PeriodKind.QUARTER
    direction = Direction.HIGHER
    numerator_label = "已录入户数"
    denominator_label = "在册户数"
    formula = "本季度已录入收入的户数 ÷ 在册户数"
    order = 40

    def hit(self, parameters: Mapping[str, Decimal]) -> Q:
        return Q(recorded=True)


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


INDICATORS = [
    LiftedPerCapita(),
    MonitoredPerCapita(),
    AllPerCapita(),
    LiftedPerCapitaYearToDate(),
    MonitoredPerCapitaYearToDate(),
    AllPerCapitaYearToDate(),
    LiftedIncomeGrowth(),
    OperatingIncomeGrowth(),
    PropertyIncomeGrowth(),
    OperatingFallShare(),
    LiftedBelowThresholdUnmonitored(),
    BelowKeyLine(),
    ZeroEmployment(),
    LongOpenCases(),
    MonitoredPopulationShare(),
    EntryProgress(),
]
for _indicator in INDICATORS:
    register(_indicator)
