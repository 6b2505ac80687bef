"""The county fund overview: allocated → arranged → paid, by fund level and by project type, with the
shares the policy watches. Sums are GROUP BYs in SQL (a fixed handful of queries); the shares are
arithmetic on them.

What counts for a region and year (the allocation's year):
- allocated: what the region received — a county's (or a wider area's) allocations to counties, a
  township's splits from its county;
- arranged: funding lines drawn on those allocations or on their splits to townships;
- paid: payments on those funding lines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet, Sum
from django.http import Http404

from figures.targets import targets_in_words
from funds.models import Allocation, Funding, FundLevel, Payment, Project, ProjectType
from funds.money import share
from regions.models import Level, Region, regions_visible_to

ZERO = Decimal("0.00")


def allocations_received(region: Region) -> QuerySet[Allocation]:
    """The allocations a region received: to counties within it, or (a township) its splits."""
    if region.level == Level.TOWNSHIP:
        return Allocation.objects.filter(region=region)
    return Allocation.objects.filter(region__code__startswith=region.prefix, parent__isnull=True)


def allocations_within(region: Region) -> QuerySet[Allocation]:
    """The allocations received and their splits: what funding lines draw on."""
    return Allocation.objects.filter(region__code__startswith=region.prefix)


@dataclass
class Totals:
    allocated: Decimal = ZERO
    arranged: Decimal = ZERO
    industry_arranged: Decimal = ZERO
    supported_arranged: Decimal = ZERO
    paid: Decimal = ZERO
    industry_paid: Decimal = ZERO

    def add(self, other: Totals) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def unassigned(self) -> Decimal:
        return self.allocated - self.arranged

    @property
    def unpaid(self) -> Decimal:
        return self.arranged - self.paid

    @property
    def industry_share(self) -> Decimal | None:
        """产业发展资金占比 on arranged amounts: industry funding ÷ allocated."""
        return share(self.industry_arranged, self.allocated)

    @property
    def industry_paid_share(self) -> Decimal | None:
        """产业发展资金占比 on paid amounts: industry payments ÷ allocated."""
        return share(self.industry_paid, self.allocated)

    @property
    def supported_share(self) -> Decimal | None:
        """双绑支持资金占比: funding of projects that support 双绑 entities ÷ allocated."""
        return share(self.supported_arranged, self.allocated)

    @property
    def arranged_progress(self) -> Decimal | None:
        return share(self.arranged, self.allocated)

    @property
    def paid_progress(self) -> Decimal | None:
        """支出进度: paid ÷ allocated."""
        return share(self.paid, self.allocated)


@dataclass
class LevelRow:
    level: str
    label: str
    totals: Totals


@dataclass
class TypeRow:
    project_type: ProjectType
    is_sub_type: bool
    arranged: Decimal = ZERO
    paid: Decimal = ZERO
    projects: int = 0
    share_of_arranged: Decimal | None = None


@dataclass
class ShareRow:
    """One share the policy sets a target for; the target comes from the registered provider."""

    key: str
    label: str
    formula: str
    value: Decimal | None
    target: str | None = None


@dataclass
class Overview:
    region: Region
    year: int
    levels: list[LevelRow]
    total: Totals
    types: list[TypeRow]
    shares: list[ShareRow] = field(default_factory=list)


# The indicator whose target each share of the overview is held to (read through figures.targets).
SHARE_INDICATORS = {
    "industry_share": "fund_industry_share",
    f"industry_share:{FundLevel.CENTRAL}": "fund_industry_share_central",
    f"industry_share:{FundLevel.PROVINCIAL}": "fund_industry_share_provincial",
    "industry_paid_share": "fund_industry_share_paid",
    "supported_share": "fund_binding_support_share",
    "paid_progress": "fund_spending_progress",
}


def overview_targets(region: Region, year: int) -> Mapping[str, str]:
    """The shares' targets in words by share key, for the region's year (none set: none shown)."""
    by_code = targets_in_words(SHARE_INDICATORS.values(), region, year)
    return {key: by_code[code] for key, code in SHARE_INDICATORS.items() if code in by_code}


def fund_overview(*, region: Region, year: int) -> Overview:
    """Allocated, arranged and paid for the region's year by level and by project type (five queries)."""
    by_level: dict[str, Totals] = defaultdict(Totals)
    allocated = allocations_received(region).filter(year=year).order_by().values("level").annotate(total=Sum("amount"))
    for row in allocated:
        by_level[row["level"]].allocated = row["total"]

    supported = Exists(Project.supported_entities.through.objects.filter(project=OuterRef("project")))
    fundings = (
        Funding.objects.filter(allocation__in=allocations_within(region).filter(year=year))
        .order_by()
        .annotate(supported=supported)
        .values("allocation__level", "project__project_type", "project__project_type__is_industry", "supported")
        .annotate(total=Sum("amount"), projects=Count("project", distinct=True))
    )
    by_type: dict[int, list[Decimal | int]] = defaultdict(lambda: [ZERO, ZERO, 0])
    for row in fundings:
        totals = by_level[row["allocation__level"]]
        totals.arranged += row["total"]
        if row["project__project_type__is_industry"]:
            totals.industry_arranged += row["total"]
        if row["supported"]:
            totals.supported_arranged += row["total"]
        by_type[row["project__project_type"]][0] += row["total"]

    payments = (
        Payment.objects.filter(funding__allocation__in=allocations_within(region).filter(year=year))
        .order_by()
        .values(
            "funding__allocation__level",
            "funding__project__project_type",
            "funding__project__project_type__is_industry",
        )
        .annotate(total=Sum("amount"))
    )
    for row in payments:
        totals = by_level[row["funding__allocation__level"]]
        totals.paid += row["total"]
        if row["funding__project__project_type__is_industry"]:
            totals.industry_paid += row["total"]
        by_type[row["funding__project__project_type"]][1] += row["total"]

    projects = (
        Project.objects.filter(fundings__allocation__in=allocations_within(region).filter(year=year))
        .order_by()
        .values("project_type")
        .annotate(n=Count("pk", distinct=True))
    )
    for row in projects:
        by_type[row["project_type"]][2] = row["n"]

    total = Totals()
    levels = []
    for level in FundLevel:
        totals = by_level.get(level.value, Totals())
        total.add(totals)
        levels.append(LevelRow(level.value, str(level.label), totals))
    return Overview(
        region=region,
        year=year,
        levels=levels,
        total=total,
        types=_type_rows(by_type, total.arranged),
        shares=_share_rows(levels, total, overview_targets(region, year)),
    )


