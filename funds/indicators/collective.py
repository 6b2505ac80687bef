"""村级集体经济 figures (issue 11 §4, DOMAIN §6): the villages' 经营性收入 against the 50,000 floor.

Each quarter reads the villages' reports of that quarter, which are cumulative from January (年内
累计); the fourth quarter's report is the year. As for households (DOMAIN §9), a village that has
not reported is left out of the shares and the average, never counted as zero; 填报进度 shows it.
经营性收入 = 经营收入 + 发包及上交收入 + 投资收益 + 资产租赁及项目资产收益, summed in fen.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import reduce
from operator import add
from typing import Any, ClassVar

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.expressions import Combinable

from figures.periods import PeriodKind, Quarter
from figures.registry import Direction, Indicator, Parameter, RegionFigure, Unit, full_code, growth, per_capita, ratio
from funds.indicators.base import COLLECTIVE, by_unit, fen, grouped_together, yuan
from funds.models import OPERATING_FIELDS, CollectiveIncome, ListedCollectiveIncome, VillageProfile
from regions.models import Level, Region

VILLAGE = "village__code"
FLOOR = Parameter("collective_operating_floor", "村集体经营性收入底线（元）", Decimal("50000"), "000（五）、002 5.")
PARTY_LINE = Parameter("party_complex_income_line", "党建综合体村集体经济收入目标（元）", Decimal("80000"), "001（四）")


def operating_fen() -> Combinable:
    """经营性收入 of a report in fen."""
    return reduce(add, [fen(name) for name in OPERATING_FIELDS])


def fen_of(amount: Decimal) -> int:
    return int(amount * 100)


def reports_of(period: Quarter, *, listed: bool = False) -> QuerySet[CollectiveIncome]:
    """The villages' reports of the quarter (cumulative from January), with 经营性收入 in fen."""
    model = ListedCollectiveIncome if listed else CollectiveIncome
    return model.objects.filter(year=period.year, quarter=period.number).alias(operating_fen=operating_fen())


def _listed(rows: QuerySet[Any], region: Region) -> QuerySet[Any]:
    return rows.filter(village__code__startswith=region.prefix).select_related("village__parent").order_by(VILLAGE)


class CollectiveIndicator(Indicator):
    group = COLLECTIVE
    period_kind = PeriodKind.YEAR_TO_DATE
    direction = Direction.HIGHER

    def reports(self, period: Quarter, parameters: Mapping[str, Decimal], *, listed: bool = False) -> QuerySet[Any]:
        """The reports the figure reads (all villages' unless a subclass narrows them)."""
        return reports_of(period, listed=listed)

    def denominator_records(
        self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]
    ) -> QuerySet[Any]:
        return _listed(self.reports(period, parameters, listed=True), region)


class ReportedShare(CollectiveIndicator):
    """村集体经济收入填报进度：已填报本季度（年内累计）收入的行政村数 ÷ 行政村数。
    未填报的村不计入达标率和平均数。"""

    code = "collective_income_reported"
    name = "村集体经济收入填报进度"
    unit = Unit.PERCENT
    numerator_label = "已填报的村数"
    denominator_label = "行政村数"
    formula = "已填报的村数 ÷ 行政村数"
    order = 100

    def _villages(self) -> QuerySet[Region]:
        return Region.objects.filter(level=Level.VILLAGE)

    def compute(
        self, *, period: Quarter, level: int, within: str, parameters: Mapping[str, Decimal]
    ) -> list[RegionFigure]:
        villages = by_unit(self._villages(), "code", level=level, within=within, villages=Count("pk"))
        reported = by_unit(reports_of(period), VILLAGE, level=level, within=within, reported=Count("pk"))
        return [
            RegionFigure(
                code=full_code(unit),
                numerator=Decimal(done),
                denominator=Decimal(total),
                value=ratio(done, total),
                records=int(done),
            )
            for unit, total, done in grouped_together(villages, reported, level=level, within=within)
        ]

    def denominator_records(
        self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]
    ) -> QuerySet[Any]:
        return self._villages().filter(code__startswith=region.prefix).order_by("code")

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        # Villages, like the denominator, so 未填报 is the one list minus the other.
        reported = CollectiveIncome.objects.filter(year=period.year, quarter=period.number, village=OuterRef("pk"))
        return self.denominator_records(period=period, region=region, parameters=parameters).filter(Exists(reported))


