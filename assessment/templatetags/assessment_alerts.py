"""The alert count other apps' pages show (the home page's 待处理预警), without importing assessment."""

from __future__ import annotations

from typing import Any

from django import template

from assessment.alert_selectors import open_alert_count as count_open

register = template.Library()


@register.simple_tag(takes_context=True)
def open_alert_count(context: dict[str, Any]) -> int:
    """Open alerts (待核实 + 已核实) in the user's scope: the inbox's default list, counted."""
    return count_open(user=context["request"].user)
