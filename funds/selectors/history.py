"""A row's recorded changes for its detail page: who, when, old → new of each field, and why."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, Q

from households.selectors import Change, history_changes


def row_history(*, instance: Model, user: Any, limit: int = 50) -> list[Change]:
    """Newest first, through the one history reader (households.selectors.history_changes): many-to-many
    fields (a project's 双绑 entities) read for all versions at once, personal data masked per role."""
    return history_changes(
        sources=[(type(instance).history, Q(id=instance.pk), lambda row: "")],  # type: ignore[attr-defined]
        reveal_personal_data=user.has_perm("households.view_personal_data"),
        limit=limit,
    )
