"""The dashboards' charts: for each declared Chart, an ECharts option and the same numbers as a table.

Every bar or point that stands for records carries the link of the drill-down list behind it
(`link` on the data item); the page's script follows it on click.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode

from assessment.dashboard_selectors import Dashboard, trend_periods
from assessment.records import Cell, Table
from assessment.templatetags.assessment_tags import bare_figure, figure, unit_heading
from figures import registry
from figures.dashboards import Chart, ChartKind, ChartLine
from figures.periods import Quarter
from figures.registry import Indicator, Unit
from households.indicators.breakdowns import STATES, band_keys
from households.models import MonitoringCategory
from regions.models import Region

LINE_COLOUR = "#c62828"
PALETTE = ["#2e7d32", "#1565c0", "#f9a825", "#6a1b9a", "#c62828", "#00838f", "#5d4037", "#ef6c00"]


@dataclass(frozen=True)
class DrawnLine:
    """A reference line as the 数据表 lists it: its label, its value in the chart's unit, its document."""

    label: str
    value: str
    source: str


@dataclass
class ChartView:
    chart: Chart
    option: dict[str, Any]
    table: Table
    key: str = ""  # unique on the page: group code and chart code
    lines: list[DrawnLine] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.table.rows


def drill_link(indicator: str, side: str, region: Region, period: Quarter) -> str:
    route = {"numerator": "assessment_numerator", "denominator": "assessment_denominator"}.get(
        side, "assessment_complement"
    )
    return f"{reverse(route, args=[indicator])}?{urlencode({'region': region.code, 'period': str(period)})}"


def breakdown_link(code: str, key: str, region: Region, period: Quarter) -> str:
    """The list behind one bar of a distribution chart."""
    route = reverse("assessment_breakdown_records", args=[code, key])
    return f"{route}?{urlencode({'region': region.code, 'period': str(period)})}"


def plotted(value: Decimal | None, unit: str) -> float | None:
    """The number a chart draws: percentages in percent, everything else as stored."""
    if value is None:
        return None
    return round(float(value * 100 if unit == Unit.PERCENT else value), 2)


def charts(board: Dashboard) -> dict[str, list[ChartView]]:
    """group code → its charts, ready to draw."""
    built: dict[str, list[ChartView]] = {}
    for group in board.groups:
        views = [BUILDERS.get(chart.kind, _by_subregion)(board, chart) for chart in group.group.charts]
        for view in views:
            view.key = f"{group.group.code}-{view.chart.code}"
            for series in view.option.get("series", []):
                if series.get("type") == "bar":
                    series.setdefault("barMaxWidth", 36)
            _mark_lines(view, board)
        built[group.group.code] = views
    return built


def line_amount(value: Decimal, unit: str) -> str:
    """A line's value as its label says it: 5万元, 8.5万元, 65%, 3,000元/人."""
    if unit == Unit.PERCENT:
        return f"{(value * 100).normalize():f}%"
    if unit in (Unit.YUAN, Unit.YUAN_PER_PERSON):
        label = Unit(unit).label
        if value >= 10000:
            return f"{(value / 10000).normalize():f}万{label}"
        return f"{value.normalize():,f}{label}"
    return figure(value, unit)


def _mark_lines(view: ChartView, board: Dashboard) -> None:
    """Draw the chart's declared reference lines across its value axis, stretch the axis to show them,
    and list them for the 数据表. A line the dashboard holds no value for is left out."""
    drawn: list[tuple[ChartLine, Decimal]] = [
        (line, board.lines[line].value) for line in view.chart.lines if line in board.lines
    ]
    series = view.option.get("series", [])
    if not drawn or not series:
        return
    first = registry.get(view.chart.indicators[0]) if view.chart.indicators else None
    unit = first.unit if first is not None else ""
    axis = "xAxis" if view.option["xAxis"].get("type") == "value" else "yAxis"
    marks: list[dict[str, Any]] = []
    positions: list[float | None] = []
    for line, value in drawn:
        label = line.label.format(value=line_amount(value, unit))
        positions.append(plotted(value, unit))
        marks.append({axis: positions[-1], "name": label})
        view.lines.append(DrawnLine(label, figure(value, unit), board.lines[line].source))
    mark_line = series[0].setdefault(
        "markLine",
        {"symbol": "none", "label": {"formatter": "{b}"}, "lineStyle": {"color": LINE_COLOUR, "type": "dashed"}},
    )
    mark_line.setdefault("data", []).extend(marks)
    # Over a bar the label stays readable on a pale ground.
    mark_line["label"].setdefault("position", "insideEndTop")
    mark_line["label"].setdefault("backgroundColor", "rgba(255,255,255,0.85)")
    mark_line["label"].setdefault("padding", [1, 3])
    _axis_reaches(view.option[axis], series, positions)


