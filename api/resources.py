"""The resource registry: name → model, the rows a client sees, serializer, natural key, filters.

Every endpoint of /api/v1/ is built from this table, and the change feed and the writes plug in
by the same names. A resource's rows come from the same `visible_to(user)` scoping the pages use,
with the client acting as a user of its region (api.principal), so an id outside the region is 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Prefetch, Q, QuerySet
from rest_framework import serializers as drf_serializers

from api import serializers
from assessment.models import Alert, IndicatorValue, Target
from assessment.selectors import policy_scope
from cooperatives.models import Binding, Entity, Membership
from funds.models import Allocation, CollectiveIncome, Funding, Payment, Project
from households.models import Household, IncomeRecord, Member, MonitoringCase, MonitoringThreshold
from industries.models import Industry
from regions.models import Region, regions_visible_to


@dataclass(frozen=True)
class Resource:
    name: str  # the URL segment and the name in a client's permissions
    title: str  # Chinese, for the documentation and the client pages
    model: type[models.Model]
    rows: Callable[[Any], QuerySet[Any]]  # the rows a (user-like) principal may see, ready to serialize
    serializer: type[drf_serializers.ModelSerializer]
    natural_key: tuple[str, ...]  # how the province names a row (upserts, reconciliation)
    region_code: str  # path to the region code the `region` filter matches by prefix
    has_quarter: bool = False  # `year` and `quarter` columns: the `quarter` filter ("2025Q3")
    updated_field: str | None = None  # a datetime the `updated_since` filter reads
    # Rows set on the regions above the client's are visible too (inherited thresholds and targets, the
    # regions themselves, a county's 龙头企业): their changes reach the client's feed.
    inherited: bool = False

    @property
    def versioned(self) -> bool:
        return any(field.name == "version" for field in self.model._meta.concrete_fields)

    @property
    def feed_name(self) -> str:
        """The resource's name in the change log (changes.tracked)."""
        return self.name.replace("-", "_")


def _regions(user: Any) -> QuerySet[Region]:
    """The client's subtree and the regions above it (public names and codes), so that every region a
    visible row names — a county's parent, the province of an inherited threshold — can be read."""
    visible = regions_visible_to(user)
    if user.is_authenticated and user.scope_prefix():
        visible = visible | Region.objects.ancestors_of(user.region).order_by()
    return visible.select_related("parent")


def _households(user: Any) -> QuerySet[Household]:
    members = Prefetch("members", queryset=Member.objects.in_family_order())
    return Household.objects.visible_to(user).select_related("village").prefetch_related(members)


def _thresholds(user: Any) -> QuerySet[MonitoringThreshold]:
    """Thresholds that apply in the client's region: set on it, above it (inherited) or below it."""
    prefix = user.scope_prefix() if user.is_authenticated else None
    if prefix is None:
        return MonitoringThreshold.objects.none()
    rows = MonitoringThreshold.objects.select_related("region")
    if prefix == "":
        return rows
    return rows.filter(Q(region__code__startswith=prefix) | Q(region__in=Region.objects.ancestors_of(user.region)))


def _targets(user: Any) -> QuerySet[Target]:
    """As the targets page: set on the client's region, inherited from above, or set below it."""
    if user.scope_prefix() is None:
        return Target.objects.none()
    return Target.objects.filter(policy_scope(user=user)).select_related("region")


