"""Writes of 企业绑定合作社: a binding is made for a cooperative the user manages, to an enterprise they see."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cooperatives.models import Binding, Entity, LinkageType, not_in_force
from cooperatives.services.common import (
    NOT_IN_SCOPE,
    claim,
    lock_row,
    member_village_codes,
    require_managed,
    validated_save,
)
from households.services import require_permission
from regions.services import data_changed

# Bindings (企业绑定合作社) ----------------------------------------------------------------------------


def _require_binding_in_scope(by: Any, binding: Binding) -> None:
    """A binding is written for a cooperative the user manages, to an enterprise the user sees."""
    if (
        binding.pk is not None
        and not Binding.objects.filter(pk=binding.pk, cooperative__in=Entity.objects.managed_by(by)).exists()
    ):
        raise PermissionDenied(_("该绑定") + NOT_IN_SCOPE)
    if binding.cooperative_id is not None:
        require_managed(by, binding.cooperative)
    if (
        binding.enterprise_id is not None
        and not Entity.objects.visible_to(by).filter(pk=binding.enterprise_id).exists()
    ):
        raise ValidationError({"enterprise": _("所选龙头企业") + NOT_IN_SCOPE})


def _require_entities_active(binding: Binding) -> None:
    errors = {
        field: reason
        for field in ("enterprise", "cooperative")
        if (reason := not_in_force(getattr(binding, field), binding.started_on)) is not None
    }
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
    lock_row(Entity, binding.cooperative_id)
    validated_save(binding, by=by)
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
    lock_row(Entity, binding.cooperative_id)
    claim(binding, expected_version)
    validated_save(binding, by=by)
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
    claim(binding, expected_version)
    binding.ended_on = ended_on
    validated_save(binding, by=by, reason=_("结束绑定"))
    _binding_changed(binding)
    return binding