class OverLineShare(CollectiveIndicator):
    """Base: reporting villages whose 经营性收入 reaches a line ÷ reporting villages."""

    unit = Unit.PERCENT
    denominator_label = "已填报的行政村数"
    line: ClassVar[Parameter] = FLOOR
    parameters = (FLOOR,)

    def _line_fen(self, parameters: Mapping[str, Decimal]) -> int:
        return fen_of(parameters[self.line.key])

    def compute(
        self, *, period: Quarter, level: int, within: str, parameters: Mapping[str, Decimal]
    ) -> list[RegionFigure]:
        line = self._line_fen(parameters)
        grouped = by_unit(
            self.reports(period, parameters),
            VILLAGE,
            level=level,
            within=within,
            villages=Count("pk"),
            over=Count("pk", filter=Q(operating_fen__gte=line)),
        )
        return [
            RegionFigure(
                code=full_code(unit),
                numerator=Decimal(over),
                denominator=Decimal(total),
                value=ratio(over, total),
                records=int(over),
            )
            for unit, total, over in grouped_together(grouped, level=level, within=within)
        ]

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        line = self._line_fen(parameters)
        return self.denominator_records(period=period, region=region, parameters=parameters).filter(
            operating_fen__gte=line
        )


class VillagesOverFloorShare(OverLineShare):
    """经营性收入达5万元的村占比：已填报的行政村中，年内累计经营性收入不低于所设底线（默认5万元）的
    村数 ÷ 已填报的村数。000（五）、002 5.：到2023年末所有行政村达5万元以上（002：2022年末90%以上）。"""

    code = "collective_villages_over_floor_share"
    name = "经营性收入达5万元的村占比"
    numerator_label = "达到底线的村数"
    formula = "经营性收入 ≥ 底线的村数 ÷ 已填报的村数"
    order = 101


class PovertyVillagesOverFloorShare(OverLineShare):
    """脱贫村经营性收入达5万元占比：本年度为脱贫村的已填报行政村中，年内累计经营性收入不低于所设底线
    （默认5万元）的村数 ÷ 已填报的脱贫村数。004 七：脱贫村集体经济组织年经营性收益不低于5万元。"""

    code = "collective_poverty_villages_over_floor_share"
    name = "脱贫村经营性收入达5万元占比"
    numerator_label = "达到底线的脱贫村数"
    denominator_label = "已填报的脱贫村数"
    formula = "经营性收入 ≥ 底线的脱贫村数 ÷ 已填报的脱贫村数"
    order = 103
    attribute: ClassVar[str] = "was_poverty_village"

    def reports(self, period: Quarter, parameters: Mapping[str, Decimal], *, listed: bool = False) -> QuerySet[Any]:
        profiles = VillageProfile.objects.filter(
            village=OuterRef("village"), year=period.year, **{self.attribute: True}
        )
        return super().reports(period, parameters, listed=listed).filter(Exists(profiles))


class PartyComplexOverLineShare(PovertyVillagesOverFloorShare):
    """党建综合体村集体收入达8万元占比：本年度建有抓党建促乡村振兴综合体的已填报行政村中，年内累计
    经营性收入不低于所设目标（默认8万元）的村数 ÷ 这些村数。001（四）：实现村集体经济收入8万元以上。"""

    code = "collective_party_complex_over_line_share"
    name = "党建综合体村集体收入达8万元占比"
    numerator_label = "达到8万元的村数"
    denominator_label = "已填报的党建综合体村数"
    formula = "经营性收入 ≥ 8万元的党建综合体村数 ÷ 已填报的党建综合体村数"
    order = 104
    attribute = "has_party_complex"
    line = PARTY_LINE
    parameters = (PARTY_LINE,)


class OperatingIncomeAverage(CollectiveIndicator):
    """村均经营性收入：已填报行政村的年内累计经营性收入合计 ÷ 已填报的村数（元，四舍五入到分）。
    000（五）、002 5.：到2023年末平均达到10万元以上。"""

    code = "collective_operating_income_average"
    name = "村均经营性收入"
    unit = Unit.YUAN
    numerator_label = "经营性收入合计（元）"
    denominator_label = "已填报的村数"
    formula = "Σ 经营性收入 ÷ 已填报的村数"
    order = 102

    def compute(
        self, *, period: Quarter, level: int, within: str, parameters: Mapping[str, Decimal]
    ) -> list[RegionFigure]:
        grouped = by_unit(
            reports_of(period), VILLAGE, level=level, within=within, total=Sum("operating_fen"), villages=Count("pk")
        )
        return [
            RegionFigure(
                code=full_code(unit),
                numerator=yuan(total_fen),
                denominator=Decimal(villages),
                value=per_capita(yuan(total_fen), villages),
                records=int(villages),
            )
            for unit, total_fen, villages in grouped_together(grouped, level=level, within=within)
        ]

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        return self.denominator_records(period=period, region=region, parameters=parameters)


