"""衔接资金 shares: how much of the year's money went to industry and to 双绑 entities, how much is
arranged and paid (issue 11 §4). Whose money and which year's: funds/indicators/base.py."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from django.db.models import Count, Exists, OuterRef, QuerySet, Sum

from figures.periods import PeriodKind, Quarter
from figures.registry import Direction, Indicator, RegionFigure, Unit, full_code, ratio
from funds.indicators.base import (
    FUNDS,
    allocations_of,
    by_unit,
    fen,
    fundings_of,
    grouped_together,
    payments_of,
    yuan,
)
from funds.models import (
    Allocation,
    Funding,
    FundLevel,
    ListedAllocation,
    ListedFunding,
    ListedPayment,
    Payment,
    Project,
)
from regions.models import Level, Region

# Regions that receive money: a county's allocations, a township's splits, and the sums above them.
MONEY_LEVELS = (Level.PROVINCE, Level.PREFECTURE, Level.COUNTY, Level.TOWNSHIP)
ALLOCATION_REGION = "region__code"
FUNDING_REGION = "allocation__region__code"
PAYMENT_REGION = "funding__allocation__region__code"


class MoneyShare(Indicator):
    """Base: Σ of one kind of money rows (`part`) ÷ Σ of another (`whole`), both in the region's money."""

    group = FUNDS
    unit = Unit.PERCENT
    direction = Direction.HIGHER
    period_kind = PeriodKind.YEAR_TO_DATE
    levels = MONEY_LEVELS
    fund_level: ClassVar[str | None] = None
    part_region: ClassVar[str] = FUNDING_REGION
    whole_region: ClassVar[str] = ALLOCATION_REGION

    def part(self, period: Quarter, level: int, *, listed: bool = False) -> QuerySet[Any]:
        """The rows the numerator sums (funding lines unless a subclass says otherwise)."""
        return fundings_of(period, level=level, fund_level=self.fund_level, model=ListedFunding if listed else Funding)

    def whole(self, period: Quarter, level: int, *, listed: bool = False) -> QuerySet[Any]:
        """The rows the denominator sums (the region's allocations unless a subclass says otherwise)."""
        model = ListedAllocation if listed else Allocation
        return allocations_of(period, level=level, fund_level=self.fund_level, model=model)

    def compute(
        self, *, period: Quarter, level: int, within: str, parameters: Mapping[str, Decimal]
    ) -> list[RegionFigure]:
        whole = by_unit(
            self.whole(period, level), self.whole_region, level=level, within=within, whole=Sum(fen("amount"))
        )
        part = by_unit(
            self.part(period, level),
            self.part_region,
            level=level,
            within=within,
            part=Sum(fen("amount")),
            rows=Count("pk"),
        )
        return [
            RegionFigure(
                code=full_code(unit),
                numerator=yuan(part_fen),
                denominator=yuan(whole_fen),
                value=ratio(part_fen, whole_fen),
                records=int(rows),
            )
            for unit, whole_fen, part_fen, rows in grouped_together(whole, part, level=level, within=within)
        ]

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        return _listed(self.part(period, region.level, listed=True), self.part_region, region)

    def denominator_records(
        self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]
    ) -> QuerySet[Any]:
        return _listed(self.whole(period, region.level, listed=True), self.whole_region, region)


def _listed(rows: QuerySet[Any], region_field: str, region: Region) -> QuerySet[Any]:
    """One region's rows of a money list, with what their text reads, in a stable order."""
    rows = rows.filter(**{f"{region_field}__startswith": region.prefix})
    if region_field == ALLOCATION_REGION:
        return rows.select_related("region").order_by("level", "issued_on", "pk")
    if region_field == FUNDING_REGION:
        return rows.select_related("project__region", "allocation__region").order_by("project__code", "pk")
    return rows.select_related("funding__project", "funding__allocation").order_by("paid_on", "pk")


class Allocated(MoneyShare):
    """下达衔接资金：本年度下达、截至季末已下达（含上年提前下达）的财政衔接推进乡村振兴补助资金合计。
    县计本县收到的各级资金（分配到乡镇的部分不重复计），乡镇计分配到本乡镇的资金。"""

    code = "fund_allocated"
    name = "下达衔接资金"
    unit = Unit.YUAN
    numerator_label = "下达资金（元）"
    denominator_label = "资金下达笔数"
    formula = "Σ 截至季末下达的本年度衔接资金"
    order = 80

    def compute(
        self, *, period: Quarter, level: int, within: str, parameters: Mapping[str, Decimal]
    ) -> list[RegionFigure]:
        whole = by_unit(
            self.whole(period, level),
            ALLOCATION_REGION,
            level=level,
            within=within,
            whole=Sum(fen("amount")),
            rows=Count("pk"),
        )
        return [
            RegionFigure(
                code=full_code(unit),
                numerator=yuan(whole_fen),
                denominator=Decimal(rows),
                value=yuan(whole_fen),
                records=int(rows),
            )
            for unit, whole_fen, rows in grouped_together(whole, level=level, within=within)
        ]

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        return self.denominator_records(period=period, region=region, parameters=parameters)


class ArrangedShare(MoneyShare):
    """资金安排率：本年度衔接资金已安排到项目的金额 ÷ 下达金额（截至季末下达的资金）。"""

    code = "fund_arranged_share"
    name = "衔接资金安排率"
    numerator_label = "已安排到项目（元）"
    denominator_label = "下达资金（元）"
    formula = "Σ 项目安排资金 ÷ Σ 下达衔接资金"
    order = 81


