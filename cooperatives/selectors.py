"""Reads: the exact queries behind each cooperatives screen, always scoped to the user.

A user sees an entity registered in their area (or above it), or one with member households in
it; of its members they see only the households in their own area, and the others are counted,
never listed (`hidden_households`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from cooperatives.models import Binding, Earning, Entity, EntityKind, Membership, RichLeader
from households import personal_data
from households.id_numbers import normalise_id_number
from households.models import (
    LABOUR_CAPABLE,
    Household,
    HouseholdStatus,
    HouseholdType,
    Member,
    MonitoringCase,
    Relation,
)
from households.selectors import Change, HistorySource, history_changes
from regions.models import Level, Region, regions_visible_to

# Pages -------------------------------------------------------------------------------------------


def eligible_households(households: QuerySet[Household]) -> QuerySet[Household]:
    """The households 双绑 is meant to reach (issue 10 §4): active 脱贫户 or households with an open
    监测 case, with at least one member who can work (技能, 普通, 弱劳动力或半劳动力)."""
    labour = Member.objects.filter(household=OuterRef("pk"), is_active=True, labour__in=LABOUR_CAPABLE)
    open_case = MonitoringCase.objects.open().filter(household=OuterRef("pk"))
    return households.filter(status=HouseholdStatus.ACTIVE).filter(
        Q(household_type=HouseholdType.LIFTED) | Exists(open_case), Exists(labour)
    )


def entity_get(*, user: Any, pk: int) -> Entity:
    """An entity the user may see, or 404 — never another township's cooperative."""
    try:
        return Entity.objects.visible_to(user).select_related("region", "region__parent").get(pk=pk)
    except Entity.DoesNotExist as error:
        raise Http404("经营主体不存在或不在您的管辖范围内") from error


def entity_managed_get(*, user: Any, pk: int) -> Entity:
    """An entity the user may change: 404 when they cannot see it, 403 when it is registered elsewhere."""
    entity = entity_get(user=user, pk=pk)
    if not Entity.objects.managed_by(user).filter(pk=pk).exists():
        raise PermissionDenied("该经营主体不在您的辖区登记，只能查看")
    return entity


def entity_list(*, user: Any) -> QuerySet[Entity]:
    """Entities the user may see, with their region, industries and active members in the user's area."""
    prefix = user.scope_prefix() or ""
    today = date.today()
    members = (
        Membership.objects.active_on(today)
        .filter(cooperative=OuterRef("pk"), household__village__code__startswith=prefix)
        .order_by()
        .values("cooperative")
        .annotate(n=Count("household", distinct=True))
        .values("n")
    )
    return (
        Entity.objects.visible_to(user)
        .select_related("region", "region__parent")
        .prefetch_related("industries")
        .annotate(members_in_scope=Subquery(members[:1]))
        .order_by("kind", "region__code", "name")
    )


def entity_regions_for_filter(*, user: Any) -> QuerySet[Region]:
    """Townships and villages of the user's area (the filter of where entities are registered)."""
    return (
        regions_visible_to(user)
        .filter(level__gte=Level.COUNTY, level__lte=Level.VILLAGE)
        .select_related("parent")
        .order_by("code")
    )


@dataclass
class BoundCooperative:
    """One binding of an enterprise page: the cooperative, whether it is in force, members here and elsewhere."""

    binding: Binding
    is_active: bool
    members_in_scope: int
    members_elsewhere: int


@dataclass
class EnterprisePage:
    bound: list[BoundCooperative]
    hidden_cooperatives: int  # bound cooperatives the user cannot see: counted, never named
    memberships: QuerySet[Membership]  # active members (in the user's area) of its actively bound cooperatives
    hidden_households: int
    covered: int  # eligible households of the user's area that this enterprise's bindings reach today
    eligible: int  # all eligible households of the user's area


def _in_scope(user: Any, path: str = "household__village") -> Q:
    prefix = user.scope_prefix()
    if prefix is None:
        return Q(pk__in=[])
    return Q(**{f"{path}__code__startswith": prefix})


