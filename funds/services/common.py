"""What every funds write does the same way: check the role and the user's subtree, validate with the
model's rules, claim the row's version, attribute the history to `by`, and tell the engine which part
of the county changed."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import VersionedModel
from households.services import claim_next_version, require_permission
from regions.models import Region, regions_visible_to
from regions.services import data_changed

__all__ = [
    "atomic_write",
    "claim_next_version",
    "delete_row",
    "require_not_future",
    "require_permission",
    "require_region_in_scope",
    "require_row_in_scope",
    "save_row",
]


P = ParamSpec("P")
R = TypeVar("R")


def atomic_write(service: Callable[P, R]) -> Callable[P, R]:
    """Run a write in one transaction; when it is refused, the stored rows it was given are also put
    back as they were in memory (version and fields), so a caller may retry with the same objects."""

    @functools.wraps(service)
    def write(*args: P.args, **kwargs: P.kwargs) -> R:
        rows = [value for value in kwargs.values() if isinstance(value, Model) and value.pk is not None]
        saved = [(row, {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields}) for row in rows]
        try:
            with transaction.atomic():
                return service(*args, **kwargs)
        except Exception:
            for row, values in saved:
                for name, value in values.items():
                    setattr(row, name, value)
            raise

    return write


def require_region_in_scope(by: Any, region: Region) -> None:
    if not regions_visible_to(by).filter(pk=region.pk).exists():
        raise PermissionDenied(_("所选区划不在您的管辖范围内"))


def require_row_in_scope(by: Any, instance: Model) -> None:
    """A stored row the user may not see is refused, whatever the page sent."""
    if not type(instance)._default_manager.visible_to(by).filter(pk=instance.pk).exists():  # type: ignore[attr-defined]
        raise PermissionDenied(_("该记录不在您的管辖范围内"))


def require_not_future(day: Any, field: str, label: str) -> None:
    if day is not None and day > timezone.localdate():
        raise ValidationError({field: _("%(label)s不能晚于今天") % {"label": label}})


def attribute(instance: Model, by: Any, reason: str = "") -> None:
    """simple-history reads these: the request middleware is not there for tasks and imports."""
    instance._history_user = by if getattr(by, "pk", None) else None  # type: ignore[attr-defined]
    if reason:
        instance._change_reason = reason  # type: ignore[attr-defined]


def save_row(
    instance: Model,
    *,
    by: Any,
    codes: Iterable[str],
    duplicate: ValidationError | None = None,
    reason: str = "",
) -> None:
    """Validate, save with history attributed to `by`, and mark the regions' data as changed.

    `duplicate` is what the user reads when a concurrent save of the same key wins the race.
    """
    instance.full_clean()
    attribute(instance, by, reason)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        if duplicate is None:
            raise
        raise duplicate from error
    data_changed(codes=list(codes))


def delete_row(instance: VersionedModel, *, by: Any, codes: Iterable[str], expected_version: int) -> None:
    claim_next_version(instance, expected_version)
    attribute(instance, by)
    instance.delete()
    data_changed(codes=list(codes))
