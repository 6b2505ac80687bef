"""双绑 coverage on a date: who is eligible, who is in a cooperative, who is in a bound one.

One vocabulary for the coverage indicators (cooperatives/indicators.py), their drill-down lists and
the township's to-do page (coverage_views.py), so the page's counts and the dashboard's agree.

In force on a day d (DOMAIN §4, issue 10 §3): a membership joined on or before d and not left by
then; a cooperative or enterprise founded by d (or without a founding date) and not cancelled by
then; a binding started on or before d and not ended by then. A household is *covered* when one of
its memberships in force is in a cooperative in force that has a binding in force to an enterprise
in force; being in two such cooperatives changes nothing.

*Eligible* (001 §(三): 有产业发展意愿和条件的脱贫户及监测对象): registered on d, a 脱贫户 or a
household with a 监测 case open on d, with at least one active member whose 劳动技能 is 技能劳动力,
普通劳动力 or 弱劳动力或半劳动力 (households.models.LABOUR_CAPABLE). The quarterly facts hold the
same three conditions for a quarter's last day (`ELIGIBLE_FACT`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from cooperatives.models import Binding, Entity, EntityKind, Membership, active_on
from households.models import (
    LABOUR_CAPABLE,
    Household,
    HouseholdStatus,
    HouseholdType,
    Member,
    MonitoringCase,
    Relation,
)
from regions.models import Region, regions_visible_to

# The facts' columns for the same rule at a quarter's end (households.facts.HouseholdQuarterFact).
ELIGIBLE_FACT = (Q(lifted=True) | Q(monitored=True)) & Q(labour=True)


def entity_in_force(day: date, prefix: str = "") -> Q:
    """An entity founded by `day` (or of unknown founding date) and not cancelled by then."""
    founded = Q(**{f"{prefix}founded_on__isnull": True}) | Q(**{f"{prefix}founded_on__lte": day})
    return active_on(day, end="cancelled_on", prefix=prefix) & founded


def bindings_in_force(day: date) -> QuerySet[Binding]:
    """Bindings in force on `day` to an enterprise in force on `day`."""
    return (
        Binding.objects.active_on(day)
        .filter(enterprise__kind=EntityKind.ENTERPRISE)
        .filter(entity_in_force(day, "enterprise__"))
    )


def bound_cooperatives(day: date) -> QuerySet[Entity]:
    """Cooperatives in force on `day` with a binding in force to an enterprise in force."""
    bindings = bindings_in_force(day).filter(cooperative=OuterRef("pk"))
    return Entity.objects.filter(kind=EntityKind.COOPERATIVE).filter(entity_in_force(day)).filter(Exists(bindings))


def memberships_in_force(day: date, *, bound: bool = False) -> QuerySet[Membership]:
    """Memberships in force on `day` in a cooperative in force; with `bound`, only in cooperatives
    that have a binding in force on `day` (双绑)."""
    memberships = (
        Membership.objects.active_on(day)
        .filter(cooperative__kind=EntityKind.COOPERATIVE)
        .filter(entity_in_force(day, "cooperative__"))
    )
    if bound:
        memberships = memberships.filter(Exists(bindings_in_force(day).filter(cooperative=OuterRef("cooperative_id"))))
    return memberships


def is_member(day: date, *, bound: bool, household: str = "household_id") -> Exists:
    """Whether the row's household (the outer column `household`) is a member on `day`."""
    return Exists(memberships_in_force(day, bound=bound).filter(household_id=OuterRef(household)).order_by())


def registered_on(day: date) -> Q:
    """Households on the register on `day`: active, or cancelled after it (as the facts count them)."""
    return Q(status=HouseholdStatus.ACTIVE) | Q(cancelled_on__gt=day)


def open_case_on(day: date) -> QuerySet[MonitoringCase]:
    """Monitoring cases of the outer household identified by `day` and not eliminated by then."""
    return MonitoringCase.objects.filter(household=OuterRef("pk"), identified_month__lte=day).filter(
        Q(eliminated_month__isnull=True) | Q(eliminated_month__gt=day)
    )


def eligible_on(day: date) -> Q:
    """Households eligible for 双绑 on `day`, read from the registers (not the quarterly facts)."""
    labour = Member.objects.filter(household=OuterRef("pk"), is_active=True, labour__in=LABOUR_CAPABLE)
    return (
        registered_on(day) & (Q(household_type=HouseholdType.LIFTED) | Q(Exists(open_case_on(day)))) & Q(Exists(labour))
    )