def enterprise_page(*, user: Any, enterprise: Entity, today: date) -> EnterprisePage:
    """The cooperatives an enterprise binds, their members in the user's area, and the coverage they bring."""
    visible = Entity.objects.visible_to(user)
    bindings = (
        Binding.objects.filter(enterprise=enterprise)
        .select_related("cooperative", "cooperative__region", "cooperative__region__parent")
        .prefetch_related("linkage_types")
        .order_by("-started_on", "cooperative__name")
    )
    shown = list(bindings.filter(cooperative__in=visible))
    hidden_cooperatives = bindings.exclude(cooperative__in=visible).order_by().values("cooperative").distinct().count()
    active_ids = set(Binding.objects.active_on(today).filter(enterprise=enterprise).values_list("pk", flat=True))
    in_scope, elsewhere = _member_counts(user, [binding.cooperative_id for binding in shown], today)
    bound = [
        BoundCooperative(
            binding=binding,
            is_active=binding.pk in active_ids and binding.cooperative.is_active_on(today),
            members_in_scope=in_scope.get(binding.cooperative_id, 0),
            members_elsewhere=elsewhere.get(binding.cooperative_id, 0),
        )
        for binding in shown
    ]
    bound_now = Binding.objects.active_on(today).filter(
        enterprise=enterprise, cooperative__in=Entity.objects.active_on(today)
    )
    if not enterprise.is_active_on(today):
        bound_now = bound_now.none()
    current = Membership.objects.active_on(today).filter(cooperative__in=bound_now.values("cooperative"))
    households = Household.objects.visible_to(user)
    eligible = eligible_households(households)
    covered = eligible.filter(Exists(current.filter(household=OuterRef("pk")))).count()
    return EnterprisePage(
        bound=bound,
        hidden_cooperatives=hidden_cooperatives,
        memberships=membership_rows(current.filter(_in_scope(user)).order_by("cooperative__name", "household__number")),
        hidden_households=hidden_households(current, user),
        covered=covered,
        eligible=eligible.count(),
    )


def _member_counts(user: Any, cooperative_ids: list[int], today: date) -> tuple[dict[int, int], dict[int, int]]:
    """Households currently members of each cooperative, inside the user's area and outside it."""
    scope = _in_scope(user)
    rows = (
        Membership.objects.active_on(today)
        .filter(cooperative_id__in=cooperative_ids)
        .order_by()
        .values("cooperative_id")
        .annotate(
            inside=Count("household", filter=scope, distinct=True),
            outside=Count("household", filter=~scope, distinct=True),
        )
    )
    return (
        {row["cooperative_id"]: row["inside"] for row in rows},
        {row["cooperative_id"]: row["outside"] for row in rows},
    )


def hidden_households(memberships: QuerySet[Membership], user: Any) -> int:
    """How many households of these memberships lie outside the user's area (they are never listed)."""
    return memberships.exclude(_in_scope(user)).order_by().values("household").distinct().count()


def membership_rows(memberships: QuerySet[Membership]) -> QuerySet[Membership]:
    """Memberships with what a member list shows: household, village, head, open category, eligibility."""
    heads = Member.objects.filter(household=OuterRef("household"), relation=Relation.HEAD, is_active=True).order_by()
    open_cases = MonitoringCase.objects.open().filter(household=OuterRef("household")).order_by()
    eligible = eligible_households(Household.objects.filter(pk=OuterRef("household")))
    return memberships.select_related(
        "household", "household__village", "household__village__parent", "cooperative", "joining_method"
    ).annotate(
        head_name=Subquery(heads.values("name")[:1]),
        head_id_number=Subquery(heads.values("id_number")[:1]),
        open_category=Subquery(open_cases.values("category")[:1]),
        is_eligible=Exists(eligible),
    )


