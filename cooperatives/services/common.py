"""What every cooperatives write does the same way: validate, attribute history, claim the version,
check the entity is the user's to change, and tell the engine which villages moved."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from cooperatives.models import Entity, EntityKind
from households.services import attribute_history, claim_next_version
from regions.models import Region
from regions.services import data_changed

NOT_IN_SCOPE = _("不存在或不在您的管辖范围内")


def validated_save(instance: Model, *, by: Any, reason: str = "") -> None:
    """Validate with the model's rules, then save with the history attributed to `by`."""
    instance.full_clean()
    attribute_history(instance, by, reason)
    instance.save()


def claim(instance: Any, expected_version: int | None) -> None:
    """The next version of a stored row: refused when it moved on since the page was read."""
    if instance.pk is not None:
        claim_next_version(instance, expected_version)


def lock_row(model: type[Model], pk: int | None) -> None:
    """Hold the row until the transaction ends. Saves that check one household's memberships (or one
    cooperative's bindings) for overlapping periods lock it first and so take turns: the second sees
    what the first wrote and is refused, instead of both being written (a double click, two clerks)."""
    list(model._default_manager.select_for_update().filter(pk=pk).values_list("pk", flat=True))


def member_village_codes(cooperatives: QuerySet[Entity] | Iterable[Entity]) -> list[str]:
    """Codes of the villages whose households are (or were) members of these cooperatives."""
    return list(
        Region.objects.filter(households__cooperative_memberships__cooperative__in=cooperatives)
        .order_by()
        .values_list("code", flat=True)
        .distinct()
    )


def entity_changed(entity: Entity) -> None:
    """An entity's change moves the figures of where it is registered and of its members' villages
    (for an enterprise: the members of the cooperatives it binds)."""
    if entity.kind == EntityKind.ENTERPRISE:
        cooperatives: Any = Entity.objects.filter(bindings__enterprise=entity)
    else:
        cooperatives = [entity]
    data_changed(codes=[entity.region.code, *member_village_codes(cooperatives)])


def require_managed(user: Any, entity: Entity) -> None:
    """Only entities registered inside the user's subtree may be changed (or bind, or be bound here)."""
    if entity.pk is not None and not Entity.objects.managed_by(user).filter(pk=entity.pk).exists():
        raise PermissionDenied(_("该经营主体不由您管理"))
