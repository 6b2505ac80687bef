"""What every funds write does the same way: check the role and the user's subtree, validate with the
model's rules, claim the row's version, attribute the history to `by`, and tell the engine which part
of the county changed."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from funds.services import messages
from households.services import (
    claim_next_version,
    register_row_delete,
    register_row_save,
    require_permission,
    require_region_in_scope,
    require_row_in_scope,
)

__all__ = [
    "atomic_write",
    "claim_next_version",
    "register_row_delete",
    "register_row_save",
    "require_not_future",
    "require_permission",
    "require_region_in_scope",
    "require_row_in_scope",
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


def require_not_future(day: Any, field: str, label: str) -> None:
    if day is not None and day > timezone.localdate():
        raise ValidationError({field: messages.not_after_today(label)})