@dataclass
class CooperativePage:
    bindings: list[Binding]
    visible_enterprises: set[int]
    bound_today: bool
    memberships: QuerySet[Membership]  # every membership (current and past) of households in the user's area
    active_in_scope: int
    eligible_in_scope: int
    hidden_households: int


def cooperative_page(*, user: Any, cooperative: Entity, today: date) -> CooperativePage:
    """A cooperative's bindings to enterprises and its member households in the user's area."""
    bindings = list(
        Binding.objects.filter(cooperative=cooperative)
        .select_related("enterprise")
        .prefetch_related("linkage_types")
        .order_by("-started_on")
    )
    visible_enterprises = set(
        Entity.objects.visible_to(user)
        .filter(pk__in=[binding.enterprise_id for binding in bindings])
        .values_list("pk", flat=True)
    )
    bound_today = (
        cooperative.is_active_on(today)
        and Binding.objects.active_on(today)
        .filter(cooperative=cooperative, enterprise__in=Entity.objects.active_on(today))
        .exists()
    )
    memberships = Membership.objects.filter(cooperative=cooperative)
    current = memberships.active_on(today)
    in_scope = current.filter(_in_scope(user))
    counts = in_scope.aggregate(
        active=Count("household", distinct=True),
        eligible=Count(
            "household",
            distinct=True,
            filter=Q(household__in=eligible_households(Household.objects.all())),
        ),
    )
    return CooperativePage(
        bindings=bindings,
        visible_enterprises=visible_enterprises,
        bound_today=bound_today,
        memberships=membership_rows(memberships.filter(_in_scope(user)).order_by("left_on", "household__number")),
        active_in_scope=counts["active"],
        eligible_in_scope=counts["eligible"],
        hidden_households=hidden_households(current, user),
    )


def entity_history(*, user: Any, entity: Entity, limit: int = 100) -> list[Change]:
    """Changes to the entity, its bindings with cooperatives the user sees, and its members in the user's area."""
    visible = Entity.objects.visible_to(user)
    names = dict(
        Entity.objects.filter(Q(bindings__enterprise=entity) | Q(bound_cooperatives__cooperative=entity))
        .values_list("pk", "name")
        .distinct()
    )
    bindings = Q(enterprise_id=entity.pk) | Q(cooperative_id=entity.pk)
    sources: list[HistorySource] = [
        (Entity.history, Q(id=entity.pk), lambda row: "主体信息"),
        (
            Binding.history,
            bindings & Q(cooperative_id__in=visible.values("pk")),
            lambda row: (
                "绑定 " + names.get(row.cooperative_id if row.enterprise_id == entity.pk else row.enterprise_id, "")
            ),
        ),
    ]
    if entity.kind == EntityKind.COOPERATIVE:
        households = dict(
            Household.objects.visible_to(user)
            .filter(cooperative_memberships__cooperative=entity)
            .values_list("pk", "number")
            .distinct()
        )
        sources.append(
            (
                Membership.history,
                Q(cooperative_id=entity.pk, household_id__in=list(households)),
                lambda row: f"成员户 {households.get(row.household_id, '')}",
            )
        )
    return history_changes(
        sources=sources, reveal_personal_data=personal_data.may_view_personal_data(user), limit=limit
    )


# Registers ---------------------------------------------------------------------------------------


def binding_list(*, user: Any) -> QuerySet[Binding]:
    """Bindings of the cooperatives registered in the user's area, newest first."""
    return (
        Binding.objects.visible_to(user)
        .select_related("enterprise", "cooperative", "cooperative__region", "cooperative__region__parent")
        .prefetch_related("linkage_types")
        .order_by("-started_on", "pk")
    )


def binding_get(*, user: Any, pk: int) -> Binding:
    """A binding of a cooperative the user manages, or 404."""
    try:
        return (
            Binding.objects.filter(cooperative__in=Entity.objects.managed_by(user))
            .select_related("enterprise", "cooperative", "cooperative__region")
            .get(pk=pk)
        )
    except Binding.DoesNotExist as error:
        raise Http404("绑定记录不存在或不在您的管辖范围内") from error


