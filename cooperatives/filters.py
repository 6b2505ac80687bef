"""The list pages' filters (django-filter) over the selectors' scoped querysets."""

from __future__ import annotations

from datetime import date
from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from cooperatives.forms import RegionChoiceField
from cooperatives.models import (
    Binding,
    Entity,
    EntityKind,
    EntityLevel,
    EntityStatus,
    JoiningMethod,
    Membership,
    RichLeader,
    active_on,
)
from cooperatives.selectors import entity_regions_for_filter
from households.id_numbers import normalise_id_number
from households.models import Member, Relation
from households.personal_data import may_view_personal_data
from industries.models import Industry
from regions import form_messages

ACTIVE_CHOICES = [("active", _("在绑/在社")), ("ended", _("已结束"))]


class RegionFilter(django_filters.ModelChoiceFilter):
    """A township or village: the rows registered there or below it (by code prefix)."""

    field_class = RegionChoiceField

    def __init__(self, *args: Any, path: str, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("区划"))
        kwargs.setdefault("empty_label", _("全部区划"))
        super().__init__(*args, method=self.in_region, **kwargs)
        self.path = path

    def in_region(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        if value is None:
            return queryset
        return queryset.filter(**{f"{self.path}__code__startswith": value.prefix})


class StyledFilterSet(django_filters.FilterSet):
    """Bootstrap classes on every filter widget."""

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        form_messages.apply_domain_messages(self.form.fields)
        for name, field in self.form.fields.items():
            css = "form-select" if hasattr(field, "choices") else "form-control"
            field.widget.attrs.setdefault("class", css)
            field.widget.attrs.setdefault("id", f"filter-{name}")


class EntityFilter(StyledFilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="search")
    kind = django_filters.ChoiceFilter(label=_("主体类型"), choices=EntityKind.choices, empty_label=_("全部类型"))
    level = django_filters.ChoiceFilter(label=_("级别"), choices=EntityLevel.choices, empty_label=_("全部级别"))
    region = RegionFilter(queryset=None, path="region", label=_("注册地"))
    status = django_filters.ChoiceFilter(label=_("状态"), choices=EntityStatus.choices, empty_label=_("全部状态"))
    industry = django_filters.ModelChoiceFilter(
        label=_("经营产业"), queryset=None, field_name="industries", empty_label=_("全部产业"), distinct=True
    )

    class Meta:
        model = Entity
        fields: list[str] = []

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.filters["region"].queryset = entity_regions_for_filter(user=user)
        self.form.fields["region"].queryset = entity_regions_for_filter(user=user)
        industries = Industry.objects.visible_to(user).order_by("name")
        self.filters["industry"].queryset = industries
        self.form.fields["industry"].queryset = industries
        self.form.fields["q"].widget.attrs["placeholder"] = "名称 / 统一社会信用代码"

    def search(self, queryset: QuerySet[Entity], name: str, value: str) -> QuerySet[Entity]:
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(Q(name__contains=text) | Q(credit_code__startswith=text.upper().replace(" ", "")))


def _bound_on(day: date) -> Q:
    """Bindings in force on the day with both their entities (Binding.is_active_on, in SQL)."""
    condition = active_on(day, start="started_on")
    for side in ("enterprise", "cooperative"):
        condition &= active_on(day, end="cancelled_on", prefix=f"{side}__") & ~Q(**{f"{side}__founded_on__gt": day})
    return condition


class BindingFilter(StyledFilterSet):
    enterprise = django_filters.ModelChoiceFilter(label=_("龙头企业"), queryset=None, empty_label=_("全部龙头企业"))
    region = RegionFilter(queryset=None, path="cooperative__region", label=_("合作社所在地"))
    status = django_filters.ChoiceFilter(
        label=_("状态"), choices=ACTIVE_CHOICES, empty_label=_("全部"), method="by_status"
    )
    q = django_filters.CharFilter(label=_("搜索"), method="search")

    class Meta:
        model = Binding
        fields: list[str] = []

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        enterprises = Entity.objects.visible_to(user).filter(kind=EntityKind.ENTERPRISE).order_by("name")
        self.filters["enterprise"].queryset = enterprises
        self.form.fields["enterprise"].queryset = enterprises
        self.form.fields["region"].queryset = entity_regions_for_filter(user=user)
        self.filters["region"].queryset = entity_regions_for_filter(user=user)
        self.form.fields["q"].widget.attrs["placeholder"] = "合作社名称 / 合同编号"

    def by_status(self, queryset: QuerySet[Binding], name: str, value: str) -> QuerySet[Binding]:
        today = date.today()
        if value == "active":
            return queryset.filter(_bound_on(today))
        if value == "ended":
            return queryset.exclude(_bound_on(today))
        return queryset

    def search(self, queryset: QuerySet[Binding], name: str, value: str) -> QuerySet[Binding]:
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(Q(cooperative__name__contains=text) | Q(contract_number__startswith=text))


class MembershipFilter(StyledFilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="search")
    cooperative = django_filters.ModelChoiceFilter(label=_("合作社"), queryset=None, empty_label=_("全部合作社"))
    region = RegionFilter(queryset=None, path="household__village", label=_("农户所在地"))
    joining_method = django_filters.ModelChoiceFilter(
        label=_("入社方式"), queryset=JoiningMethod.objects.all(), empty_label=_("全部入社方式")
    )
    status = django_filters.ChoiceFilter(
        label=_("状态"), choices=ACTIVE_CHOICES, empty_label=_("全部"), method="by_status"
    )

    class Meta:
        model = Membership
        fields: list[str] = []

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        cooperatives = Entity.objects.visible_to(user).filter(kind=EntityKind.COOPERATIVE).order_by("name")
        self.filters["cooperative"].queryset = cooperatives
        self.form.fields["cooperative"].queryset = cooperatives
        self.form.fields["region"].queryset = entity_regions_for_filter(user=user)
        self.filters["region"].queryset = entity_regions_for_filter(user=user)
        self.form.fields["q"].widget.attrs["placeholder"] = "户编号 / 户主姓名"

    def by_status(self, queryset: QuerySet[Membership], name: str, value: str) -> QuerySet[Membership]:
        today = date.today()
        condition = active_on(today, start="joined_on", end="left_on")
        if value == "active":
            return queryset.filter(condition)
        if value == "ended":
            return queryset.exclude(condition)
        return queryset

    def search(self, queryset: QuerySet[Membership], name: str, value: str) -> QuerySet[Membership]:
        text = value.strip()
        if not text:
            return queryset
        members = Member.objects.filter(household=OuterRef("household")).order_by()
        condition: Q = Q(household__number__startswith=text) | Q(
            Exists(members.filter(relation=Relation.HEAD, name__startswith=text))
        )
        # Matching a 身份证号 would tell a masked role whether a number is registered.
        if may_view_personal_data(self.user) and text[:1].isdigit():
            condition |= Q(Exists(members.filter(id_number__startswith=normalise_id_number(text))))
        return queryset.filter(condition)


class RichLeaderFilter(StyledFilterSet):
    q = django_filters.CharFilter(label=_("姓名"), field_name="name", lookup_expr="startswith")
    region = RegionFilter(queryset=None, path="village", label=_("所在地"))
    recognised_year = django_filters.NumberFilter(label=_("认定年度"))

    class Meta:
        model = RichLeader
        fields: list[str] = []

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.form.fields["region"].queryset = entity_regions_for_filter(user=user)
        self.filters["region"].queryset = entity_regions_for_filter(user=user)
