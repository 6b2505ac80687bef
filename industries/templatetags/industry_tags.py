"""Display helpers of the industries pages: scales, completion rates, region labels, query strings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import template
from django.http import QueryDict

from regions.models import Level

register = template.Library()


@register.filter
def scale(value: Decimal | None) -> str:
    """2700.00 → 2,700; 3.50 → 3.5; nothing → a dash."""
    if value is None:
        return "—"
    text = f"{Decimal(value):,.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def completion(value: Decimal | None) -> str:
    """0.8123 → 81.2%."""
    if value is None:
        return "—"
    return f"{Decimal(value) * 100:.1f}%"


@register.simple_tag
def region_label(region: Any) -> str:
    """A village with its township (金碧镇 大村村); any other region by its name."""
    if region.level == Level.VILLAGE and region.parent is not None:
        return f"{region.parent.name} {region.name}"
    return str(region.name)


@register.simple_tag
def without(query: str, *names: str) -> str:
    """The query string with these parameters dropped."""
    params = QueryDict(query, mutable=True)
    for name in names:
        params.pop(name, None)
    return params.urlencode()


@register.simple_tag
def query(**params: Any) -> str:
    """A query string of the given parameters, leaving out empty ones."""
    return urlencode({name: value for name, value in params.items() if value not in (None, "")})