def _axis_reaches(axis: dict[str, Any], series: list[dict[str, Any]], lines: list[float | None]) -> None:
    """ECharts fits a value axis to the data alone: a line beyond it would not be seen, so the axis is
    stretched to a round number past it (and, on an axis that need not start at zero, below it)."""
    marked = [line for line in lines if line is not None]
    if not marked:
        return
    highest, lowest = _extent(series)
    if highest is None or max(marked) > highest:
        axis["max"] = _round(max(marked) * 1.05, math.ceil)
    if axis.get("scale") and (lowest is None or min(marked) < lowest):
        axis["min"] = _round(min(marked) * 0.95, math.floor)


def _extent(series: list[dict[str, Any]]) -> tuple[float | None, float | None]:
    """The highest and lowest a chart's series reach, stacked bars counted by their totals."""
    totals: dict[tuple[str, int], float] = {}
    values: list[float] = []
    for position, each in enumerate(series):
        stack = each.get("stack") or f"unstacked-{position}"
        for index, item in enumerate(each.get("data", [])):
            number = item.get("value") if isinstance(item, dict) else item
            if number is None:
                continue
            values.append(number)
            if number > 0:
                totals[(stack, index)] = totals.get((stack, index), 0) + number
    if not values:
        return None, None
    return max([*values, *totals.values()]), min(values)


def _round(number: float, direction: Callable[[float], int]) -> float:
    """The number rounded (up for a maximum, down for a minimum) to a multiple of the tick interval ECharts
    picks for an axis that long, so that the axis ends on a labelled tick, not just past one."""
    if number <= 0:
        return 0
    rough = number / 5  # ECharts' default splitNumber
    power = 10 ** math.floor(math.log10(rough))
    fraction = rough / power
    interval = power * next(
        nice for below, nice in ((1.5, 1), (2.5, 2), (4, 3), (7, 5), (math.inf, 10)) if fraction < below
    )
    return float(direction(number / interval) * interval)


def _indicators(codes: tuple[str, ...]) -> list[Indicator]:
    return [indicator for code in codes if (indicator := registry.get(code)) is not None]


def _base(categories: list[str], *, horizontal: bool = False) -> dict[str, Any]:
    # Region names (on the vertical axis of horizontal bars) are all shown, one longer than a phone can
    # spare cut with "…" (the 数据表 has it whole); quarters, bands and amounts drop the labels that
    # would overlap on a phone.
    labels = {"interval": 0, "width": 112, "overflow": "truncate"} if horizontal else {"hideOverlap": True}
    category_axis = {"type": "category", "data": categories, "axisLabel": labels}
    value_axis: dict[str, Any] = {"type": "value", "axisLabel": {"hideOverlap": True}}
    # Tooltips drawn inside the chart (richText): ECharts' HTML tooltips carry style="" attributes, which the
    # Content-Security-Policy refuses.
    return {
        "animation": False,
        "color": PALETTE,
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}, "renderMode": "richText"},
        "legend": {"top": 0, "type": "scroll"},
        "grid": {"left": 8, "right": 16, "top": 40, "bottom": 8, "containLabel": True},
        "xAxis": value_axis if horizontal else category_axis,
        "yAxis": category_axis if horizontal else value_axis,
        "series": [],
    }


def _stacked(board: Dashboard, chart: Chart) -> ChartView:
    """Composition by sub-region: each part stacked, the subtracted parts below zero."""
    places = board.bars
    parts = _indicators(chart.indicators)
    negatives = _indicators(chart.negative)
    option = _base([place.name for place in places], horizontal=True)
    option["yAxis"]["inverse"] = True
    table = Table(
        headers=[("区划", False)]
        + [(unit_heading(i.name, i.unit), True) for i in parts]
        + [(unit_heading(f"减：{i.name}", i.unit), True) for i in negatives]
    )
    rows: dict[int, list[Cell]] = {place.pk: [Cell(place.name)] for place in places}
    for sign, indicators in ((1, parts), (-1, negatives)):
        for indicator in indicators:
            data = []
            for place in places:
                stored = board.value(place, indicator.code)
                number = plotted(stored.value if stored else None, indicator.unit)
                link = drill_link(indicator.code, "numerator", place, board.period)
                data.append({"value": None if number is None else sign * number, "link": link})
                text = bare_figure(stored.value if stored else None, indicator.unit)
                rows[place.pk].append(Cell(text, link=link if stored else "", numeric=True))
            # The chart's title says 人均; the legend keeps the part's own name short enough to read.
            name = indicator.name.removeprefix("人均")
            option["series"].append({"name": name, "type": "bar", "stack": "total", "data": data})
    table.rows = [rows[place.pk] for place in places]
    return ChartView(chart, option, table)