RESOURCES: dict[str, Resource] = {
    resource.name: resource
    for resource in [
        Resource(
            name="regions",
            title="行政区划",
            model=Region,
            rows=_regions,
            serializer=serializers.RegionSerializer,
            natural_key=("code",),
            region_code="code",
            inherited=True,
        ),
        Resource(
            name="households",
            title="农户（含家庭成员）",
            model=Household,
            rows=_households,
            serializer=serializers.HouseholdSerializer,
            natural_key=("number",),
            region_code="village__code",
            updated_field="updated_at",
        ),
        Resource(
            name="monitoring-cases",
            title="监测对象",
            model=MonitoringCase,
            rows=lambda user: (
                MonitoringCase.objects.visible_to(user)
                .select_related("household")
                .prefetch_related("risk_types", "measures")
            ),
            serializer=serializers.MonitoringCaseSerializer,
            natural_key=("household", "identified_month"),
            region_code="household__village__code",
        ),
        Resource(
            name="income-records",
            title="季度收入",
            model=IncomeRecord,
            rows=lambda user: IncomeRecord.objects.visible_to(user).select_related("household"),
            serializer=serializers.IncomeRecordSerializer,
            natural_key=("household", "year", "quarter"),
            region_code="household__village__code",
            has_quarter=True,
            updated_field="entered_at",
        ),
        Resource(
            name="thresholds",
            title="防返贫监测标准",
            model=MonitoringThreshold,
            rows=_thresholds,
            serializer=serializers.ThresholdSerializer,
            natural_key=("region", "year"),
            region_code="region__code",
            inherited=True,
        ),
        Resource(
            name="targets",
            title="考核目标",
            model=Target,
            rows=_targets,
            serializer=serializers.TargetSerializer,
            natural_key=("indicator", "region", "year", "quarter"),
            region_code="region__code",
            updated_field="updated_at",
            inherited=True,
        ),
        Resource(
            name="indicator-values",
            title="指标值",
            model=IndicatorValue,
            rows=lambda user: IndicatorValue.objects.visible_to(user).select_related("region", "target_region"),
            serializer=serializers.IndicatorValueSerializer,
            natural_key=("region", "year", "quarter", "indicator"),
            region_code="region__code",
            has_quarter=True,
            updated_field="computed_at",
        ),
        Resource(
            name="industries",
            title="特色产业",
            model=Industry,
            rows=lambda user: Industry.objects.visible_to(user).select_related("county", "category", "unit"),
            serializer=serializers.IndustrySerializer,
            natural_key=("county", "name"),
            region_code="county__code",
        ),
        Resource(
            name="entities",
            title="经营主体",
            model=Entity,
            rows=lambda user: Entity.objects.visible_to(user).select_related("region").prefetch_related("industries"),
            serializer=serializers.EntitySerializer,
            natural_key=("credit_code",),
            region_code="region__code",
            inherited=True,
        ),
        Resource(
            name="bindings",
            title="企业绑定合作社",
            model=Binding,
            rows=lambda user: (
                Binding.objects.visible_to(user)
                .select_related("enterprise", "cooperative")
                .prefetch_related("linkage_types")
            ),
            serializer=serializers.BindingSerializer,
            natural_key=("enterprise", "cooperative", "started_on"),
            region_code="cooperative__region__code",
        ),
        Resource(
            name="memberships",
            title="合作社绑定农户",
            model=Membership,
            rows=lambda user: Membership.objects.visible_to(user).select_related(
                "cooperative", "household", "joining_method"
            ),
            serializer=serializers.MembershipSerializer,
            natural_key=("cooperative", "household", "joined_on"),
            region_code="household__village__code",
        ),
        Resource(
            name="allocations",
            title="衔接资金下达",
            model=Allocation,
            rows=lambda user: Allocation.objects.visible_to(user).select_related("region"),
            serializer=serializers.AllocationSerializer,
            natural_key=("region", "year", "level", "document_number"),
            region_code="region__code",
        ),
        Resource(
            name="projects",
            title="项目库",
            model=Project,
            rows=lambda user: (
                Project.objects.visible_to(user)
                .select_related("region", "project_type")
                .prefetch_related("beneficiaries", "supported_entities")
            ),
            serializer=serializers.ProjectSerializer,
            natural_key=("code",),
            region_code="region__code",
        ),
        Resource(
            name="fundings",
            title="资金安排",
            model=Funding,
            rows=lambda user: Funding.objects.visible_to(user).select_related("project", "allocation"),
            serializer=serializers.FundingSerializer,
            natural_key=("project", "allocation"),
            region_code="project__region__code",
        ),
        Resource(
            name="payments",
            title="资金支付",
            model=Payment,
            rows=lambda user: Payment.objects.visible_to(user).select_related("funding", "funding__project"),
            serializer=serializers.PaymentSerializer,
            natural_key=("funding", "paid_on", "voucher"),
            region_code="funding__project__region__code",
        ),
        Resource(
            name="collective-income",
            title="村集体经济收入",
            model=CollectiveIncome,
            rows=lambda user: CollectiveIncome.objects.visible_to(user).select_related("village"),
            serializer=serializers.CollectiveIncomeSerializer,
            natural_key=("village", "year", "quarter"),
            region_code="village__code",
            has_quarter=True,
        ),
        Resource(
            name="alerts",
            title="预警",
            model=Alert,
            rows=lambda user: Alert.objects.visible_to(user).select_related("household"),
            serializer=serializers.AlertSerializer,
            natural_key=("household", "rule", "year", "quarter"),
            region_code="household__village__code",
            has_quarter=True,
            updated_field="updated_at",
        ),
    ]
}


def resource_get(name: str) -> Resource | None:
    return RESOURCES.get(name)
