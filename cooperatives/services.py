"""Writes: every way a market entity, 致富带头人, binding, membership or earning changes.

Each write checks the role's permission and the user's scope again (a form's choices are not a
guard), validates with the model's rules, claims the row's next version (a stale page is refused),
records history attributed to `by`, and tells the assessment engine which villages' figures moved.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cooperatives.models import (
    Binding,
    Earning,
    EarningKind,
    Entity,
    EntityKind,
    EntityStatus,
    LinkageType,
    Membership,
    RichLeader,
    normalise_credit_code,
)
from households.models import Household
from households.services import ConcurrentEditError, claim_next_version, require_permission
from industries.models import Industry, validate_industry_of_region
from regions.models import Region, regions_visible_to
from regions.services import data_changed

NOT_IN_SCOPE = _("不存在或不在您的管辖范围内")


def _save(instance: Model, *, by: Any, reason: str = "") -> None:
    """Validate with the model's rules, then save with the history attributed to `by`."""
    instance.full_clean()
    instance._history_user = by if getattr(by, "pk", None) else None  # type: ignore[attr-defined]
    if reason:
        instance._change_reason = reason  # type: ignore[attr-defined]
    instance.save()


def _claim(instance: Any, expected_version: int | None) -> None:
    """The next version of a stored row: refused when it moved on since the page was read."""
    if instance.pk is not None:
        claim_next_version(instance, expected_version)


def member_village_codes(cooperatives: QuerySet[Entity] | Iterable[Entity]) -> list[str]:
    """Codes of the villages whose households are (or were) members of these cooperatives."""
    return list(
        Region.objects.filter(households__cooperative_memberships__cooperative__in=cooperatives)
        .order_by()
        .values_list("code", flat=True)
        .distinct()
    )


def _entity_changed(entity: Entity) -> None:
    """An entity's change moves the figures of where it is registered and of its members' villages
    (for an enterprise: the members of the cooperatives it binds)."""
    if entity.kind == EntityKind.ENTERPRISE:
        cooperatives: Any = Entity.objects.filter(bindings__enterprise=entity)
    else:
        cooperatives = [entity]
    data_changed(codes=[entity.region.code, *member_village_codes(cooperatives)])


# Entities -----------------------------------------------------------------------------------------


def _require_region_in_scope(user: Any, region: Region | None) -> None:
    if region is not None and not regions_visible_to(user).filter(pk=region.pk).exists():
        raise PermissionDenied(_("所选注册地不在您的管辖范围内"))


def _require_managed(user: Any, entity: Entity) -> None:
    """Only entities registered inside the user's subtree may be changed (or bind, or be bound here)."""
    if entity.pk is not None and not Entity.objects.managed_by(user).filter(pk=entity.pk).exists():
        raise PermissionDenied(_("该经营主体不由您管理"))


def _set_industries(entity: Entity, industries: Iterable[Industry]) -> None:
    chosen = list(industries)
    for industry in chosen:
        validate_industry_of_region(industry, entity.region, field="industries")
    if {industry.pk for industry in chosen} != set(entity.industries.values_list("pk", flat=True)):
        entity.industries.set(chosen)


@transaction.atomic
def entity_register(*, by: Any, entity: Entity, industries: Iterable[Industry] = ()) -> Entity:
    """Register a 龙头企业, 合作社 or 家庭农场 in a region of the user's area, with its industries."""
    require_permission(by, "cooperatives.add_entity")
    if entity.pk is not None:
        raise ValidationError(_("该经营主体已登记"))
    if entity.region_id is not None:
        _require_region_in_scope(by, entity.region)
    # Spaces and lower case as typed or pasted; the length rule judges the compact code.
    entity.credit_code = normalise_credit_code(entity.credit_code)
    _save(entity, by=by)
    _set_industries(entity, industries)
    _entity_changed(entity)
    return entity


