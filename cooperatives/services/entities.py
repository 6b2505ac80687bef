"""Writes of market entities (with their industries) and 致富带头人."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cooperatives.models import (
    CREDIT_CODE_TAKEN,
    Binding,
    Earning,
    Entity,
    EntityStatus,
    Membership,
    RichLeader,
    normalise_credit_code,
)
from cooperatives.services.common import NOT_IN_SCOPE, claim, entity_changed, require_managed, validated_save
from households.services import require_permission
from industries.models import Industry, validate_industry_of_region
from regions.models import Region, regions_visible_to
from regions.services import data_changed

# Entities -----------------------------------------------------------------------------------------


def _require_region_in_scope(user: Any, region: Region | None) -> None:
    if region is not None and not regions_visible_to(user).filter(pk=region.pk).exists():
        raise PermissionDenied(_("所选注册地不在您的管辖范围内"))


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
    try:
        with transaction.atomic():
            validated_save(entity, by=by)
    except IntegrityError as error:  # the same code saved meanwhile by another request (a double click)
        raise ValidationError({"credit_code": CREDIT_CODE_TAKEN}) from error
    _set_industries(entity, industries)
    entity_changed(entity)
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
    require_managed(by, entity)
    if entity.region_id is not None:
        _require_region_in_scope(by, entity.region)
    stored = Entity.objects.get(pk=entity.pk)
    if stored.kind != entity.kind and _has_relations(entity):
        raise ValidationError({"kind": _("已有绑定、成员或收益记录的经营主体不能更改主体类型")})
    if stored.status == EntityStatus.CANCELLED and entity.status == EntityStatus.CANCELLED:
        raise ValidationError(_("已注销的经营主体不能修改"))
    claim(entity, expected_version)
    entity.credit_code = normalise_credit_code(entity.credit_code)
    validated_save(entity, by=by)
    if industries is not None:
        _set_industries(entity, industries)
    entity_changed(entity)
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
    require_managed(by, entity)
    if entity.status == EntityStatus.CANCELLED:
        raise ValidationError({"cancelled_on": _("该经营主体已注销")})
    if cancelled_on > timezone.localdate():
        raise ValidationError({"cancelled_on": _("注销日期不能晚于今天")})
    claim(entity, expected_version)
    entity.status = EntityStatus.CANCELLED
    entity.cancelled_on = cancelled_on
    validated_save(entity, by=by, reason=_("注销"))
    entity_changed(entity)
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
    validated_save(leader, by=by)
    data_changed(codes=[leader.village.code])
    return leader


@transaction.atomic
def rich_leader_update(*, by: Any, leader: RichLeader, expected_version: int | None = None) -> RichLeader:
    require_permission(by, "cooperatives.change_richleader")
    _require_leader_in_scope(by, leader)
    stored_village = RichLeader.objects.values_list("village__code", flat=True).get(pk=leader.pk)
    claim(leader, expected_version)
    validated_save(leader, by=by)
    data_changed(codes={stored_village, leader.village.code})
    return leader
