"""Dashboard groups an app declares: which indicators it shows as tiles and which charts it draws.

The dashboards render every registered group in order, so a later register (industries, funds…)
adds its group from its own `dashboards.py` without the dashboard's code changing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChartKind(models.TextChoices):
    STACKED = "stacked", _("按下级区划堆叠（构成）")
    BY_SUBREGION = "by_subregion", _("按下级区划比较")
    DISTRIBUTION = "distribution", _("分布")
    TRENDS = "trends", _("近8个季度趋势")
    MATRIX = "matrix", _("交叉分类")
    PROGRESS = "progress", _("按下级区划的完成情况")


@dataclass(frozen=True)
class ChartLine:
    """A reference line across a chart at a value policy sets, never a constant: the target of
    `indicator` that holds for the dashboard's region and year, or, when `parameter` names one of the
    indicator's parameters, its value where the engine reads it. The value is in the unit the chart
    draws; `label` shows it where it says {value} ("{value}底线" → "5万元底线")."""

    label: str
    indicator: str
    parameter: str | None = None
    # The target set for the year's fourth quarter (a year-end goal), drawn against every quarter's
    # year-to-date values.
    year_end: bool = False


@dataclass(frozen=True)
class Chart:
    """One chart: its kind says how the indicators' values or the breakdown's counts are drawn."""

    code: str
    title: str
    kind: str
    indicators: tuple[str, ...] = ()
    breakdown: str | None = None
    # For STACKED: the indicator subtracted (drawn below zero), e.g. 经营性支出.
    negative: tuple[str, ...] = ()
    note: str = ""
    lines: tuple[ChartLine, ...] = ()


@dataclass(frozen=True)
class DashboardGroup:
    code: str
    title: str
    order: int
    tiles: tuple[str, ...]
    charts: tuple[Chart, ...] = ()


_GROUPS: dict[str, DashboardGroup] = {}


def register_group(group: DashboardGroup) -> DashboardGroup:
    _GROUPS[group.code] = group
    return group


def unregister_group(code: str) -> None:
    _GROUPS.pop(code, None)


def groups() -> list[DashboardGroup]:
    return sorted(_GROUPS.values(), key=lambda group: (group.order, group.code))