@transaction.atomic
def entity_update(
    *,
    by: Any,
    entity: Entity,
    industries: Iterable[Industry] | None = None,
    expected_version: int | None = None,
) -> Entity:
    """Save edits to an entity the user manages (and optionally its industries); stale pages are refused."""
    require_permission(by, "cooperatives.change_entity")
    _require_managed(by, entity)
    if entity.region_id is not None:
        _require_region_in_scope(by, entity.region)
    stored = Entity.objects.get(pk=entity.pk)
    if stored.kind != entity.kind and _has_relations(entity):
        raise ValidationError({"kind": _("已有绑定、成员或收益记录的经营主体不能更改主体类型")})
    if stored.status == EntityStatus.CANCELLED and entity.status == EntityStatus.CANCELLED:
        raise ValidationError(_("已注销的经营主体不能修改"))
    _claim(entity, expected_version)
    entity.credit_code = normalise_credit_code(entity.credit_code)
    _save(entity, by=by)
    if industries is not None:
        _set_industries(entity, industries)
    _entity_changed(entity)
    if stored.region_id != entity.region_id:
        data_changed(codes=[stored.region.code])
    return entity


def _has_relations(entity: Entity) -> bool:
    return (
        Binding.objects.filter(enterprise=entity).exists()
        or Binding.objects.filter(cooperative=entity).exists()
        or Membership.objects.filter(cooperative=entity).exists()
        or Earning.objects.filter(cooperative=entity).exists()
    )


@transaction.atomic
def entity_cancel(*, by: Any, entity: Entity, cancelled_on: date, expected_version: int | None = None) -> Entity:
    """注销: keep the record, mark it cancelled from a date; it counts for nothing from then on."""
    require_permission(by, "cooperatives.change_entity")
    _require_managed(by, entity)
    if entity.status == EntityStatus.CANCELLED:
        raise ValidationError({"cancelled_on": _("该经营主体已注销")})
    if cancelled_on > timezone.localdate():
        raise ValidationError({"cancelled_on": _("注销日期不能晚于今天")})
    _claim(entity, expected_version)
    entity.status = EntityStatus.CANCELLED
    entity.cancelled_on = cancelled_on
    _save(entity, by=by, reason=_("注销"))
    _entity_changed(entity)
    return entity


# 致富带头人 ----------------------------------------------------------------------------------------


def _require_leader_in_scope(by: Any, leader: RichLeader) -> None:
    if leader.pk is not None and not RichLeader.objects.visible_to(by).filter(pk=leader.pk).exists():
        raise PermissionDenied(_("该致富带头人") + NOT_IN_SCOPE)
    if leader.village_id is not None and not regions_visible_to(by).filter(pk=leader.village_id).exists():
        raise PermissionDenied(_("所选村不在您的管辖范围内"))
    if leader.entity_id is not None and not Entity.objects.visible_to(by).filter(pk=leader.entity_id).exists():
        raise ValidationError({"entity": _("所选经营主体") + NOT_IN_SCOPE})


@transaction.atomic
def rich_leader_register(*, by: Any, leader: RichLeader) -> RichLeader:
    """Record a 致富带头人 of a village in the user's area."""
    require_permission(by, "cooperatives.add_richleader")
    if leader.pk is not None:
        raise ValidationError(_("该致富带头人已登记"))
    _require_leader_in_scope(by, leader)
    _save(leader, by=by)
    data_changed(codes=[leader.village.code])
    return leader


@transaction.atomic
def rich_leader_update(*, by: Any, leader: RichLeader, expected_version: int | None = None) -> RichLeader:
    require_permission(by, "cooperatives.change_richleader")
    _require_leader_in_scope(by, leader)
    stored_village = RichLeader.objects.values_list("village__code", flat=True).get(pk=leader.pk)
    _claim(leader, expected_version)
    _save(leader, by=by)
    data_changed(codes={stored_village, leader.village.code})
    return leader


# Bindings (企业绑定合作社) ----------------------------------------------------------------------------


def _require_binding_in_scope(by: Any, binding: Binding) -> None:
    """A binding is written for a cooperative the user manages, to an enterprise the user sees."""
    if (
        binding.pk is not None
        and not Binding.objects.filter(pk=binding.pk, cooperative__in=Entity.objects.managed_by(by)).exists()
    ):
        raise PermissionDenied(_("该绑定") + NOT_IN_SCOPE)
    if binding.cooperative_id is not None:
        _require_managed(by, binding.cooperative)
    if (
        binding.enterprise_id is not None
        and not Entity.objects.visible_to(by).filter(pk=binding.enterprise_id).exists()
    ):
        raise ValidationError({"enterprise": _("所选龙头企业") + NOT_IN_SCOPE})


