"""Reads: the exact queries behind each industries screen, always scoped to the user."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Model, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.http import Http404

from households.models import Household
from households.selectors import Change, history_changes
from industries.models import Designation, Industry, Participation, ScalePlan, ScaleReport
from regions.models import PREFIX_LENGTH, Level, Region, regions_visible_to

NOT_FOUND = "记录不存在或不在您的管辖范围内"


def _get(rows: QuerySet[Any], pk: int) -> Any:
    try:
        return rows.get(pk=pk)
    except rows.model.DoesNotExist as error:
        raise Http404(NOT_FOUND) from error


# Lists and single rows ---------------------------------------------------------------------------


def industry_list(*, user: Any) -> QuerySet[Industry]:
    """The catalogue rows the user reads: their county's (or, above a county, their subtree's)."""
    return (
        Industry.objects.visible_to(user)
        .select_related("county", "category", "unit")
        .order_by("county__code", "-is_active", "category__sort_order", "name")
    )


def industry_get(*, user: Any, pk: int) -> Industry:
    return _get(industry_list(user=user), pk)


def industries_for_choice(*, user: Any, active_only: bool = True) -> QuerySet[Industry]:
    """Catalogue industries a form or a filter offers the user."""
    industries = Industry.objects.visible_to(user).select_related("unit", "county").order_by("county__code", "name")
    return industries.filter(is_active=True) if active_only else industries


def designation_list(*, user: Any) -> QuerySet[Designation]:
    return (
        Designation.objects.visible_to(user)
        .select_related("region", "region__parent", "industry", "industry__category")
        .order_by("-year", "region__code", "-is_signature", "industry__name")
    )


def designation_get(*, user: Any, pk: int) -> Designation:
    return _get(designation_list(user=user), pk)


def scale_plan_list(*, user: Any) -> QuerySet[ScalePlan]:
    return (
        ScalePlan.objects.visible_to(user)
        .select_related("region", "region__parent", "industry", "industry__unit")
        .order_by("-year", "region__code", "industry__name")
    )


def scale_plan_get(*, user: Any, pk: int) -> ScalePlan:
    return _get(scale_plan_list(user=user), pk)


def scale_report_list(*, user: Any) -> QuerySet[ScaleReport]:
    return (
        ScaleReport.objects.visible_to(user)
        .select_related("village", "village__parent", "industry", "industry__unit")
        .order_by("-year", "village__code", "industry__name")
    )


def scale_report_get(*, user: Any, pk: int) -> ScaleReport:
    return _get(scale_report_list(user=user), pk)


def participation_list(*, user: Any) -> QuerySet[Participation]:
    return (
        Participation.objects.visible_to(user)
        .select_related("household", "household__village", "household__village__parent", "industry", "industry__unit")
        .order_by("-year", "household__village__code", "household__number", "industry__name")
    )


def participation_get(*, user: Any, pk: int) -> Participation:
    return _get(participation_list(user=user), pk)


def household_for_participation(*, user: Any, pk: int) -> Household:
    """A household the user may see (404 otherwise), with its village for the catalogue check."""
    try:
        return Household.objects.visible_to(user).select_related("village", "village__parent").get(pk=pk)
    except Household.DoesNotExist as error:
        raise Http404("农户不存在或不在您的管辖范围内") from error


def household_participations(*, household: Household, user: Any) -> list[tuple[int, list[Participation]]]:
    """The household's 产业到户 rows by year, newest year first (one query)."""
    rows = (
        Participation.objects.visible_to(user)
        .filter(household=household)
        .select_related("industry", "industry__unit")
        .order_by("-year", "industry__name")
    )
    by_year: dict[int, list[Participation]] = defaultdict(list)
    for row in rows:
        by_year[row.year].append(row)
    return list(by_year.items())


def scale_total(rows: QuerySet[Any]) -> Decimal | None:
    """The sum of the rows' scale, in SQL; None for no rows."""
    return rows.order_by().aggregate(total=Sum("scale"))["total"]


# Choices for forms and filters ------------------------------------------------------------------


def regions_for_rows(*, user: Any, lowest: int = Level.VILLAGE, highest: int = Level.COUNTY) -> QuerySet[Region]:
    """Regions of the user's subtree between two levels, for the region a row belongs to."""
    return (
        regions_visible_to(user).filter(level__gte=highest, level__lte=lowest).select_related("parent").order_by("code")
    )


def regions_for_filter(*, user: Any, depth: int = 2) -> QuerySet[Region]:
    """The user's region and up to `depth` levels below it (a county: its townships and villages)."""
    region = getattr(user, "region", None)
    top = region.level if region is not None and not user.is_superuser else Level.PROVINCE
    return regions_for_rows(user=user, highest=top, lowest=min(top + depth, Level.VILLAGE))


