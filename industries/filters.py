"""List filters (django-filter): every choice they offer comes from the user's subtree."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet

from industries import selectors
from industries.models import Designation, Industry, IndustryCategory, Participation, ScalePlan, ScaleReport
from regions import form_messages
from regions.models import Level, Region


class RegionChoiceField(forms.ModelChoiceField):
    """A region labelled by its place (金碧镇 大村村), indented by level."""

    def label_from_instance(self, obj: Any) -> str:
        indent = "\u3000" * max(obj.level - Level.COUNTY, 0)
        if obj.level == Level.VILLAGE and obj.parent is not None:
            return f"{indent}{obj.parent.name} {obj.name}"
        return f"{indent}{obj.name}"


class IndustryChoiceField(forms.ModelChoiceField):
    """An industry with its unit, and its county when the user sees several counties' catalogues."""

    def __init__(self, *args: Any, show_county: bool = False, **kwargs: Any) -> None:
        self.show_county = show_county
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        label = f"{obj.name}（{obj.unit.name}）"
        return f"{obj.county.name} {label}" if self.show_county else label


class RegionFilter(django_filters.ModelChoiceFilter):
    field_class = RegionChoiceField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, empty_label="全部", **kwargs)


class IndustryFilter(django_filters.ModelChoiceFilter):
    field_class = IndustryChoiceField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, empty_label="全部", **kwargs)


def sees_several_counties(user: Any) -> bool:
    prefix = user.scope_prefix()
    return prefix is not None and len(prefix) < 6


class ScopedFilterSet(django_filters.FilterSet):
    """Filters whose region and industry choices are the user's; an invalid filter shows no rows."""

    region_path = "region"

    def __init__(self, data: Any = None, queryset: Any = None, *, request: Any, **kwargs: Any) -> None:
        super().__init__(data, queryset, request=request, **kwargs)
        user = request.user
        for name, filter_ in self.filters.items():
            if isinstance(filter_, RegionFilter):
                # Any region of the subtree is accepted (drill-down links name villages); the menu
                # offers the user's region and two levels below it.
                filter_.queryset = selectors.regions_for_rows(user=user, highest=Level.PROVINCE)
                self.form.fields[name].queryset = filter_.queryset
                self.form.fields[name].widget.choices = [("", "全部")] + [
                    (region.pk, self.form.fields[name].label_from_instance(region))
                    for region in selectors.regions_for_filter(user=user)
                ]
            elif isinstance(filter_, IndustryFilter):
                filter_.queryset = selectors.industries_for_choice(user=user, active_only=False)
                field = self.form.fields[name]
                field.queryset = filter_.queryset
                field.show_county = sees_several_counties(user)
        form_messages.apply_domain_messages(self.form.fields)
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    @property
    def qs(self) -> QuerySet[Any]:
        if self.is_bound and not self.form.is_valid():
            return self.queryset.none()
        return super().qs

    def filter_within(self, queryset: QuerySet[Any], name: str, value: Region | None) -> QuerySet[Any]:
        """Rows of the region and everything below it."""
        if value is None:
            return queryset
        return queryset.filter(**{f"{self.region_path}__code__startswith": value.prefix})


YEAR = {"label": "年度", "min_value": 2013, "max_value": 2100}


class CatalogueFilter(ScopedFilterSet):
    name = django_filters.CharFilter(label="产业名称", lookup_expr="icontains")
    category = django_filters.ModelChoiceFilter(
        label="产业类别", queryset=IndustryCategory.objects.all(), empty_label="全部"
    )
    is_active = django_filters.BooleanFilter(
        label="状态", widget=forms.Select(choices=[("", "全部"), ("true", "在用"), ("false", "已停用")])
    )

    class Meta:
        model = Industry
        fields = ["name", "category", "is_active"]


class DesignationFilter(ScopedFilterSet):
    year = django_filters.NumberFilter(**YEAR)
    within = RegionFilter(label="区划", method="filter_within", queryset=Region.objects.none())
    region = RegionFilter(label="本级区划", queryset=Region.objects.none(), widget=forms.HiddenInput)
    industry = IndustryFilter(label="产业", queryset=Industry.objects.none())
    level = django_filters.ChoiceFilter(
        label="级别",
        field_name="region__level",
        empty_label="全部",
        choices=[
            (Level.COUNTY, "县（一县一业）"),
            (Level.TOWNSHIP, "乡镇（一乡一特）"),
            (Level.VILLAGE, "村（一村一品）"),
        ],
    )
    signature = django_filters.BooleanFilter(
        label="标志性产业",
        field_name="is_signature",
        widget=forms.Select(choices=[("", "全部"), ("true", "仅一县一业/一乡一特/一村一品")]),
    )

    class Meta:
        model = Designation
        fields = ["year", "within", "region", "industry", "level", "signature"]


class ScalePlanFilter(ScopedFilterSet):
    year = django_filters.NumberFilter(**YEAR)
    within = RegionFilter(label="区划", method="filter_within", queryset=Region.objects.none())
    region = RegionFilter(label="本级区划", queryset=Region.objects.none(), widget=forms.HiddenInput)
    industry = IndustryFilter(label="产业", queryset=Industry.objects.none())

    class Meta:
        model = ScalePlan
        fields = ["year", "within", "region", "industry"]


class ScaleReportFilter(ScopedFilterSet):
    region_path = "village"
    year = django_filters.NumberFilter(**YEAR)
    within = RegionFilter(label="区划", method="filter_within", queryset=Region.objects.none())
    industry = IndustryFilter(label="产业", queryset=Industry.objects.none())

    class Meta:
        model = ScaleReport
        fields = ["year", "within", "industry"]


class ParticipationFilter(ScopedFilterSet):
    region_path = "household__village"
    year = django_filters.NumberFilter(**YEAR)
    within = RegionFilter(label="区划", method="filter_within", queryset=Region.objects.none())
    industry = IndustryFilter(label="产业", queryset=Industry.objects.none())

    class Meta:
        model = Participation
        fields = ["year", "within", "industry"]
