"""List filters (django-filter) of the funds pages; region choices come from the user's subtree."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet

from funds.models import (
    Allocation,
    Asset,
    AssetKind,
    Beneficiary,
    CollectiveIncome,
    Funding,
    FundLevel,
    Payment,
    Project,
    ProjectStatus,
    ProjectType,
    ReviewStatus,
    VillageProfile,
)
from funds.selectors.overview import allocations_within
from funds.selectors.registers import project_money
from industries.filters import YEAR, RegionFilter, ScopedFilterSet
from regions.models import Region

ALL = "全部"


def _within() -> RegionFilter:
    return RegionFilter(label="区划", method="filter_within", queryset=Region.objects.none())


class AllocationFilter(ScopedFilterSet):
    year = django_filters.NumberFilter(**YEAR)
    level = django_filters.ChoiceFilter(label="资金级次", choices=FundLevel.choices, empty_label=ALL)
    within = _within()
    kind = django_filters.ChoiceFilter(
        label="下达层级",
        method="filter_kind",
        empty_label=ALL,
        choices=[("county", "下达到县"), ("township", "分配到乡镇")],
    )
    document_number = django_filters.CharFilter(label="文号", lookup_expr="icontains")

    class Meta:
        model = Allocation
        fields = ["year", "level", "within", "kind", "document_number"]

    def filter_kind(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if not value:
            return queryset
        return queryset.filter(parent__isnull=value == "county")


class ProjectTypeFilter(django_filters.ModelChoiceFilter):
    """A type and its sub-types (产业发展 matches 种养殖基地, 加工流通 …)."""

    def filter(self, queryset: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value is None:
            return queryset
        return queryset.filter(Q(project_type=value) | Q(project_type__parent=value))


class ProjectFilter(ScopedFilterSet):
    year = django_filters.NumberFilter(**YEAR)
    within = _within()
    project_type = ProjectTypeFilter(
        label="项目类型", queryset=ProjectType.objects.order_by("sort_order", "code"), empty_label=ALL
    )
    status = django_filters.ChoiceFilter(label="状态", choices=ProjectStatus.choices, empty_label=ALL)
    q = django_filters.CharFilter(label="编号或名称", method="filter_text")
    funding_year = django_filters.NumberFilter(
        label="资金年度", method="filter_funding", min_value=2013, max_value=2100
    )
    funding_level = django_filters.ChoiceFilter(
        label="资金级次", choices=FundLevel.choices, method="filter_funding", empty_label=ALL
    )
    attention = django_filters.ChoiceFilter(
        label="关注",
        method="filter_attention",
        empty_label=ALL,
        choices=[
            ("no_linkage", "产业项目缺联农带农机制或受益农户"),
            ("supported", "扶持双绑经营主体"),
            ("unfunded", "已入库未安排资金"),
        ],
    )

    class Meta:
        model = Project
        fields = ["year", "within", "project_type", "status", "q", "funding_year", "funding_level", "attention"]

    def filter_text(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value)) if value else queryset

    def filter_funding(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        """Projects with a funding line on allocations of that year and/or level (both filters at once),
        drawn on allocations within the 区划 when one is chosen, as the fund overview counts them; the
        projects' 已安排 and 已支付 are then those lines' only, so the list adds up to the overview's figure."""
        data = self.form.cleaned_data
        year, level, within = data.get("funding_year"), data.get("funding_level"), data.get("within")
        if name == "funding_level" and year is not None:
            return queryset  # applied with the year
        if year is None and not level:
            return queryset
        lines = Funding.objects.all()
        if year is not None:
            lines = lines.filter(allocation__year=year)
        if level:
            lines = lines.filter(allocation__level=level)
        if within is not None:
            lines = lines.filter(allocation__in=allocations_within(within))
        return queryset.filter(Exists(lines.filter(project=OuterRef("pk")))).annotate(**project_money(lines))

    def filter_attention(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value == "no_linkage":
            households = Exists(Beneficiary.objects.filter(project=OuterRef("pk")))
            return queryset.filter(project_type__is_industry=True).filter(Q(linkage_mechanism="") | ~households)
        if value == "supported":
            return queryset.filter(Exists(Project.supported_entities.through.objects.filter(project=OuterRef("pk"))))
        if value == "unfunded":
            library = queryset.exclude(status=ProjectStatus.RESERVE)
            return library.exclude(Exists(Funding.objects.filter(project=OuterRef("pk"))))
        return queryset


class PaymentFilter(ScopedFilterSet):
    region_path = "funding__project__region"
    paid_year = django_filters.NumberFilter(
        label="支付年度", field_name="paid_on__year", min_value=2013, max_value=2100
    )
    year = django_filters.NumberFilter(
        label="资金年度", field_name="funding__allocation__year", min_value=2013, max_value=2100
    )
    level = django_filters.ChoiceFilter(
        label="资金级次", field_name="funding__allocation__level", choices=FundLevel.choices, empty_label=ALL
    )
    within = _within()
    q = django_filters.CharFilter(label="项目编号或名称", method="filter_text")

    class Meta:
        model = Payment
        fields = ["paid_year", "year", "level", "within", "q"]

    def filter_text(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(funding__project__code__icontains=value) | Q(funding__project__name__icontains=value))


class AssetFilter(ScopedFilterSet):
    region_path = "project__region"
    year = django_filters.NumberFilter(label="项目年度", field_name="project__year", min_value=2013, max_value=2100)
    kind = django_filters.ChoiceFilter(label="资产类别", choices=AssetKind.choices, empty_label=ALL)
    within = _within()

    class Meta:
        model = Asset
        fields = ["year", "kind", "within"]


class VillageProfileFilter(ScopedFilterSet):
    region_path = "village"
    year = django_filters.NumberFilter(**YEAR)
    within = _within()
    was_poverty_village = django_filters.BooleanFilter(
        label="脱贫村", widget=forms.Select(choices=[("", ALL), ("true", "是"), ("false", "否")])
    )

    class Meta:
        model = VillageProfile
        fields = ["year", "within", "was_poverty_village"]


class CollectiveIncomeFilter(ScopedFilterSet):
    region_path = "village"
    year = django_filters.NumberFilter(**YEAR)
    quarter = django_filters.ChoiceFilter(
        label="截至季度", choices=[(q, f"第{q}季度") for q in range(1, 5)], empty_label=ALL
    )
    within = _within()
    review_status = django_filters.ChoiceFilter(label="审核状态", choices=ReviewStatus.choices, empty_label=ALL)

    class Meta:
        model = CollectiveIncome
        fields = ["year", "quarter", "within", "review_status"]