def _require_entities_active(binding: Binding) -> None:
    errors: dict[str, str] = {}
    for field in ("enterprise", "cooperative"):
        entity: Entity | None = getattr(binding, field) if getattr(binding, f"{field}_id") else None
        if entity is not None and binding.started_on and not entity.is_active_on(binding.started_on):
            errors[field] = _("“%(name)s”在%(day)s未成立或已注销") % {"name": entity.name, "day": binding.started_on}
    if errors:
        raise ValidationError(errors)


def _set_linkage_types(binding: Binding, linkage_types: Iterable[LinkageType]) -> None:
    chosen = list(linkage_types)
    if not chosen:
        raise ValidationError({"linkage_types": _("请至少选择一种利益联结方式")})
    if {item.pk for item in chosen} != set(binding.linkage_types.values_list("pk", flat=True)):
        binding.linkage_types.set(chosen)


def _binding_changed(binding: Binding) -> None:
    """Whether a cooperative is bound decides whether its members are covered: their villages move."""
    cooperative = binding.cooperative
    data_changed(codes=[cooperative.region.code, *member_village_codes([cooperative])])


@transaction.atomic
def binding_register(*, by: Any, binding: Binding, linkage_types: Iterable[LinkageType]) -> Binding:
    """企业绑定合作社: bind a cooperative the user manages to an enterprise the user sees."""
    require_permission(by, "cooperatives.add_binding")
    if binding.pk is not None:
        raise ValidationError(_("该绑定已登记"))
    _require_binding_in_scope(by, binding)
    _require_entities_active(binding)
    _save(binding, by=by)
    _set_linkage_types(binding, linkage_types)
    _binding_changed(binding)
    return binding


@transaction.atomic
def binding_update(
    *,
    by: Any,
    binding: Binding,
    linkage_types: Iterable[LinkageType] | None = None,
    expected_version: int | None = None,
) -> Binding:
    require_permission(by, "cooperatives.change_binding")
    _require_binding_in_scope(by, binding)
    stored = Binding.objects.select_related("cooperative__region").get(pk=binding.pk)
    if (stored.enterprise_id, stored.cooperative_id) != (binding.enterprise_id, binding.cooperative_id):
        raise ValidationError(_("绑定的企业和合作社不能更改；如需改绑，请结束本绑定后新建"))
    _require_entities_active(binding)
    _claim(binding, expected_version)
    _save(binding, by=by)
    if linkage_types is not None:
        _set_linkage_types(binding, linkage_types)
    _binding_changed(binding)
    return binding


@transaction.atomic
def binding_end(*, by: Any, binding: Binding, ended_on: date, expected_version: int | None = None) -> Binding:
    """结束绑定 on a date: the cooperative's members are no longer covered through it from that day."""
    require_permission(by, "cooperatives.change_binding")
    _require_binding_in_scope(by, binding)
    if binding.ended_on is not None:
        raise ValidationError({"ended_on": _("该绑定已于%(day)s结束") % {"day": binding.ended_on}})
    _claim(binding, expected_version)
    binding.ended_on = ended_on
    _save(binding, by=by, reason=_("结束绑定"))
    _binding_changed(binding)
    return binding


# Memberships (合作社绑定农户) -------------------------------------------------------------------------


def _require_membership_in_scope(by: Any, membership: Membership) -> None:
    """A clerk changes memberships of their own village's households, a township admin of their township's."""
    if membership.pk is not None and not Membership.objects.visible_to(by).filter(pk=membership.pk).exists():
        raise PermissionDenied(_("该成员记录") + NOT_IN_SCOPE)
    if (
        membership.household_id is not None
        and not Household.objects.visible_to(by).filter(pk=membership.household_id).exists()
    ):
        raise PermissionDenied(_("该农户") + NOT_IN_SCOPE)
    if (
        membership.cooperative_id is not None
        and not Entity.objects.visible_to(by).filter(pk=membership.cooperative_id).exists()
    ):
        raise PermissionDenied(_("该合作社") + NOT_IN_SCOPE)


def _require_joinable(membership: Membership) -> None:
    if membership.household_id is not None and not membership.household.is_active:
        raise ValidationError({"household": _("已注销农户不能加入合作社")})
    cooperative = membership.cooperative if membership.cooperative_id is not None else None
    if cooperative is not None and membership.joined_on and not cooperative.is_active_on(membership.joined_on):
        raise ValidationError(
            {
                "joined_on": _("“%(name)s”在%(day)s未成立或已注销")
                % {"name": cooperative.name, "day": membership.joined_on}
            }
        )


