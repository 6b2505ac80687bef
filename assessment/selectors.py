"""Reads of the assessment pages: values, scores, targets and drill-down lists, always within the user's scope."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.http import Http404

from assessment.models import (
    ComputeRun,
    IndicatorValue,
    ParameterValue,
    RegionScore,
    ScoringRule,
    Status,
    Target,
)
from assessment.policy import Policy
from figures import registry
from figures.periods import Quarter
from figures.registry import Indicator
from households.closing import locked_county_codes
from regions.models import DataVersion, Level, Region, county_code_of, regions_visible_to

# Share of the siblings at the bottom of a ranking that the scoring table marks 通报 (at least the last one).
LAGGING_SHARE = Decimal("0.25")


# --- region and period ---------------------------------------------------------------------------


def home_region(*, user: Any) -> Region:
    """The region a user's assessment pages open on: their own, or the top of the tree for system admins."""
    if user.region is not None:
        return user.region
    top = regions_visible_to(user).order_by("level", "code").first()
    if top is None:
        raise Http404("没有可查看的区划")
    return top


def region_for(*, user: Any, code: str | None) -> Region:
    """The region named by `code` if it lies in the user's subtree (404 otherwise), else the home region."""
    if not code:
        return home_region(user=user)
    region = regions_visible_to(user).filter(code=code).select_related("parent").first()
    if region is None:
        raise Http404("区划不存在")
    return region


def region_trail(*, user: Any, region: Region) -> list[Region]:
    """The region's ancestors the user may see, top first, ending with the region itself (breadcrumbs)."""
    own = getattr(user, "region", None)
    if own is not None and region.pk == own.pk:
        return [region]  # the user's own region: nothing above it is theirs to see (no query)
    if own is not None and region.parent_id == own.pk:
        return [own, region]
    visible = regions_visible_to(user)
    return list(visible.filter(pk__in=Region.objects.ancestors_of(region).values("pk")).order_by("level"))


def sub_regions(*, region: Region) -> QuerySet[Region]:
    return Region.objects.filter(parent=region, level__lte=Level.VILLAGE).order_by("code")


def computed_periods(*, region: Region) -> list[Quarter]:
    """Quarters with stored values for the region, newest first."""
    pairs = (
        IndicatorValue.objects.filter(region=region)
        .values_list("year", "quarter")
        .distinct()
        .order_by("-year", "-quarter")
    )
    return [Quarter(year, number) for year, number in pairs]


def period_for(*, region: Region, text: str | None) -> Quarter | None:
    """The quarter asked for ("2026Q3"; 404 when malformed), else the latest with values, else None."""
    if text:
        try:
            return Quarter.parse(text)
        except ValueError as error:
            raise Http404("季度格式错误") from error
    periods = computed_periods(region=region)
    return periods[0] if periods else None


def indicator_or_404(code: str) -> Indicator:
    indicator = registry.get(code)
    if indicator is None:
        raise Http404("没有该指标")
    return indicator


# --- values ----------------------------------------------------------------------------------------


def current_data_version(*, region: Region) -> int:
    """The data version a fresh value of this region carries (above county level: the sum over its counties)."""
    if region.level >= Level.COUNTY:
        county_code = county_code_of(region.code)
        return DataVersion.objects.filter(county__code=county_code).values_list("version", flat=True).first() or 0
    total = DataVersion.objects.filter(county__code__startswith=region.prefix).aggregate(total=Sum("version"))
    return int(total["total"] or 0)


@dataclass
class IndicatorRow:
    """One indicator of one region for the list page; `value` is None when nothing was computed."""

    indicator: Indicator
    value: IndicatorValue | None
    stale: bool


@dataclass
class IndicatorGroup:
    name: str
    rows: list[IndicatorRow] = field(default_factory=list)


def indicator_groups(*, region: Region, period: Quarter) -> list[IndicatorGroup]:
    """Every registered indicator with the region's stored value, grouped as the registry orders them."""
    values = {value.indicator: value for value in IndicatorValue.objects.for_period(period).filter(region=region)}
    # A locked quarter's values are frozen on purpose: newer data does not make them stale.
    version = None if is_frozen(region=region, period=period) else current_data_version(region=region)
    groups: dict[str, IndicatorGroup] = {}
    for indicator in registry.indicators():
        if region.level not in indicator.levels:
            continue
        value = values.get(indicator.code)
        group = groups.setdefault(indicator.group, IndicatorGroup(indicator.group))
        stale = value is not None and version is not None and value.data_version < version
        group.rows.append(IndicatorRow(indicator, value, stale))
    return list(groups.values())


def indicator_value(*, region: Region, period: Quarter, indicator: Indicator) -> IndicatorValue | None:
    return (
        IndicatorValue.objects.for_period(period)
        .filter(region=region, indicator=indicator.code)
        .select_related("target_region")
        .first()
    )


def sub_region_values(*, region: Region, period: Quarter, indicator: Indicator) -> list[IndicatorValue]:
    """The indicator's stored values of the region's direct sub-regions, by code."""
    return list(
        IndicatorValue.objects.for_period(period)
        .filter(region__parent=region, indicator=indicator.code)
        .select_related("region")
        .order_by("region__code")
    )


