"""Reads of the dashboards: one region's stored figures for a quarter, its sub-regions', and the area's
alerts and quarter close, in a fixed number of queries whatever the level (no query reads households)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from assessment.closing_models import QuarterSubmission, SubmissionStatus
from assessment.models import Alert, BreakdownValue, IndicatorValue, ParameterValue, RegionScore, Status
from assessment.policy import Policy, ancestor_codes
from assessment.selectors import ScoreRow, mark_lagging, parameter_place
from figures import alerts as alert_registry
from figures import registry
from figures.dashboards import ChartLine, DashboardGroup, groups
from figures.periods import Quarter
from figures.registry import Breakdown, Indicator
from households.closing import locked_county_codes
from households.models import RiskType
from households.selectors import threshold_for
from regions.models import DataVersion, Level, Region, county_code_of

TREND_QUARTERS = 8
COMPARISONS = {"previous": "上一季度", "year_earlier": "上年同期"}
KEY_LINE = "key_household_line"
KEY_LINE_DEFAULT = Decimal("10000")


def compared_period(period: Quarter, compare: str) -> Quarter:
    return period.year_earlier() if compare == "year_earlier" else period.previous()


def trend_periods(period: Quarter) -> list[Quarter]:
    """The last TREND_QUARTERS quarters up to the period, oldest first."""
    return [Quarter.from_index(index) for index in range(period.index - TREND_QUARTERS + 1, period.index + 1)]


@dataclass
class Tile:
    indicator: Indicator
    value: IndicatorValue | None
    compared: IndicatorValue | None
    trend: list[tuple[Quarter, Decimal | None]]
    stale: bool

    @property
    def change(self) -> Decimal | None:
        if self.value is None or self.compared is None or self.value.value is None or self.compared.value is None:
            return None
        return self.value.value - self.compared.value


@dataclass
class GroupTiles:
    group: DashboardGroup
    tiles: list[Tile]


@dataclass(frozen=True)
class LineValue:
    """Where a chart's reference line is drawn on this dashboard, and the document it comes from."""

    value: Decimal
    source: str


@dataclass
class AlertCount:
    rule: str
    name: str
    count: int


@dataclass
class CloseStatus:
    villages: int
    by_status: dict[str, int]
    locked: bool

    def rows(self) -> list[tuple[str, str, int]]:
        """(status, label, villages) in the workflow's order; 填报中 is every village not yet further."""
        further = sum(self.by_status.values())
        counts = {**self.by_status, SubmissionStatus.FILLING.value: self.villages - further}
        return [(status.value, str(status.label), counts.get(status.value, 0)) for status in SubmissionStatus]


@dataclass
class Dashboard:
    region: Region
    period: Quarter
    compare: str
    children: list[Region]
    # (region id, indicator code, quarter) → stored value; the region's 8 quarters, its children's one.
    values: dict[tuple[int, str, Quarter], IndicatorValue]
    groups: list[GroupTiles]
    ranking: list[ScoreRow]
    ranking_columns: list[Indicator]
    breakdowns: dict[str, dict[str, int]]
    threshold: Decimal | None
    key_line: Decimal
    risk_types: list[tuple[str, str]]
    alerts: list[AlertCount]
    close: CloseStatus
    computed_at: datetime | None
    stale_regions: set[int] = field(default_factory=set)
    lines: dict[ChartLine, LineValue] = field(default_factory=dict)

    @property
    def compared(self) -> Quarter:
        return compared_period(self.period, self.compare)

    @property
    def compare_label(self) -> str:
        return COMPARISONS.get(self.compare, COMPARISONS["previous"])

    @property
    def bars(self) -> list[Region]:
        """What charts by sub-region draw: the sub-regions, or the region itself when it has none (a village)."""
        return self.children or [self.region]

    def value(self, region: Region, code: str, period: Quarter | None = None) -> IndicatorValue | None:
        return self.values.get((region.pk, code, period or self.period))


