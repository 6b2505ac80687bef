"""Display helpers: masking personal data by permission, money and growth formatting."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from households.id_numbers import mask_id_number, mask_phone

register = template.Library()


@register.simple_tag(takes_context=True)
def id_number(context: dict[str, Any], value: str | None) -> str:
    """The 身份证号 in full for roles allowed to see it, masked for everyone else."""
    if not value:
        return ""
    user = context["request"].user
    return value if user.has_perm("households.view_personal_data") else mask_id_number(value)


@register.simple_tag(takes_context=True)
def phone(context: dict[str, Any], value: str | None) -> str:
    if not value:
        return ""
    user = context["request"].user
    return value if user.has_perm("households.view_personal_data") else mask_phone(value)


@register.filter
def yuan(value: Decimal | None) -> str:
    """12345.6 → 12,345.60; blank stays a dash."""
    if value is None:
        return "—"
    return f"{Decimal(value):,.2f}"


@register.filter
def percent(value: Decimal | None) -> str:
    """0.1234 → +12.3%."""
    if value is None:
        return "—"
    return f"{Decimal(value) * 100:+.1f}%"