class SpendingProgress(MoneyShare):
    """支出进度：本年度衔接资金截至季末已支付的金额 ÷ 已安排到项目的金额。
    上年资金在本年支付的，计入上年资金的支出，不计入本年。"""

    code = "fund_spending_progress"
    name = "衔接资金支出进度"
    numerator_label = "已支付（元）"
    denominator_label = "已安排到项目（元）"
    formula = "Σ 截至季末支付 ÷ Σ 项目安排资金"
    part_region = PAYMENT_REGION
    whole_region = FUNDING_REGION
    order = 82

    def part(self, period: Quarter, level: int, *, listed: bool = False) -> QuerySet[Any]:
        return payments_of(period, level=level, model=ListedPayment if listed else Payment)

    def whole(self, period: Quarter, level: int, *, listed: bool = False) -> QuerySet[Any]:
        return fundings_of(period, level=level, model=ListedFunding if listed else Funding)


class IndustryShare(MoneyShare):
    """产业发展资金占比：本年度衔接资金安排到产业发展项目（项目类型为产业发展及其子类）的金额
    ÷ 下达的衔接资金。000：2023年不低于60%；002：逐年提高到2024年65%以上；004：不低于上年。"""

    code = "fund_industry_share"
    name = "产业发展资金占比"
    numerator_label = "产业发展项目安排资金（元）"
    denominator_label = "下达资金（元）"
    formula = "Σ 产业发展项目安排资金 ÷ Σ 下达衔接资金"
    order = 83

    def part(self, period: Quarter, level: int, *, listed: bool = False) -> QuerySet[Any]:
        return super().part(period, level, listed=listed).filter(project__project_type__is_industry=True)


class IndustrySharePaid(IndustryShare):
    """产业发展资金占比（按支付）：本年度衔接资金截至季末支付给产业发展项目的金额 ÷ 下达的衔接资金。"""

    code = "fund_industry_share_paid"
    name = "产业发展资金占比（按支付）"
    numerator_label = "产业发展项目已支付（元）"
    formula = "Σ 产业发展项目截至季末支付 ÷ Σ 下达衔接资金"
    part_region = PAYMENT_REGION
    order = 90

    def part(self, period: Quarter, level: int, *, listed: bool = False) -> QuerySet[Any]:
        model = ListedPayment if listed else Payment
        payments = payments_of(period, level=level, fund_level=self.fund_level, model=model)
        return payments.filter(funding__project__project_type__is_industry=True)


class IndustryShareNotBelowLastYear(IndustryShare):
    """产业发展资金占比（与上年同期比）：与产业发展资金占比同一算法，目标为不低于上年同期。
    004 九：财政资金用于产业发展占比不得低于上一年比重。"""

    code = "fund_industry_share_vs_last_year"
    name = "产业发展资金占比不低于上年"
    order = 89


# What the seeds ask of each level's money (the overall share's targets are on IndustryShare).
LEVEL_NOTES = {
    FundLevel.CENTRAL: "001：中央衔接资金用于产业发展的比重达到60%以上；"
    "004 九：2022—2025年分别不低于55%、60%、65%、70%。",
    FundLevel.PROVINCIAL: "001：省级衔接资金用于产业发展的比重达到52%以上。",
}


def _by_fund_level(base: type[IndustryShare], fund_level: str, order: int) -> type[IndustryShare]:
    """The same share counted on one fund level's allocations only."""
    label = FundLevel(fund_level).label
    paid = issubclass(base, IndustrySharePaid)
    basis = "（按支付）" if paid else ""
    moved = "截至季末支付给" if paid else "安排到"
    attributes: dict[str, Any] = {
        "__doc__": f"{label}资金产业发展占比{basis}：本年度{label}衔接资金{moved}产业发展项目的金额"
        f" ÷ 下达的{label}衔接资金。{LEVEL_NOTES.get(FundLevel(fund_level), '')}",
        "code": f"{base.code}_{fund_level}",
        "name": f"{label}资金产业发展占比{basis}",
        "fund_level": fund_level,
        "denominator_label": f"{label}下达资金（元）",
        "order": order,
        "__module__": __name__,
    }
    return type(f"{base.__name__}{fund_level.title()}", (base,), attributes)


BY_FUND_LEVEL: list[type[IndustryShare]] = [
    _by_fund_level(base, fund_level, start + position)
    for base, start in ((IndustryShare, 84), (IndustrySharePaid, 91))
    for position, fund_level in enumerate(FundLevel.values)
]


class BindingSupportShare(MoneyShare):
    """双绑支持资金占比：本年度衔接资金安排到扶持“双绑”龙头企业、合作社的项目（项目登记了所扶持的
    经营主体）的金额 ÷ 下达的衔接资金。000、002：每年用于扶持“双绑”企业、合作社的资金占比达10%以上。"""

    code = "fund_binding_support_share"
    name = "双绑支持资金占比"
    numerator_label = "扶持双绑主体的项目安排资金（元）"
    denominator_label = "下达资金（元）"
    formula = "Σ 扶持双绑主体的项目安排资金 ÷ Σ 下达衔接资金"
    order = 95

    def part(self, period: Quarter, level: int, *, listed: bool = False) -> QuerySet[Any]:
        supported = Project.supported_entities.through.objects.filter(project_id=OuterRef("project_id"))
        return super().part(period, level, listed=listed).filter(Exists(supported))


INDICATORS: list[Indicator] = [
    Allocated(),
    ArrangedShare(),
    SpendingProgress(),
    IndustryShare(),
    *[share() for share in BY_FUND_LEVEL[:4]],
    IndustryShareNotBelowLastYear(),
    IndustrySharePaid(),
    *[share() for share in BY_FUND_LEVEL[4:]],
    BindingSupportShare(),
]