def binding_history(*, user: Any, binding: Binding) -> list[Change]:
    return history_changes(
        sources=[(Binding.history, Q(id=binding.pk), lambda row: "绑定")],
        reveal_personal_data=personal_data.may_view_personal_data(user),
    )


def membership_list(*, user: Any) -> QuerySet[Membership]:
    """Memberships of households in the user's area, with the columns of the member list."""
    return membership_rows(Membership.objects.visible_to(user)).order_by(
        "cooperative__name", "household__number", "-joined_on"
    )


def membership_get(*, user: Any, pk: int) -> Membership:
    """A membership of a household in the user's area, or 404."""
    try:
        return (
            Membership.objects.visible_to(user)
            .select_related("household", "household__village", "cooperative", "joining_method")
            .get(pk=pk)
        )
    except Membership.DoesNotExist as error:
        raise Http404("成员记录不存在或不在您的管辖范围内") from error


def membership_history(*, user: Any, membership: Membership) -> list[Change]:
    return history_changes(
        sources=[(Membership.history, Q(id=membership.pk), lambda row: "成员户")],
        reveal_personal_data=personal_data.may_view_personal_data(user),
    )


def household_find(*, user: Any, key: str) -> Household | None:
    """The household of the user's area with this 户编号, or with a member of this 身份证号 (only for
    roles that may see 身份证号); None for no such household and for one outside the area alike."""
    text = key.strip()
    if not text:
        return None
    households = Household.objects.visible_to(user).select_related("village")
    found = households.filter(number=text).first()
    if found is None and personal_data.may_view_personal_data(user):
        number = normalise_id_number(text)
        found = households.filter(Exists(Member.objects.filter(household=OuterRef("pk"), id_number=number))).first()
    return found


def household_get(*, user: Any, pk: int) -> Household:
    try:
        return Household.objects.visible_to(user).select_related("village").get(pk=pk)
    except Household.DoesNotExist as error:
        raise Http404("农户不存在或不在您的管辖范围内") from error


def rich_leader_list(*, user: Any) -> QuerySet[RichLeader]:
    return (
        RichLeader.objects.visible_to(user)
        .select_related("village", "village__parent", "industry", "entity", "member")
        .order_by("village__code", "name")
    )


def rich_leader_get(*, user: Any, pk: int) -> RichLeader:
    try:
        return RichLeader.objects.visible_to(user).select_related("village", "member").get(pk=pk)
    except RichLeader.DoesNotExist as error:
        raise Http404("致富带头人不存在或不在您的管辖范围内") from error


def rich_leader_history(*, user: Any, leader: RichLeader) -> list[Change]:
    return history_changes(
        sources=[(RichLeader.history, Q(id=leader.pk), lambda row: "致富带头人")],
        reveal_personal_data=personal_data.may_view_personal_data(user),
    )


def village_member_by_id_number(*, village: Region, id_number: str) -> Member | None:
    """An active member of a household of this village with this 身份证号."""
    return (
        Member.objects.filter(household__village=village, is_active=True, id_number=normalise_id_number(id_number))
        .select_related("household")
        .first()
    )


def earning_cooperatives(*, household: Household, year: int) -> list[Entity]:
    """The cooperatives the household was a member of at some time in the year (the rows of its earnings)."""
    return list(
        Entity.objects.filter(
            Exists(
                Membership.objects.filter(
                    cooperative=OuterRef("pk"), household=household, joined_on__year__lte=year
                ).filter(Q(left_on__isnull=True) | Q(left_on__year__gte=year))
            )
        ).order_by("name")
    )


def earnings_of(*, household: Household, year: int) -> dict[tuple[int, int], Earning]:
    """The household's earnings of a year by (cooperative id, kind id)."""
    return {
        (earning.cooperative_id, earning.kind_id): earning
        for earning in Earning.objects.filter(household=household, year=year)
    }
