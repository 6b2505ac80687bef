"""联农带农 figures of the project library (001 §(三)): households reached per 1,000,000 yuan of
industry money, and library industry projects that have no linkage. Both count projects where they
are carried out (a township's figure holds its own and its villages' projects), so a project funded
from a county allocation and a township split is one project with all its money."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Substr

from figures.periods import PeriodKind, Quarter
from figures.registry import Direction, FactSource, Indicator, RegionFigure, full_code
from funds.indicators.base import (
    CENTS,
    FUNDS,
    HOUSEHOLDS_PER_MILLION,
    INDUSTRY,
    PROJECTS,
    by_unit,
    fen,
    grouped_together,
    industry_projects_funded,
    yuan,
)
from funds.models import IN_LIBRARY, Beneficiary, Funding, ListedFunding, Project
from households.facts import HOUSEHOLD_FACTS, HouseholdQuarterFact
from regions.models import PREFIX_LENGTH, Level, Region

PROJECT_REGION = "project__region__code"
# 脱贫户 or 监测对象 at the quarter's end, as the household figures count them.
LINKED = Q(lifted=True) | Q(monitored=True)
# Fen per million yuan: households × 100,000,000 ÷ fen = households per 1,000,000 yuan.
FEN_PER_MILLION = Decimal(100_000_000)


def per_million(households: int, money_fen: int) -> Decimal | None:
    """Households per 1,000,000 yuan, rounded once to two places; None without money."""
    if not money_fen:
        return None
    return (Decimal(households) * FEN_PER_MILLION / Decimal(money_fen)).quantize(CENTS, rounding=ROUND_HALF_UP)


class HouseholdsLinkedPerMillion(Indicator):
    """每百万元产业资金联农带农户数：本区划实施、由本年度衔接资金安排的产业发展项目所登记的受益农户中，
    住在本区划、季末为脱贫户或监测对象的户数（一户受益于几个项目只计一次）÷ 这些项目安排的本年度资金
    （百万元）。乡镇含其村的项目。001（三）：每百万元用于产业发展的衔接资金联农带农10户及以上。"""

    code = "fund_households_linked_per_million"
    name = "每百万元产业资金带动脱贫户和监测户"
    group = FUNDS
    unit = HOUSEHOLDS_PER_MILLION
    direction = Direction.HIGHER
    period_kind = PeriodKind.YEAR_TO_DATE
    numerator_label = "带动的脱贫户和监测户（户）"
    denominator_label = "产业发展项目安排资金（元）"
    formula = "脱贫户和监测户数 ÷ 产业发展项目安排资金（百万元）"
    order = 96

    def sources(self) -> tuple[FactSource, ...]:
        return (HOUSEHOLD_FACTS,)

    def _money(self, period: Quarter, *, listed: bool = False) -> QuerySet[Funding]:
        model = ListedFunding if listed else Funding
        return model.objects.filter(
            project__project_type__is_industry=True,
            allocation__year=period.year,
            allocation__issued_on__lte=period.last_day,
        )

    def _linked(self, period: Quarter, level: int) -> QuerySet[HouseholdQuarterFact]:
        """The quarter's facts of the 脱贫户 and 监测对象 who benefit from an industry project of the
        year's money carried out in their own unit of `level` (so a list never names a household of
        another village or township than the region's). One fact per household: no double count."""
        benefits = Beneficiary.objects.filter(
            household_id=OuterRef("household_id"),
            project__in=industry_projects_funded(period),
            # A project carried out above the level (a county's, for townships) lies in none of its units.
            project__region__level__gte=level,
            project__region__code__startswith=Substr(OuterRef("village_code"), 1, PREFIX_LENGTH[Level(level)]),
        )
        return HouseholdQuarterFact.objects.filter(LINKED, year=period.year, quarter=period.number).filter(
            Exists(benefits)
        )

    def compute(
        self, *, period: Quarter, level: int, within: str, parameters: Mapping[str, Decimal]
    ) -> list[RegionFigure]:
        money = by_unit(
            self._money(period).filter(project__region__level__gte=level),
            PROJECT_REGION,
            level=level,
            within=within,
            money=Sum(fen("amount")),
        )
        households = by_unit(
            self._linked(period, level), "village_code", level=level, within=within, households=Count("pk")
        )
        return [
            RegionFigure(
                code=full_code(unit),
                numerator=Decimal(linked),
                denominator=yuan(money_fen),
                value=per_million(int(linked), int(money_fen)),
                records=int(linked),
            )
            for unit, money_fen, linked in grouped_together(money, households, level=level, within=within)
        ]

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        return (
            self._linked(period, region.level)
            .filter(village_code__startswith=region.prefix)
            .select_related("household")
            .order_by("village_code", "household__number")
        )

    def denominator_records(
        self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]
    ) -> QuerySet[Any]:
        return (
            self._money(period, listed=True)
            .filter(project__region__code__startswith=region.prefix)
            .select_related("project__region", "allocation__region")
            .order_by("project__code", "pk")
        )


class IndustryProjectsWithoutLinkage(Indicator):
    """入库产业项目未建立联农带农：本年度及以前年度、已入库（入库、批准实施、完工、验收、资产移交）的
    产业发展项目中，联农带农机制为空或没有登记受益农户的项目数；分母为这些入库产业项目数。
    001（三）：没有建立联农带农机制的，不得纳入项目库，已实施的要整改。"""

    code = "fund_industry_projects_without_linkage"
    name = "入库产业项目未建立联农带农"
    group = FUNDS
    unit = PROJECTS
    direction = Direction.LOWER
    period_kind = PeriodKind.QUARTER
    numerator_label = "未建立联农带农的项目数"
    denominator_label = "入库产业发展项目数"
    formula = "联农带农机制为空或无受益农户的入库产业项目数"
    order = 97

    def _library(self, period: Quarter) -> QuerySet[Project]:
        return Project.objects.filter(INDUSTRY, status__in=IN_LIBRARY, year__lte=period.year)

    @staticmethod
    def _unlinked() -> Q:
        return Q(linkage_mechanism="") | Q(~Exists(Beneficiary.objects.filter(project_id=OuterRef("pk"))))

    def compute(
        self, *, period: Quarter, level: int, within: str, parameters: Mapping[str, Decimal]
    ) -> list[RegionFigure]:
        projects = by_unit(
            self._library(period).filter(region__level__gte=level),
            "region__code",
            level=level,
            within=within,
            projects=Count("pk"),
            unlinked=Count("pk", filter=self._unlinked()),
        )
        return [
            RegionFigure(
                code=full_code(unit),
                numerator=Decimal(unlinked),
                denominator=Decimal(total),
                value=Decimal(unlinked),
                records=int(unlinked),
            )
            for unit, total, unlinked in grouped_together(projects, level=level, within=within)
        ]

    def denominator_records(
        self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]
    ) -> QuerySet[Any]:
        return self._library(period).filter(region__code__startswith=region.prefix).order_by("year", "code")

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        return self.denominator_records(period=period, region=region, parameters=parameters).filter(self._unlinked())


INDICATORS: list[Indicator] = [HouseholdsLinkedPerMillion(), IndustryProjectsWithoutLinkage()]
