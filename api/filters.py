"""List filters of every resource: region code prefix, quarter, year, updated since."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from api.resources import Resource
from households.quarter import Quarter


def validate_quarter_text(value: str) -> None:
    try:
        Quarter.parse(value)
    except ValueError as error:
        raise ValidationError("季度格式应为“2025Q3”") from error


def _by_quarter(queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
    quarter = Quarter.parse(value)
    return queryset.filter(year=quarter.year, quarter=quarter.number)


def filterset_for(resource: Resource) -> type[django_filters.FilterSet]:
    """A FilterSet for the resource's list: only the filters its columns support."""
    declared: dict[str, Any] = {
        "region": django_filters.CharFilter(
            field_name=resource.region_code,
            lookup_expr="startswith",
            label="区划代码前缀：只返回该前缀下的记录，如 532326（大姚县）",
        )
    }
    if resource.has_quarter:
        declared["quarter"] = django_filters.CharFilter(
            method=_by_quarter, validators=[validate_quarter_text], label="季度，如 2025Q3"
        )
    if any(field.name == "year" for field in resource.model._meta.concrete_fields):
        declared["year"] = django_filters.NumberFilter(field_name="year", label="年度，如 2025")
    if resource.updated_field:
        declared["updated_since"] = django_filters.IsoDateTimeFilter(
            field_name=resource.updated_field,
            lookup_expr="gte",
            label="只返回此时刻及之后修改的记录（ISO 8601，如 2025-07-01T00:00:00+08:00）",
        )
    meta = type("Meta", (), {"model": resource.model, "fields": []})
    name = "".join(part.title() for part in resource.name.split("-")) + "FilterSet"
    return type(name, (django_filters.FilterSet,), {**declared, "Meta": meta})