def is_frozen(*, region: Region, period: Quarter) -> bool:
    """Whether the region's county has locked the quarter (季度关账): its values stay as they were at locking."""
    return region.level >= Level.COUNTY and county_code_of(region.code) in locked_county_codes(period)


def is_stale(*, value: IndicatorValue, region: Region) -> bool:
    """Computed before the data last changed, and not frozen by a quarter close."""
    if is_frozen(region=region, period=value.period):
        return False
    return value.data_version < current_data_version(region=region)


def parameters_in_force(*, region: Region, period: Quarter, indicator: Indicator) -> dict[str, Decimal]:
    """The values of the indicator's parameters for the region (the nearest row, else the default)."""
    if not indicator.parameters:
        return {}
    return Policy(period=period).parameters(indicator.parameters, *parameter_place(region))


def parameter_place(region: Region) -> tuple[str, int]:
    """Where parameters are read for a region's figures: the engine reads them once per county for the
    county, its townships and villages, and on the region itself above; the pages must read the same."""
    if region.level >= Level.COUNTY:
        return county_code_of(region.code), Level.COUNTY
    return region.code, region.level


# --- drill-down ------------------------------------------------------------------------------------


def drill_down(*, region: Region, period: Quarter, indicator: Indicator, side: str) -> QuerySet[Any]:
    """The records behind the numerator or the denominator of one region's figure, or the denominator's
    records that the numerator does not count ("complement": e.g. the households not yet entered)."""
    parameters = Policy(period=period).parameters(indicator.parameters, *parameter_place(region))
    numerator = indicator.numerator_records(period=period, region=region, parameters=parameters)
    if side == "numerator":
        return numerator
    denominator = indicator.denominator_records(period=period, region=region, parameters=parameters)
    if side == "complement":
        return denominator.exclude(pk__in=numerator.order_by().values("pk"))
    return denominator


def household_heads(*, household_ids: list[int]) -> dict[int, tuple[str, str]]:
    """household id → (户主 name, 户主 身份证号) for one page of a drill-down list."""
    from households.models import Member, Relation

    heads = Member.objects.filter(household_id__in=household_ids, relation=Relation.HEAD, is_active=True)
    return {row[0]: (row[1], row[2]) for row in heads.values_list("household_id", "name", "id_number")}


# --- scores ----------------------------------------------------------------------------------------


@dataclass
class ScoreRow:
    region: Region
    score: RegionScore | None
    statuses: dict[str, str]
    lagging: bool = False


def score_table(*, region: Region, period: Quarter, sort: str) -> list[ScoreRow]:
    """The region's direct sub-regions with their score, rank, missed count and each indicator's status."""
    children = list(sub_regions(region=region))
    scores = {
        score.region_id: score
        for score in RegionScore.objects.for_period(period).filter(region__in=[child.pk for child in children])
    }
    statuses: dict[int, dict[str, str]] = defaultdict(dict)
    for region_id, code, status in (
        IndicatorValue.objects.for_period(period)
        .filter(region__in=[child.pk for child in children])
        .values_list("region_id", "indicator", "status")
    ):
        statuses[region_id][code] = status
    rows = mark_lagging([ScoreRow(child, scores.get(child.pk), statuses[child.pk]) for child in children])
    return sorted(rows, key=_sort_key(sort), reverse=sort.startswith("-"))


def mark_lagging(rows: list[ScoreRow]) -> list[ScoreRow]:
    """Mark the bottom LAGGING_SHARE of the ranked rows (at least the last one) for the 通报 list."""
    ranked = [row for row in rows if row.score is not None]
    if ranked:
        marked = max(1, int(len(ranked) * LAGGING_SHARE))
        worst_ranks = sorted((row.score.rank for row in ranked if row.score), reverse=True)[:marked]
        cutoff = min(worst_ranks)
        for row in ranked:
            row.lagging = len(ranked) > 1 and row.score is not None and row.score.rank >= cutoff
    return rows


def _sort_key(sort: str) -> Any:
    name = sort.lstrip("-")
    missing = Decimal("-1e9")

    def key(row: ScoreRow) -> Any:
        if name == "name":
            return row.region.code
        if name == "missed":
            return row.score.missed if row.score else 10**6
        if name == "score":
            return row.score.score if row.score else missing
        return row.score.rank if row.score else 10**6

    return key


def scored_indicators(*, region: Region, period: Quarter) -> list[Indicator]:
    """Indicators that have a stored value for some sub-region (the scoring table's columns)."""
    codes = set(
        IndicatorValue.objects.for_period(period)
        .filter(region__parent=region)
        .exclude(status=Status.NO_TARGET)
        .values_list("indicator", flat=True)
        .distinct()
    )
    return [indicator for indicator in registry.indicators() if indicator.code in codes]


# --- targets ---------------------------------------------------------------------------------------


