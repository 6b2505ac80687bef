"""Display of the dashboards' tiles: the change against the comparison quarter and the 8-quarter sparkline."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from figures.periods import Quarter
from figures.registry import Direction, Unit

register = template.Library()

SPARK_WIDTH = 120
SPARK_HEIGHT = 28


@register.simple_tag
def change_text(change: Decimal | None, unit: str, direction: str) -> SafeString:
    """▲ +1.2个百分点 / ▼ −310.00 元/人 / 持平, coloured by whether it is better, with the sign in words."""
    if change is None:
        return format_html('<span class="text-muted" data-testid="change">{}</span>', "—")
    if change == 0:
        return format_html('<span class="text-muted" data-testid="change">{}</span>', "持平")
    up = change > 0
    better = up == (direction == Direction.HIGHER)
    css = "text-success" if better else "text-danger"
    if unit == Unit.PERCENT:
        amount = f"{abs(change) * 100:.1f}个百分点"
    elif unit in (Unit.YUAN_PER_PERSON, Unit.YUAN):
        amount = f"{abs(change):,.2f} {Unit(unit).label}"
    elif unit in Unit.values:
        amount = f"{abs(change):,.0f} {Unit(unit).label}"
    else:
        amount = f"{abs(change).normalize():f}"
    return format_html(
        '<span class="{}" data-testid="change">{} {}{}</span>',
        css,
        "▲" if up else "▼",
        "增加" if up else "减少",
        amount,
    )


@register.simple_tag
def sparkline(trend: list[tuple[Quarter, Decimal | None]]) -> SafeString:
    """An inline SVG line of the last quarters' values (gaps where nothing was computed), titled with the numbers."""
    numbers = [float(value) for _, value in trend if value is not None]
    title = "；".join(
        f"{quarter}：{'—' if value is None else f'{value:,.4f}'.rstrip('0').rstrip('.')}" for quarter, value in trend
    )
    if len(numbers) < 2:
        return format_html('<span class="small text-muted" title="{}">趋势数据不足</span>', title)
    low, high = min(numbers), max(numbers)
    span = (high - low) or 1.0
    step = SPARK_WIDTH / max(len(trend) - 1, 1)
    segments: list[list[str]] = [[]]
    last = ""
    for position, (_, value) in enumerate(trend):
        if value is None:
            segments.append([])
            continue
        y = SPARK_HEIGHT - 3 - (float(value) - low) / span * (SPARK_HEIGHT - 6)
        last = f"{position * step:.1f},{y:.1f}"
        segments[-1].append(last)
    lines = format_html_join(
        "",
        '<polyline points="{}" fill="none" stroke="#2e7d32" stroke-width="1.5"/>',
        ((" ".join(s),) for s in segments if s),
    )
    end_x, end_y = last.split(",")
    return format_html(
        '<svg class="sparkline" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="近8个季度：{}">'
        '<title>{}</title>{}<circle cx="{}" cy="{}" r="2.5" fill="#2e7d32"/></svg>',
        SPARK_WIDTH,
        SPARK_HEIGHT,
        SPARK_WIDTH,
        SPARK_HEIGHT,
        title,
        title,
        lines,
        end_x,
        end_y,
    )