@transaction.atomic
def membership_add(*, by: Any, membership: Membership) -> Membership:
    """合作社绑定农户: a household of the user's area joins a cooperative."""
    require_permission(by, "cooperatives.add_membership")
    if membership.pk is not None:
        raise ValidationError(_("该成员记录已登记"))
    _require_membership_in_scope(by, membership)
    _require_joinable(membership)
    _save(membership, by=by)
    data_changed(codes=[membership.household.village.code])
    return membership


@transaction.atomic
def membership_update(*, by: Any, membership: Membership, expected_version: int | None = None) -> Membership:
    """Correct a membership (入社方式, 入股金额, dates); the household and cooperative stay."""
    require_permission(by, "cooperatives.change_membership")
    _require_membership_in_scope(by, membership)
    stored = Membership.objects.get(pk=membership.pk)
    if (stored.household_id, stored.cooperative_id) != (membership.household_id, membership.cooperative_id):
        raise ValidationError(_("成员记录的农户和合作社不能更改"))
    if stored.joined_on != membership.joined_on:
        _require_joinable(membership)
    _claim(membership, expected_version)
    _save(membership, by=by)
    data_changed(codes=[membership.household.village.code])
    return membership


@transaction.atomic
def membership_leave(
    *, by: Any, membership: Membership, left_on: date, expected_version: int | None = None
) -> Membership:
    """退社 on a date: the household is no longer a member from that day."""
    require_permission(by, "cooperatives.change_membership")
    _require_membership_in_scope(by, membership)
    if membership.left_on is not None:
        raise ValidationError({"left_on": _("该户已于%(day)s退社") % {"day": membership.left_on}})
    _claim(membership, expected_version)
    membership.left_on = left_on
    _save(membership, by=by, reason=_("退社"))
    data_changed(codes=[membership.household.village.code])
    return membership


# Earnings ----------------------------------------------------------------------------------------

# The version a page sends for a cell that had no record when it was read (stored versions start at 1).
NO_RECORD = 0


@transaction.atomic
def earning_record(
    *,
    by: Any,
    household: Household,
    cooperative: Entity,
    year: int,
    kind: EarningKind,
    amount: Decimal,
    expected_version: int | None = None,
) -> Earning:
    """Record what a household earned from a cooperative in a year, of one kind (the amount replaces
    an earlier one). `expected_version` is the version the page read, NO_RECORD if it read none."""
    require_permission(by, "cooperatives.add_earning")
    if not Household.objects.visible_to(by).filter(pk=household.pk).exists():
        raise PermissionDenied(_("该农户") + NOT_IN_SCOPE)
    earning = Earning.objects.filter(household=household, cooperative=cooperative, year=year, kind=kind).first()
    if earning is None:
        if expected_version not in (None, NO_RECORD):
            raise ConcurrentEditError()
        earning = Earning(household=household, cooperative=cooperative, year=year, kind=kind)
    else:
        require_permission(by, "cooperatives.change_earning")
        if expected_version == NO_RECORD:
            raise ConcurrentEditError()
        claim_next_version(earning, expected_version)
    earning.amount = amount
    try:
        with transaction.atomic():
            _save(earning, by=by)
    except IntegrityError as error:  # someone recorded the same cell between our read and write
        raise ConcurrentEditError() from error
    data_changed(codes=[household.village.code])
    return earning


@dataclass(frozen=True)
class EarningEntry:
    """One cell of a household's earnings for a year, as the page posts it."""

    cooperative: Entity
    kind: EarningKind
    amount: Decimal | None
    expected_version: int


@transaction.atomic
def earnings_year_save(*, by: Any, household: Household, year: int, entries: Sequence[EarningEntry]) -> int:
    """Save the cells of a household's earnings for a year that the user changed, all or nothing.
    Returns how many records were written (a blank cell that had no record writes nothing)."""
    written = 0
    for entry in entries:
        amount = entry.amount if entry.amount is not None else Decimal("0.00")
        if not amount and entry.expected_version == NO_RECORD:
            if Earning.objects.filter(
                household=household, cooperative=entry.cooperative, year=year, kind=entry.kind
            ).exists():
                raise ConcurrentEditError()
            continue
        earning_record(
            by=by,
            household=household,
            cooperative=entry.cooperative,
            year=year,
            kind=entry.kind,
            amount=amount,
            expected_version=entry.expected_version,
        )
        written += 1
    return written
