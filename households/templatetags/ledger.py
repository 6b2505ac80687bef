"""Display helpers: masking personal data by permission, money and growth formatting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import template

from households.personal_data import shown_to, text_shown_to

register = template.Library()


@register.simple_tag(takes_context=True)
def id_number(context: dict[str, Any], value: str | None) -> str:
    """The 身份证号 in full for roles allowed to see it, masked for everyone else."""
    return shown_to(context["request"].user, "id_number", value)


@register.simple_tag(takes_context=True)
def phone(context: dict[str, Any], value: str | None) -> str:
    """A phone number in full for roles allowed to see it, masked for everyone else."""
    return shown_to(context["request"].user, "phone", value)


@register.simple_tag(takes_context=True)
def birth_date(context: dict[str, Any], value: date | None) -> str:
    """The birth date for roles allowed to see it, the age (e.g. 45岁) for everyone else."""
    return shown_to(context["request"].user, "birth_date", value)


@register.simple_tag(takes_context=True)
def personal_text(context: dict[str, Any], value: str | None) -> str:
    """Free text (a 户编号 built from a 身份证号, a message) with numbers masked unless allowed."""
    return text_shown_to(context["request"].user, value or "")


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