def policy_scope(*, user: Any) -> Q:
    """Rows set on the user's region, its ancestors (inherited) or anywhere below it."""
    region = home_region(user=user)
    ancestors = Region.objects.ancestors_of(region).values("pk")
    return Q(region__code__startswith=region.prefix) | Q(region__in=ancestors)


def targets_for(*, user: Any, year: int | None) -> QuerySet[Target]:
    targets = Target.objects.filter(policy_scope(user=user)).select_related("region")
    if year is not None:
        targets = targets.filter(year=year)
    return targets.order_by("-year", "indicator", "region__code", "quarter")


def targets_in_page_order(*, user: Any, year: int | None) -> list[Target]:
    """Targets as the indicator pages order them, then by region (inherited above own)."""
    targets = list(targets_for(user=user, year=year))
    return sorted(targets, key=lambda t: (-t.year, _registry_order(t.indicator), t.region.code, t.quarter or 0))


def scoring_rules_for(*, user: Any, year: int | None) -> QuerySet[ScoringRule]:
    rules = ScoringRule.objects.filter(policy_scope(user=user)).select_related("region")
    if year is not None:
        rules = rules.filter(year=year)
    return rules.order_by("-year", "indicator", "region__code")


def parameters_for(*, user: Any, year: int | None) -> QuerySet[ParameterValue]:
    values = ParameterValue.objects.filter(policy_scope(user=user)).select_related("region")
    if year is not None:
        values = values.filter(year=year)
    return values.order_by("-year", "key", "region__code")


def policy_years(*, user: Any) -> list[int]:
    years = set(Target.objects.filter(policy_scope(user=user)).values_list("year", flat=True))
    years |= set(ScoringRule.objects.filter(policy_scope(user=user)).values_list("year", flat=True))
    return sorted(years, reverse=True)


def editable_regions(*, user: Any) -> QuerySet[Region]:
    """Regions whose targets the user may set: their own subtree down to townships."""
    return regions_visible_to(user).filter(level__gte=Level.PROVINCE, level__lte=Level.TOWNSHIP).order_by("code")


def editable_row_or_404(*, user: Any, model: type[Target | ScoringRule | ParameterValue], pk: int) -> Any:
    """A policy row the user may change: set on a region of their own subtree (never an inherited one)."""
    row = model.objects.filter(pk=pk, region__in=editable_regions(user=user)).select_related("region").first()
    if row is None:
        raise Http404("没有该记录或无权修改")
    return row


def policy_history(*, user: Any, limit: int = 20) -> list[dict[str, Any]]:
    """The latest changes to targets, scoring rules and parameters in the user's scope, newest first."""
    region = home_region(user=user)
    changes: list[dict[str, Any]] = []
    labels = {"+": "新增", "~": "修改", "-": "删除"}
    for model, kind in ((Target, "目标"), (ScoringRule, "计分规则"), (ParameterValue, "参数")):
        history = (
            model.history.filter(region__code__startswith=region.prefix)
            .select_related("history_user", "region")
            .order_by("-history_date")[:limit]
        )
        for entry in history:
            subject = str(getattr(entry, "indicator", None) or getattr(entry, "key", ""))
            indicator = registry.get(subject)
            changes.append(
                {
                    "at": entry.history_date,
                    "user": entry.history_user,
                    "action": labels.get(entry.history_type, entry.history_type),
                    "kind": kind,
                    "subject": indicator.name if indicator else subject,
                    "region": entry.region,
                    "year": entry.year,
                    "summary": _history_summary(entry),
                }
            )
    changes.sort(key=lambda change: change["at"], reverse=True)
    return changes[:limit]


def _history_summary(entry: Any) -> str:
    if hasattr(entry, "comparator"):
        comparator = dict(Target._meta.get_field("comparator").choices or []).get(entry.comparator, entry.comparator)
        value = "" if entry.value is None else f" {entry.value.normalize():f}"
        return f"{comparator}{value}"
    if hasattr(entry, "full_score"):
        deduction = "—" if entry.deduction_per_point is None else f"{entry.deduction_per_point.normalize():f}"
        return f"满分 {entry.full_score.normalize():f}，每点扣 {deduction}"
    return f"= {entry.value.normalize():f}"


def latest_runs(*, user: Any, region: Region, limit: int = 5) -> QuerySet[ComputeRun]:
    county = county_code_of(region.code)
    return ComputeRun.objects.visible_to(user).filter(scope__code=county).order_by("-created_at")[:limit]


def run_or_404(*, user: Any, pk: int) -> ComputeRun:
    run = ComputeRun.objects.visible_to(user).filter(pk=pk).select_related("scope").first()
    if run is None:
        raise Http404("没有该计算记录")
    return run


def indicator_names() -> Mapping[str, str]:
    return {indicator.code: indicator.name for indicator in registry.indicators()}


def indicator_units() -> Mapping[str, str]:
    return {indicator.code: indicator.unit for indicator in registry.indicators()}


def _registry_order(code: str) -> int:
    order = {indicator.code: position for position, indicator in enumerate(registry.indicators())}
    return order.get(code, len(order))
