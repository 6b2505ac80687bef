"""Reads: the exact queries behind each register page, always scoped to the user (404 outside)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from cooperatives.models import Binding, Entity, EntityKind
from funds.models import (
    Allocation,
    Asset,
    Beneficiary,
    CollectiveIncome,
    Funding,
    Payment,
    Project,
    ProjectStep,
    VillageProfile,
)
from funds.money import wan_text, yuan_text
from households.id_numbers import normalise_id_number
from households.models import Household, Member, MonitoringCase
from households.personal_data import may_view_personal_data
from regions.models import Level, Region, regions_visible_to

NOT_FOUND = "记录不存在或不在您的管辖范围内"
MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=16, decimal_places=2)
ZERO = Value(Decimal("0.00"), output_field=MONEY)


def get_or_404(rows: QuerySet[Any], pk: int) -> Any:
    try:
        return rows.get(pk=pk)
    except rows.model.DoesNotExist as error:
        raise Http404(NOT_FOUND) from error


def _sum_of(rows: QuerySet[Any], link: str, field: str = "amount") -> Coalesce:
    """Σ field of the rows whose `link` is the outer row, as a subquery (no join fan-out)."""
    total = rows.filter(**{link: OuterRef("pk")}).order_by().values(link).annotate(total=Sum(field)).values("total")
    return Coalesce(Subquery(total, output_field=MONEY), ZERO)


# 资金下达 -----------------------------------------------------------------------------------------


def with_remainder(allocations: QuerySet[Allocation]) -> QuerySet[Allocation]:
    """Each allocation with what its splits and funding lines use and what is left of it."""
    return allocations.annotate(
        split_total=_sum_of(Allocation.objects.all(), "parent"),
        funded_total=_sum_of(Funding.objects.all(), "allocation"),
    ).annotate(remainder=F("amount") - F("split_total") - F("funded_total"))


def allocation_list(*, user: Any) -> QuerySet[Allocation]:
    return with_remainder(
        Allocation.objects.visible_to(user)
        .select_related("region", "parent", "parent__region")
        .order_by("-year", "region__code", "level", "issued_on", "pk")
    )


def allocation_get(*, user: Any, pk: int) -> Allocation:
    return get_or_404(allocation_list(user=user), pk)


def remainder_text(allocation: Any) -> str:
    """What is left of an annotated allocation, in yuan and 万元."""
    return f"{yuan_text(allocation.remainder)} 元（{wan_text(allocation.remainder)} 万元）"


def allocation_splits(*, allocation: Allocation) -> QuerySet[Allocation]:
    return with_remainder(
        Allocation.objects.filter(parent=allocation).select_related("region").order_by("region__code")
    )


def allocations_for_project(*, user: Any, project: Project) -> QuerySet[Allocation]:
    """Allocations the user may draw on for this project: received by its county or its township."""
    ancestors = Region.objects.ancestors_of(project.region).filter(level__in=[Level.COUNTY, Level.TOWNSHIP])
    return with_remainder(
        Allocation.objects.visible_to(user)
        .filter(region__in=ancestors)
        .select_related("region")
        .order_by("-year", "level", "region__code", "issued_on")
    )


# 项目库 ------------------------------------------------------------------------------------------


def project_money(lines: QuerySet[Funding]) -> dict[str, Coalesce]:
    """What these funding lines give each project (funded) and what was paid on them (paid)."""
    return {
        "funded": _sum_of(lines, "project"),
        "paid": _sum_of(Payment.objects.filter(funding__in=lines.values("pk")), "funding__project"),
    }


def project_list(*, user: Any) -> QuerySet[Project]:
    """Projects with what they were given (安排), what was paid, and how many households they link."""
    return (
        Project.objects.visible_to(user)
        .select_related("region", "region__parent", "project_type", "project_type__parent")
        .annotate(
            **project_money(Funding.objects.all()),
            households=Coalesce(
                Subquery(
                    Beneficiary.objects.filter(project=OuterRef("pk"))
                    .order_by()
                    .values("project")
                    .annotate(n=Count("pk"))
                    .values("n")
                ),
                Value(0),
            ),
        )
        .order_by("-year", "region__code", "code")
    )


def project_get(*, user: Any, pk: int) -> Project:
    return get_or_404(project_list(user=user), pk)


def paid_of_fundings() -> Coalesce:
    return _sum_of(Payment.objects.all(), "funding")


def project_fundings(*, project: Project) -> QuerySet[Funding]:
    return (
        Funding.objects.filter(project=project)
        .select_related("allocation", "allocation__region")
        .annotate(paid=paid_of_fundings())
        .order_by("allocation__year", "allocation__level", "pk")
    )


def project_payments(*, project: Project) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(funding__project=project)
        .select_related("funding", "funding__allocation")
        .order_by("paid_on", "pk")
    )


def project_assets(*, project: Project) -> QuerySet[Asset]:
    return Asset.objects.filter(project=project).select_related("owner_village", "owner_household").order_by("pk")


def project_steps(*, project: Project) -> QuerySet[ProjectStep]:
    return ProjectStep.objects.filter(project=project).select_related("by").order_by("at", "pk")


def project_beneficiaries(*, user: Any, project: Project) -> tuple[list[Household], int]:
    """The linked households the user may see, and how many others (outside their area) are linked."""
    linked = Household.objects.filter(projects=project)
    visible = list(
        Household.objects.visible_to(user)
        .filter(projects=project)
        .select_related("village", "village__parent")
        .annotate(monitored=Exists(MonitoringCase.objects.open().filter(household=OuterRef("pk"))))
        .order_by("village__code", "number")
    )
    return visible, linked.count() - len(visible)


def household_find(*, user: Any, keys: list[str]) -> tuple[list[Household], list[str]]:
    """Households of the user's area by 户编号 or by any member's 身份证号 (only for roles that may
    see 身份证号), and the keys that found nothing — the same for no such household and one outside
    the area, so nothing is told about households the user may not see."""
    keys = list(dict.fromkeys(key.strip() for key in keys if key.strip()))
    households = Household.objects.visible_to(user).select_related("village")
    found: dict[str, Household] = {h.number: h for h in households.filter(number__in=keys)}
    missing = [key for key in keys if key not in found]
    if missing and may_view_personal_data(user):
        numbers = {normalise_id_number(key): key for key in missing}
        members = (
            Member.objects.filter(id_number__in=list(numbers), household__in=households)
            .select_related("household", "household__village")
            .order_by("id_number", "-is_active")
        )
        for member in members:
            key = numbers[member.id_number]
            found.setdefault(key, member.household)
        missing = [key for key in keys if key not in found]
    return list({h.pk: h for h in found.values()}.values()), missing


def entities_for_projects(*, user: Any) -> QuerySet[Entity]:
    """双绑 entities the user may choose: enterprises that bind a cooperative, and bound cooperatives."""
    bound = Q(pk__in=Binding.objects.values("enterprise")) | Q(pk__in=Binding.objects.values("cooperative"))
    return (
        Entity.objects.visible_to(user)
        .filter(bound, kind__in=[EntityKind.ENTERPRISE, EntityKind.COOPERATIVE])
        .select_related("region")
        .order_by("kind", "name")
    )


# 资金安排 and 支付 --------------------------------------------------------------------------------


def funding_get(*, user: Any, pk: int) -> Funding:
    rows = (
        Funding.objects.visible_to(user)
        .select_related("project", "project__region", "project__project_type", "allocation", "allocation__region")
        .annotate(paid=_sum_of(Payment.objects.all(), "funding"))
    )
    return get_or_404(rows, pk)


def funding_payments(*, funding: Funding) -> QuerySet[Payment]:
    return Payment.objects.filter(funding=funding).order_by("paid_on", "pk")


def payment_list(*, user: Any) -> QuerySet[Payment]:
    return (
        Payment.objects.visible_to(user)
        .select_related(
            "funding",
            "funding__project",
            "funding__project__region",
            "funding__project__region__parent",
            "funding__allocation",
        )
        .order_by("-paid_on", "-pk")
    )


def payment_get(*, user: Any, pk: int) -> Payment:
    return get_or_404(payment_list(user=user), pk)


# 项目资产 ----------------------------------------------------------------------------------------


def asset_list(*, user: Any) -> QuerySet[Asset]:
    return (
        Asset.objects.visible_to(user)
        .select_related(
            "project",
            "project__region",
            "project__region__parent",
            "owner_village",
            "owner_village__parent",
            "owner_household",
        )
        .order_by("-project__year", "project__code", "pk")
    )


def asset_get(*, user: Any, pk: int) -> Asset:
    return get_or_404(asset_list(user=user), pk)


# 村情况 and 村集体经济收入 ------------------------------------------------------------------------


def village_profile_list(*, user: Any) -> QuerySet[VillageProfile]:
    return (
        VillageProfile.objects.visible_to(user)
        .select_related("village", "village__parent")
        .order_by("-year", "village__code")
    )


def village_get(*, user: Any, pk: int) -> Region:
    return get_or_404(regions_visible_to(user).filter(level=Level.VILLAGE).select_related("parent"), pk)


def collective_income_list(*, user: Any) -> QuerySet[CollectiveIncome]:
    return (
        CollectiveIncome.objects.visible_to(user)
        .select_related("village", "village__parent")
        .order_by("-year", "-quarter", "village__code")
    )


def collective_income_get(*, user: Any, pk: int) -> CollectiveIncome:
    return get_or_404(collective_income_list(user=user), pk)