def _type_rows(by_type: Mapping[int, list[Any]], arranged: Decimal) -> list[TypeRow]:
    """Every top-level type (with its sub-types' money added) and, under it, its sub-types that have money."""
    types = list(ProjectType.objects.order_by("sort_order", "code"))
    rows = []
    for top in (t for t in types if t.parent_id is None):
        subs = [t for t in types if t.parent_id == top.pk]
        row = TypeRow(top, False)
        sub_rows = []
        for item in [top, *subs]:
            arranged_of, paid_of, projects_of = by_type.get(item.pk, [ZERO, ZERO, 0])
            row.arranged += arranged_of
            row.paid += paid_of
            row.projects += projects_of
            if item is not top and (arranged_of or paid_of):
                sub_rows.append(TypeRow(item, True, arranged_of, paid_of, projects_of, share(arranged_of, arranged)))
        row.share_of_arranged = share(row.arranged, arranged)
        rows += [row, *sub_rows]
    return rows


def _share_rows(levels: list[LevelRow], total: Totals, targets: Mapping[str, str]) -> list[ShareRow]:
    rows = [
        ShareRow(
            "industry_share", "产业发展资金占比（已安排）", "产业发展项目安排资金 ÷ 下达资金", total.industry_share
        ),
        *[
            ShareRow(
                f"industry_share:{row.level}",
                f"　其中{row.label}资金",
                f"{row.label}资金中产业发展项目安排 ÷ {row.label}下达",
                row.totals.industry_share,
            )
            for row in levels
            if row.totals.allocated
        ],
        ShareRow(
            "industry_paid_share",
            "产业发展资金占比（已支付）",
            "产业发展项目已支付 ÷ 下达资金",
            total.industry_paid_share,
        ),
        ShareRow(
            "supported_share", "双绑支持资金占比", "扶持双绑经营主体的项目安排资金 ÷ 下达资金", total.supported_share
        ),
        ShareRow("arranged_progress", "资金安排进度", "已安排 ÷ 下达资金", total.arranged_progress),
        ShareRow("paid_progress", "支出进度", "已支付 ÷ 下达资金", total.paid_progress),
    ]
    for row in rows:
        row.target = targets.get(row.key)
    return rows


# Which region and year the page shows -------------------------------------------------------------


def overview_regions(*, user: Any) -> QuerySet[Region]:
    """Regions of the user's subtree that receive money: counties and townships (and wider areas)."""
    return regions_visible_to(user).filter(level__lte=Level.TOWNSHIP).select_related("parent").order_by("code")


def overview_region_get(*, user: Any, pk: int | None) -> Region | None:
    """The region asked for (404 outside the user's subtree), else the user's own; None for a village clerk."""
    regions = overview_regions(user=user)
    if pk is None:
        return regions.order_by("level", "code").first()
    try:
        return regions.get(pk=pk)
    except Region.DoesNotExist as error:
        raise Http404("区划不存在或不在您的管辖范围内") from error


def overview_breadcrumbs(*, user: Any, region: Region) -> list[Region]:
    """The region's ancestors the user may open, top first, ending with the region."""
    visible = regions_visible_to(user).values("pk")
    return list(Region.objects.ancestors_of(region).filter(pk__in=visible))[::-1]


def overview_children(*, region: Region) -> QuerySet[Region]:
    """The parts of a region that receive money of their own (a county's townships …)."""
    if region.level >= Level.TOWNSHIP:
        return Region.objects.none()
    return Region.objects.filter(parent=region).order_by("code")


def overview_years(*, region: Region) -> list[int]:
    """Years with allocations the region received, newest first."""
    years = allocations_received(region).order_by().values_list("year", flat=True).distinct()
    return sorted(set(years), reverse=True)