# --- the township's to-do list ------------------------------------------------------------------


def coverage_region(*, user: Any, code: str | None) -> Region | None:
    """The region a to-do list is asked for: the user's own by default, else one inside their
    scope; 404 for any other code. None for a user who sees everything and asked for no region."""
    visible = regions_visible_to(user)
    if code:
        region = visible.filter(code=code.strip()).first()
        if region is None:
            raise Http404("区划不存在或不在您的管辖范围内")
        return region
    if user.region_id is not None:
        return visible.filter(pk=user.region_id).first()
    if user.scope_prefix() == "":
        return None
    raise Http404("您的账号没有所属区划")


def _eligible_in(*, user: Any, region: Region | None, day: date) -> QuerySet[Household]:
    households = Household.objects.visible_to(user).filter(eligible_on(day))
    if region is not None:
        households = households.filter(village__code__startswith=region.prefix)
    return households


def uncovered_households(*, user: Any, region: Region | None, day: date) -> QuerySet[Household]:
    """Eligible households in the user's scope (and the region) not covered on `day`, by village."""
    return (
        _eligible_in(user=user, region=region, day=day)
        .exclude(is_member(day, bound=True, household="pk"))
        .select_related("village", "village__parent")
        .order_by("village__code", "number")
    )


@dataclass
class VillageCoverage:
    code: str
    name: str
    township: str
    eligible: int
    covered: int

    @property
    def uncovered(self) -> int:
        return self.eligible - self.covered


def coverage_by_village(*, user: Any, region: Region | None, day: date) -> list[VillageCoverage]:
    """Every village with eligible households in the user's scope and the region: eligible and
    covered counts on `day` (one query), villages with the most households left first."""
    rows = (
        _eligible_in(user=user, region=region, day=day)
        .order_by()
        .values("village__code", "village__name", "village__parent__name")
        .annotate(eligible=Count("pk"), covered=Count("pk", filter=Q(is_member(day, bound=True, household="pk"))))
    )
    found = [
        VillageCoverage(
            code=row["village__code"],
            name=row["village__name"],
            township=row["village__parent__name"] or "",
            eligible=row["eligible"],
            covered=row["covered"],
        )
        for row in rows
    ]
    return sorted(found, key=lambda village: (-village.uncovered, village.code))


@dataclass
class GapRow:
    household: Household
    head_name: str
    labour: int
    kinds: list[str]
    cooperatives: list[str]  # cooperatives the household is in on the day (none of them bound)


def gap_rows(*, households: list[Household], day: date) -> list[GapRow]:
    """What the list shows for one page of households: the head, labour, 脱贫户/监测, and the
    cooperatives it already belongs to (then the cooperative needs an enterprise, not the household
    a cooperative). A fixed number of queries per page."""
    ids = [household.pk for household in households]
    heads = dict(
        Member.objects.filter(household_id__in=ids, relation=Relation.HEAD, is_active=True).values_list(
            "household_id", "name"
        )
    )
    labour = dict(
        Member.objects.filter(household_id__in=ids, is_active=True, labour__in=LABOUR_CAPABLE)
        .order_by()
        .values("household_id")
        .annotate(count=Count("pk"))
        .values_list("household_id", "count")
    )
    monitored = set(
        MonitoringCase.objects.filter(household_id__in=ids, identified_month__lte=day)
        .filter(Q(eliminated_month__isnull=True) | Q(eliminated_month__gt=day))
        .values_list("household_id", flat=True)
    )
    cooperatives: dict[int, list[str]] = {}
    for household_id, name in (
        memberships_in_force(day)
        .filter(household_id__in=ids)
        .order_by("cooperative__name")
        .values_list("household_id", "cooperative__name")
    ):
        cooperatives.setdefault(household_id, []).append(name)
    rows = []
    for household in households:
        kinds = [] if household.household_type != HouseholdType.LIFTED else ["脱贫户"]
        if household.pk in monitored:
            kinds.append("监测对象")
        rows.append(
            GapRow(
                household=household,
                head_name=heads.get(household.pk, ""),
                labour=labour.get(household.pk, 0),
                kinds=kinds,
                cooperatives=cooperatives.get(household.pk, []),
            )
        )
    return rows
