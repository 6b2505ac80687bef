"""Display of indicator values, targets and statuses: words and colour together, never colour alone."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from assessment.models import Comparator, Status
from figures.registry import Unit

register = template.Library()

STATUS_STYLE = {
    Status.MET: ("text-bg-success", "✓"),
    Status.MISSED: ("text-bg-danger", "✗"),
    Status.NO_TARGET: ("text-bg-light border", "–"),
    Status.NO_DATA: ("text-bg-warning", "?"),
}


@register.filter
def figure(value: Decimal | None, unit: str) -> str:
    """A value in its unit: 15,777.60 元/人, 12.9%, 45 户."""
    number = bare_figure(value, unit)
    if value is None or unit == Unit.PERCENT or unit not in Unit.values:
        return number
    return f"{number} {Unit(unit).label}"


def bare_figure(value: Decimal | None, unit: str) -> str:
    """The number of `figure` without the unit word (a table whose heading names the unit): 15,777.60, 12.9%, 45."""
    if value is None:
        return "—"
    value = Decimal(value)
    if unit == Unit.PERCENT:
        return f"{value * 100:.1f}%"
    if unit in (Unit.YUAN_PER_PERSON, Unit.YUAN):
        return f"{value:,.2f}"
    return f"{value:,.0f}" if unit in Unit.values else f"{value.normalize():f}"


def unit_heading(name: str, unit: str) -> str:
    """A column heading that names the unit its bare figures are in: 人均工资性收入（元/人）."""
    if unit == Unit.PERCENT or unit not in Unit.values:
        return name
    return f"{name}（{Unit(unit).label}）"


@register.filter
def amount(value: Decimal | None) -> str:
    """A numerator or denominator: whole numbers without decimals, money with two."""
    if value is None:
        return "—"
    value = Decimal(value)
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


@register.simple_tag
def target_text(comparator: str, target: Decimal | None, unit: str) -> str:
    """The target in words: ≥ 22,300.00 元/人, = 0, 不差于上级（12.9%）."""
    if not comparator:
        return "—"
    if comparator == Comparator.AT_LEAST:
        return f"≥ {figure(target, unit)}"
    if comparator == Comparator.AT_MOST:
        return f"≤ {figure(target, unit)}"
    if comparator == Comparator.ZERO:
        return "= 0"
    label = Comparator(comparator).label
    return f"{label}（{figure(target, unit)}）" if target is not None else str(label)


@register.simple_tag
def status_badge(status: str | None) -> SafeString:
    """达标 / 未达标 / 无目标 / 无数据 as a badge with a sign and the word."""
    if not status:
        return format_html('<span class="badge text-bg-light border" data-status="">{}</span>', "未计算")
    css, sign = STATUS_STYLE.get(Status(status), ("text-bg-light", ""))
    return format_html('<span class="badge {}" data-status="{}">{} {}</span>', css, status, sign, Status(status).label)


@register.simple_tag
def score_text(score: Decimal | None, full: Decimal | None) -> str:
    if full is None or score is None:
        return "—"
    return f"{Decimal(score):.2f} / {Decimal(full):.2f}"


@register.simple_tag(takes_context=True)
def place_query(context: dict[str, Any], **changes: Any) -> str:
    """region=…&period=… of the current page, with some keys changed."""
    from django.utils.http import urlencode

    region = context.get("region")
    period = context.get("period")
    query = {"region": region.code if region else "", "period": str(period) if period else ""}
    query.update({key: str(value) for key, value in changes.items()})
    return urlencode({key: value for key, value in query.items() if value})


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)