def dashboard(*, region: Region, period: Quarter, compare: str) -> Dashboard:
    """Everything a dashboard shows, from stored values only: the same queries for a village and a province."""
    children = list(Region.objects.filter(parent=region, level__lte=Level.VILLAGE).order_by("code"))
    codes = _indicator_codes()
    window = Q()
    for quarter in trend_periods(period):
        window |= Q(year=quarter.year, quarter=quarter.number)
    # The children by id, not through a join on their parent: the planner then finds both parts
    # through the region index, instead of joining the whole quarter's values with the regions.
    stored = IndicatorValue.objects.filter(indicator__in=codes).filter(
        (Q(region=region) & window)
        | Q(region_id__in=[child.pk for child in children], year=period.year, quarter=period.number)
    )
    values = {(value.region_id, value.indicator, value.period): value for value in stored}
    scores = {score.region_id: score for score in RegionScore.objects.for_period(period).filter(region__parent=region)}
    breakdowns = {row.breakdown: row.data for row in BreakdownValue.objects.for_period(period).filter(region=region)}
    stale_regions = _stale_regions(region=region, children=children, period=period, values=values)
    tiles = [
        GroupTiles(
            group, [_tile(region, indicator, period, compare, values, stale_regions) for indicator in indicators]
        )
        for group in groups()
        if (indicators := _tile_indicators(group, region.level))
    ]
    ranking, columns = _ranking(children, scores, values, period)
    threshold = threshold_for(region=region, year=period.year)
    return Dashboard(
        region=region,
        period=period,
        compare=compare if compare in COMPARISONS else "previous",
        children=children,
        values=values,
        groups=tiles,
        ranking=ranking,
        ranking_columns=columns,
        breakdowns=breakdowns,
        threshold=threshold.amount if threshold else None,
        key_line=_key_line(region=region, period=period),
        # The province's risk types and those of the counties in the region (停用 ones too: past cases have them).
        risk_types=list(
            RiskType.objects.within(region.prefix).order_by("sort_order", "code").values_list("code", "name")
        ),
        alerts=alert_counts(region=region, period=period),
        close=close_status(region=region, period=period),
        computed_at=max(
            (value.computed_at for (region_id, _, quarter), value in values.items() if quarter == period),
            default=None,
        ),
        stale_regions=stale_regions,
        lines=chart_lines(region=region, period=period),
    )


def chart_lines(*, region: Region, period: Quarter) -> dict[ChartLine, LineValue]:
    """Each declared reference line's value on the region's dashboard, resolved as the engine resolves
    it: a target on the region (the nearest row at or above it), a parameter where the engine reads it
    (parameter_place), else the parameter's default. A target without a number (应为0, 不低于上年) or an
    indicator no longer registered draws no line. Two queries (targets, parameters) at every level."""
    declared = list(dict.fromkeys(line for group in groups() for chart in group.charts for line in chart.lines))
    policy = Policy(period=period, regions=ancestor_codes(region.code, int(region.level)))
    found: dict[ChartLine, LineValue] = {}
    for line in declared:
        indicator = registry.get(line.indicator)
        if indicator is None:
            continue
        if line.parameter is None:
            quarter = 4 if line.year_end else None
            resolved = policy.target(indicator.code, region.code, int(region.level), quarter=quarter)
            if resolved is not None and resolved.target.value is not None:
                found[line] = LineValue(resolved.target.value, resolved.target.source)
            continue
        parameter = next((each for each in indicator.parameters if each.key == line.parameter), None)
        if parameter is None:
            continue
        row = policy.parameter_row(parameter.key, *parameter_place(region))
        found[line] = LineValue(row.value, row.source) if row else LineValue(parameter.default, parameter.source)
    return found


@dataclass
class AreaStatus:
    """What changes on a dashboard as people work, between runs: open alerts and the quarter close."""

    alerts: list[AlertCount]
    close: CloseStatus


def _indicator_codes() -> set[str]:
    codes: set[str] = set()
    for group in groups():
        codes.update(group.tiles)
        for chart in group.charts:
            codes.update(chart.indicators)
            codes.update(chart.negative)
    return codes


def _tile_indicators(group: DashboardGroup, level: int) -> list[Indicator]:
    found = [registry.get(code) for code in group.tiles]
    return [indicator for indicator in found if indicator is not None and level in indicator.levels]


def _tile(
    region: Region,
    indicator: Indicator,
    period: Quarter,
    compare: str,
    values: dict[tuple[int, str, Quarter], IndicatorValue],
    stale_regions: set[int],
) -> Tile:
    value = values.get((region.pk, indicator.code, period))
    trend = []
    for quarter in trend_periods(period):
        stored = values.get((region.pk, indicator.code, quarter))
        trend.append((quarter, stored.value if stored else None))
    return Tile(
        indicator=indicator,
        value=value,
        compared=values.get((region.pk, indicator.code, compared_period(period, compare))),
        trend=trend,
        stale=value is not None and region.pk in stale_regions,
    )


def _stale_regions(
    *, region: Region, children: list[Region], period: Quarter, values: dict[tuple[int, str, Quarter], IndicatorValue]
) -> set[int]:
    """Regions (the region and its children) whose values of the period are older than their data,
    unless the county locked the quarter (its values are frozen on purpose): one query for the versions."""
    if region.level >= Level.COUNTY:
        scope = Q(county__code=county_code_of(region.code))
    else:
        scope = Q(county__code__startswith=region.prefix)
    versions = dict(DataVersion.objects.filter(scope).values_list("county__code", "version"))
    locked = locked_county_codes(period)

    def current(place: Region) -> int | None:
        if place.level >= Level.COUNTY:
            county = county_code_of(place.code)
            return None if county in locked else versions.get(county, 0)
        return sum(version for code, version in versions.items() if code.startswith(place.prefix))

    oldest: dict[int, int] = {}
    for (region_id, _, quarter), value in values.items():
        if quarter == period:
            oldest[region_id] = min(oldest.get(region_id, value.data_version), value.data_version)
    stale = set()
    for place in [region, *children]:
        version = current(place)
        if version is not None and place.pk in oldest and oldest[place.pk] < version:
            stale.add(place.pk)
    return stale