class OperatingIncomeGrowth(CollectiveIndicator):
    """经营性收入增长：本年与上年同期都已填报的行政村，年内累计经营性收入合计 ÷ 上年同期合计 − 1。"""

    code = "collective_operating_income_growth"
    name = "村集体经营性收入增长"
    unit = Unit.PERCENT
    numerator_label = "本年累计经营性收入（元）"
    denominator_label = "上年同期经营性收入（元）"
    formula = "Σ 本年累计经营性收入 ÷ Σ 上年同期 − 1（两年都已填报的村）"
    order = 105

    def _both(self, period: Quarter, other: Quarter, *, listed: bool = False) -> QuerySet[Any]:
        counterpart = CollectiveIncome.objects.filter(
            village=OuterRef("village"), year=other.year, quarter=other.number
        )
        return reports_of(period, listed=listed).filter(Exists(counterpart))

    def compute(
        self, *, period: Quarter, level: int, within: str, parameters: Mapping[str, Decimal]
    ) -> list[RegionFigure]:
        earlier = period.year_earlier()
        now = by_unit(
            self._both(period, earlier),
            VILLAGE,
            level=level,
            within=within,
            now=Sum("operating_fen"),
            villages=Count("pk"),
        )
        then = by_unit(self._both(earlier, period), VILLAGE, level=level, within=within, then=Sum("operating_fen"))
        return [
            RegionFigure(
                code=full_code(unit),
                numerator=yuan(now_fen),
                denominator=yuan(then_fen),
                value=growth(yuan(now_fen), yuan(then_fen)),
                records=int(villages),
            )
            for unit, now_fen, villages, then_fen in grouped_together(now, then, level=level, within=within)
        ]

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        return _listed(self._both(period, period.year_earlier(), listed=True), region)

    def denominator_records(
        self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]
    ) -> QuerySet[Any]:
        return _listed(self._both(period.year_earlier(), period, listed=True), region)


class BelowFloor(CollectiveIndicator):
    """Base: the reporting villages below the floor, each listed with its gap in yuan."""

    direction = Direction.LOWER
    parameters = (FLOOR,)
    denominator_label = "已填报的村数"

    def compute(
        self, *, period: Quarter, level: int, within: str, parameters: Mapping[str, Decimal]
    ) -> list[RegionFigure]:
        floor = fen_of(parameters[FLOOR.key])
        below = Q(operating_fen__lt=floor)
        grouped = by_unit(
            reports_of(period),
            VILLAGE,
            level=level,
            within=within,
            villages=Count("pk"),
            below=Count("pk", filter=below),
            gap=Sum(Value(floor) - operating_fen(), filter=below),
        )
        return [
            self.figure(unit, int(villages), int(count), int(gap_fen or 0))
            for unit, villages, count, gap_fen in grouped_together(grouped, level=level, within=within)
        ]

    def figure(self, unit: str, villages: int, below: int, gap_fen: int) -> RegionFigure:
        raise NotImplementedError

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        floor = fen_of(parameters[FLOOR.key])
        return (
            self.denominator_records(period=period, region=region, parameters=parameters)
            .filter(operating_fen__lt=floor)
            .annotate(floor_fen=Value(floor), gap_fen=Value(floor) - operating_fen())
            .order_by("-gap_fen", VILLAGE)
        )


class VillagesBelowFloor(BelowFloor):
    """经营性收入未达5万元的村：已填报的行政村中，年内累计经营性收入低于所设底线（默认5万元）的村数；
    明细列出每个村还差多少元。"""

    code = "collective_villages_below_floor"
    name = "经营性收入未达5万元的村"
    unit = Unit.VILLAGES
    numerator_label = "未达底线的村数"
    formula = "经营性收入 < 底线的村数"
    order = 106

    def figure(self, unit: str, villages: int, below: int, gap_fen: int) -> RegionFigure:
        return RegionFigure(
            code=full_code(unit),
            numerator=Decimal(below),
            denominator=Decimal(villages),
            value=Decimal(below),
            records=below,
        )


class FloorGap(BelowFloor):
    """距5万元缺口合计：经营性收入低于所设底线（默认5万元）的已填报行政村，各自与底线之差的合计（元）。"""

    code = "collective_floor_gap"
    name = "距5万元缺口合计"
    unit = Unit.YUAN
    numerator_label = "缺口合计（元）"
    formula = "Σ（底线 − 经营性收入），只计未达底线的村"
    order = 107

    def figure(self, unit: str, villages: int, below: int, gap_fen: int) -> RegionFigure:
        return RegionFigure(
            code=full_code(unit),
            numerator=yuan(gap_fen),
            denominator=Decimal(villages),
            value=yuan(gap_fen),
            records=below,
        )


INDICATORS: list[Indicator] = [
    ReportedShare(),
    VillagesOverFloorShare(),
    OperatingIncomeAverage(),
    PovertyVillagesOverFloorShare(),
    PartyComplexOverLineShare(),
    OperatingIncomeGrowth(),
    VillagesBelowFloor(),
    FloorGap(),
]