def _by_subregion(board: Dashboard, chart: Chart) -> ChartView:
    """Each indicator's value per sub-region, side by side."""
    places = board.bars
    indicators = _indicators(chart.indicators)
    option = _base([place.name for place in places])
    table = Table(headers=[("区划", False)] + [(unit_heading(i.name, i.unit), True) for i in indicators])
    table.rows = [[Cell(place.name)] for place in places]
    for indicator in indicators:
        data = []
        for row, place in zip(table.rows, places, strict=True):
            stored = board.value(place, indicator.code)
            link = drill_link(indicator.code, "numerator", place, board.period)
            data.append({"value": plotted(stored.value if stored else None, indicator.unit), "link": link})
            row.append(Cell(bare_figure(stored.value if stored else None, indicator.unit), link=link, numeric=True))
        option["series"].append({"name": indicator.name, "type": "bar", "data": data})
    plotted_values = [point["value"] for series in option["series"] for point in series["data"]]
    if all(value is None or float(value).is_integer() for value in plotted_values):
        option["yAxis"]["minInterval"] = 1  # counts: no 0.5 entities on the axis
    return ChartView(chart, option, table)


def _band_label(key: str, lower: int | None, upper: int | None) -> str:
    if lower is None:
        return "<0"
    if upper is None:
        return f"≥{lower // 1000}千"
    return f"{lower // 1000}–{upper // 1000}千"


def _band_of(amount: Decimal) -> str:
    for key, lower, upper in band_keys():
        if _in_band(amount, lower, upper):
            return _band_label(key, lower, upper)
    return ""


def _shown_bands(counts: dict[str, int], marks: list[Decimal]) -> list[tuple[str, int | None, int | None]]:
    """The bands from the lowest to the highest holding households or a marked line: the empty ones
    outside that range add nothing (the counts still add up to the same households)."""
    bands = band_keys()
    used = [
        position
        for position, (key, lower, upper) in enumerate(bands)
        if counts.get(key, 0) or any(_in_band(mark, lower, upper) for mark in marks)
    ]
    return bands[min(used) : max(used) + 1] if used else bands


def _in_band(amount: Decimal, lower: int | None, upper: int | None) -> bool:
    return (lower is None or amount >= lower) and (upper is None or amount < upper)


def _distribution(board: Dashboard, chart: Chart) -> ChartView:
    """Households by 人均纯收入 band, with the year's 监测范围 and the 重点户 line marked; each bar links
    to the households it counts."""
    code = chart.breakdown or ""
    counts = board.breakdowns.get(code, {})
    marks = [board.key_line] if board.threshold is None else [board.threshold, board.key_line]
    bands = _shown_bands(counts, marks)
    labels = [_band_label(key, lower, upper) for key, lower, upper in bands]
    option = _base(labels)
    option["yAxis"]["minInterval"] = 1
    option["legend"] = {"show": False}
    lines = []
    if board.threshold is not None:
        # The two lines often fall in neighbouring bands: one label at the top, the other at the bottom.
        lines.append(
            {
                "xAxis": _band_of(board.threshold),
                "name": f"监测范围 {board.threshold:,.0f}元",
                "label": {"position": "insideStartTop"},
            }
        )
    lines.append(
        {
            "xAxis": _band_of(board.key_line),
            "name": f"重点户线 {board.key_line:,.0f}元",
            "label": {"position": "insideEndTop"},
        }
    )
    links = {key: breakdown_link(code, key, board.region, board.period) for key, _, _ in bands}
    option["series"].append(
        {
            "name": "户数",
            "type": "bar",
            "barCategoryGap": "10%",
            "data": [{"value": counts.get(key, 0), "link": links[key]} for key, _, _ in bands],
            "markLine": {
                "symbol": "none",
                "label": {"formatter": "{b}"},
                "lineStyle": {"color": "#c62828", "type": "dashed"},
                "data": lines,
            },
        }
    )
    table = Table(headers=[("人均纯收入（元）", False), ("户数", True)])
    if counts:
        table.rows = [
            [Cell(label), Cell(f"{counts.get(key, 0):,}", link=links[key] if counts.get(key) else "", numeric=True)]
            for label, (key, _, _) in zip(labels, bands, strict=True)
        ]
    return ChartView(chart, option, table)