def _ranking(
    children: list[Region],
    scores: dict[int, RegionScore],
    values: dict[tuple[int, str, Quarter], IndicatorValue],
    period: Quarter,
) -> tuple[list[ScoreRow], list[Indicator]]:
    """The sub-regions by rank with each tile indicator's status; the columns are the tile indicators
    some sub-region is judged on."""
    statuses: dict[int, dict[str, str]] = defaultdict(dict)
    judged: set[str] = set()
    for (region_id, code, quarter), value in values.items():
        if quarter == period:
            statuses[region_id][code] = value.status
            if value.status in (Status.MET, Status.MISSED):
                judged.add(code)
    rows = mark_lagging([ScoreRow(child, scores.get(child.pk), statuses[child.pk]) for child in children])
    rows.sort(key=lambda row: (row.score.rank if row.score else 10**6, row.region.code))
    tile_codes = [code for group in groups() for code in group.tiles]
    columns = [indicator for code in tile_codes if code in judged and (indicator := registry.get(code)) is not None]
    return rows, columns


def _key_line(*, region: Region, period: Quarter) -> Decimal:
    """重点户收入线 where the engine reads it (the county for its townships and villages), else its default."""
    code, level = region.code, int(region.level)
    if level >= Level.COUNTY:
        code, level = county_code_of(region.code), int(Level.COUNTY)
    rows = dict(
        ParameterValue.objects.filter(
            key=KEY_LINE, year=period.year, region__code__in=ancestor_codes(code, level)
        ).values_list("region__code", "value")
    )
    return next((rows[each] for each in ancestor_codes(code, level) if each in rows), KEY_LINE_DEFAULT)


def alert_counts(*, region: Region, period: Quarter) -> list[AlertCount]:
    """Open alerts (待核实 + 已核实) of the quarter in the area, by rule, in the rules' order."""
    counts = dict(
        Alert.objects.open()
        .filter(year=period.year, quarter=period.number, household__village__code__startswith=region.prefix)
        .order_by()
        .values_list("rule")
        .annotate(count=Count("pk"))
        .values_list("rule", "count")
    )
    found = [
        AlertCount(rule.code, rule.name, counts.pop(rule.code))
        for rule in alert_registry.rules()
        if rule.code in counts
    ]
    return found + [AlertCount(code, code, count) for code, count in sorted(counts.items())]


def close_status(*, region: Region, period: Quarter) -> CloseStatus:
    """The area's villages by 季度关账 state (submissions counted by status) and the county's lock."""
    villages = Region.objects.filter(level=Level.VILLAGE, code__startswith=region.prefix)
    by_status = dict(
        QuarterSubmission.objects.for_period(period)
        .filter(village__code__startswith=region.prefix)
        .exclude(status=SubmissionStatus.FILLING)
        .order_by()
        .values_list("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )
    total = villages.count()
    locked = region.level >= Level.COUNTY and county_code_of(region.code) in locked_county_codes(period)
    return CloseStatus(villages=total, by_status=by_status, locked=locked)


@dataclass
class BreakdownList:
    """The records behind one bar of a distribution chart, and the count the chart drew."""

    breakdown: Breakdown
    key: str
    label: str
    records: QuerySet[Any]
    drawn: int | None  # None when the quarter's breakdown was never computed for the region


def breakdown_drill_down(*, region: Region, period: Quarter, code: str, key: str) -> BreakdownList:
    """The list behind a distribution's bar (a 1,000-yuan band, a category × 风险类型 × state); 404 for
    a breakdown or a key that does not exist."""
    breakdown = registry.get_breakdown(code)
    label = breakdown.label(key, within=region.prefix) if breakdown is not None else None
    if breakdown is None or label is None:
        raise Http404("没有该分布")
    parameters = Policy(period=period).parameters(breakdown.parameters, *parameter_place(region))
    stored = (
        BreakdownValue.objects.for_period(period)
        .filter(region=region, breakdown=breakdown.code)
        .values_list("data", flat=True)
        .first()
    )
    return BreakdownList(
        breakdown=breakdown,
        key=key,
        label=label,
        records=breakdown.records(period=period, region=region, key=key, parameters=parameters),
        drawn=None if stored is None else int(stored.get(key, 0)),
    )