# History -----------------------------------------------------------------------------------------


def row_history(*, instance: Model, user: Any, limit: int = 50) -> list[Change]:
    """The row's recorded changes, newest first, old → new, masked as households.selectors masks them."""
    return history_changes(
        sources=[(type(instance).history, Q(id=instance.pk), lambda row: "")],  # type: ignore[attr-defined]
        reveal_personal_data=user.has_perm("households.view_personal_data"),
        limit=limit,
    )


# 计划与实际规模 (planned against actual, rolled up by region) ---------------------------------------


@dataclass(frozen=True)
class ScaleFigure:
    """One industry in one region: its own plan row, and the sum of its villages' reports."""

    region: Region
    industry: Industry
    planned: Decimal | None
    plan_id: int | None
    actual: Decimal | None
    reports: int

    @property
    def completion(self) -> Decimal | None:
        """actual ÷ planned as a fraction; None without a plan (or a zero plan)."""
        if not self.planned or self.actual is None:
            return None
        return (self.actual / self.planned).quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class ChildRollup:
    region: Region
    figures: list[ScaleFigure]


@dataclass(frozen=True)
class ScaleRollup:
    region: Region
    year: int
    own: list[ScaleFigure]
    children: list[ChildRollup]


def rollup_region_get(*, user: Any, pk: int | None) -> Region:
    """The region the page is about: one in the user's subtree (404 otherwise); theirs by default."""
    regions = regions_visible_to(user).filter(level__lte=Level.VILLAGE).select_related("parent")
    if pk is None:
        region = regions.order_by("level", "code").first()
        if region is None:
            raise Http404(NOT_FOUND)
        return region
    return _get(regions, pk)


def rollup_breadcrumbs(*, user: Any, region: Region) -> list[Region]:
    """The region's ancestors the user may open, top first, ending with the region."""
    return list(Region.objects.ancestors_of(region).filter(pk__in=regions_visible_to(user).values("pk")))[::-1]


def rollup_years(*, region: Region) -> list[int]:
    """Years with a plan or a report in the region's subtree, newest first."""
    plans = ScalePlan.objects.filter(region__code__startswith=region.prefix).values_list("year", flat=True)
    reports = ScaleReport.objects.in_region(region).values_list("year", flat=True)
    return sorted({*plans.order_by().distinct(), *reports.order_by().distinct()}, reverse=True)


def scale_rollup(*, region: Region, year: int) -> ScaleRollup:
    """Planned against actual for the region and each of its children, in five queries.

    Actual (of a county, township or village) = the sum of its villages' reports, summed in SQL by
    code prefix; planned = the region's own plan row (plans are never summed upwards: a township's
    plan is a target of its own, not the total of its villages').
    """
    children = list(Region.objects.filter(parent=region).order_by("code")) if region.level < Level.VILLAGE else []
    reports = ScaleReport.objects.in_region(region).filter(year=year).order_by()
    own_actual = {
        row["industry"]: (row["total"], row["reports"])
        for row in reports.values("industry").annotate(total=Sum("scale"), reports=Count("pk"))
    }
    child_actual: dict[str, dict[int, tuple[Decimal, int]]] = defaultdict(dict)
    if children:
        length = PREFIX_LENGTH[Level(region.level + 1)]
        grouped = reports.annotate(part=Substr("village__code", 1, length)).values("part", "industry")
        for row in grouped.annotate(total=Sum("scale"), reports=Count("pk")):
            child_actual[row["part"]][row["industry"]] = (row["total"], row["reports"])
    plans: dict[tuple[int, int], tuple[Decimal, int]] = {
        (region_id, industry_id): (scale, pk)
        for region_id, industry_id, scale, pk in ScalePlan.objects.filter(
            year=year, region__in=[region, *children]
        ).values_list("region_id", "industry_id", "scale", "pk")
    }
    industry_ids = {industry for _, industry in plans} | set(own_actual)
    industries = {
        industry.pk: industry
        for industry in Industry.objects.filter(pk__in=industry_ids).select_related("unit", "county")
    }
    ordered = sorted(industries.values(), key=lambda i: (i.county.code, i.name))

    def figures(of: Region, actual: dict[int, tuple[Decimal, int]]) -> list[ScaleFigure]:
        rows = []
        for industry in ordered:
            planned, plan_id = plans.get((of.pk, industry.pk), (None, None))
            total, count = actual.get(industry.pk, (None, 0))
            if planned is not None or count:
                rows.append(ScaleFigure(of, industry, planned, plan_id, total, count))
        return rows

    return ScaleRollup(
        region=region,
        year=year,
        own=figures(region, own_actual),
        children=[ChildRollup(child, figures(child, child_actual[child.prefix])) for child in children],
    )
