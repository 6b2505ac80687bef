"""Display helpers of the funds pages: yuan with their 万元, shares, statuses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from funds import money

register = template.Library()


@register.filter
def yuan(value: Decimal | None) -> str:
    """12345.6 → 12,345.60."""
    return money.yuan_text(value)


@register.filter
def wan(value: Decimal | None) -> str:
    """Yuan read as 万元, exactly: 12345.00 → 1.2345."""
    return money.wan_text(value)


@register.filter
def amount(value: Decimal | None) -> SafeString | str:
    """12,345.00 元 with its 万元 beside it (1.2345 万元), for people who think in 万元."""
    if value is None:
        return "—"
    return format_html(
        '{} 元 <span class="text-muted small text-nowrap">（{} 万元）</span>',
        money.yuan_text(value),
        money.wan_text(value),
    )


@register.filter
def share(value: Decimal | None) -> str:
    """0.6234 → 62.34%; nothing → a dash."""
    if value is None:
        return "—"
    return f"{Decimal(value) * 100:.2f}%"


@register.simple_tag
def ratio(part: Decimal | None, whole: Decimal | None) -> str:
    return share(money.share(part, whole))


@register.inclusion_tag("funds/_excel_links.html", takes_context=True)
def excel_links(context: dict[str, Any], *names: str) -> dict[str, Any]:
    """A page's registers in Excel: the template, the export where the role reads them, and the import page."""
    from funds.sheets import SHEETS
    from households.excel.register_pages import may_view

    user = context["request"].user
    sheets = [SHEETS[name] for name in names]
    return {
        "links": [{"sheet": sheet, "may_export": may_view(user, sheet)} for sheet in sheets],
        "may_import": any(user.has_perm(sheet.permission) for sheet in sheets),
    }