def _trends(board: Dashboard, chart: Chart) -> ChartView:
    """The region's last eight quarters of each indicator."""
    quarters = trend_periods(board.period)
    indicators = _indicators(chart.indicators)
    option = _base([str(quarter) for quarter in quarters])
    option["tooltip"] = {"trigger": "axis", "renderMode": "richText"}
    option["yAxis"]["scale"] = True
    table = Table(headers=[("季度", False)] + [(unit_heading(i.name, i.unit), True) for i in indicators])
    table.rows = [[Cell(quarter.label)] for quarter in quarters]
    for indicator in indicators:
        data = []
        for row, quarter in zip(table.rows, quarters, strict=True):
            stored = board.value(board.region, indicator.code, quarter)
            link = drill_link(indicator.code, "numerator", board.region, quarter) if stored else ""
            data.append({"value": plotted(stored.value if stored else None, indicator.unit), "link": link})
            row.append(Cell(bare_figure(stored.value if stored else None, indicator.unit), link=link, numeric=True))
        option["series"].append({"name": indicator.name, "type": "line", "connectNulls": False, "data": data})
    return ChartView(chart, option, table)


def _matrix(board: Dashboard, chart: Chart) -> ChartView:
    """Monitored households by risk type: one bar for open, one for eliminated, each stacked by category;
    each segment links to the cases it counts."""
    code = chart.breakdown or ""
    counts = board.breakdowns.get(code, {})
    used = {key.split("|")[1] for key in counts}
    risks = [(risk, name) for risk, name in board.risk_types if risk in used]
    risks += [(risk, risk) for risk in sorted(used - {risk for risk, _ in board.risk_types})]
    option = _base([name for _, name in risks], horizontal=True)
    option["yAxis"]["inverse"] = True
    option["xAxis"]["minInterval"] = 1
    headers: list[tuple[str, bool]] = [("风险类型", False)]
    cells: dict[str, list[Cell]] = {risk: [Cell(name)] for risk, name in risks}
    for state, state_label in STATES.items():
        for category in MonitoringCategory:
            # The same words as the table's heading: a middle dot is measured narrower than a CJK font
            # draws it, and the legend's entries then overlap.
            name = f"{category.label}（{state_label}）"
            headers.append((name, True))
            data = []
            for risk, _ in risks:
                key = f"{category.value}|{risk}|{state}"
                count = counts.get(key, 0)
                link = breakdown_link(code, key, board.region, board.period)
                data.append({"value": count, "link": link})
                cells[risk].append(Cell(f"{count:,}", link=link if count else "", numeric=True))
            option["series"].append({"name": name, "type": "bar", "stack": state, "data": data})
    table = Table(headers=headers, rows=[cells[risk] for risk, _ in risks])
    return ChartView(chart, option, table)


def _progress(board: Dashboard, chart: Chart) -> ChartView:
    """Entered and missing by sub-region; the missing part links to the households not entered."""
    places = board.bars
    code = chart.indicators[0]
    option = _base([place.name for place in places], horizontal=True)
    option["yAxis"]["inverse"] = True
    option["color"] = ["#2e7d32", "#c62828"]
    option["xAxis"]["minInterval"] = 1
    entered: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    table = Table(headers=[("区划", False), ("在册户数", True), ("已录入", True), ("未录入", True), ("进度", True)])
    for place in places:
        stored = board.value(place, code)
        if stored is None or stored.denominator is None:
            entered.append({"value": None})
            missing.append({"value": None})
            continue
        done, total = int(stored.numerator), int(stored.denominator)
        done_link = drill_link(code, "numerator", place, board.period)
        missing_link = drill_link(code, "complement", place, board.period)
        entered.append({"value": done, "link": done_link})
        missing.append({"value": total - done, "link": missing_link})
        table.rows.append(
            [
                Cell(place.name),
                Cell(f"{total:,}", link=drill_link(code, "denominator", place, board.period), numeric=True),
                Cell(f"{done:,}", link=done_link, numeric=True),
                Cell(f"{total - done:,}", link=missing_link if total > done else "", numeric=True),
                Cell(figure(stored.value, Unit.PERCENT), numeric=True),
            ]
        )
    option["series"] = [
        {"name": "已录入", "type": "bar", "stack": "households", "data": entered},
        {"name": "未录入", "type": "bar", "stack": "households", "data": missing},
    ]
    return ChartView(chart, option, table)


BUILDERS: dict[str, Callable[[Dashboard, Chart], ChartView]] = {
    ChartKind.STACKED: _stacked,
    ChartKind.BY_SUBREGION: _by_subregion,
    ChartKind.DISTRIBUTION: _distribution,
    ChartKind.TRENDS: _trends,
    ChartKind.MATRIX: _matrix,
    ChartKind.PROGRESS: _progress,
}
