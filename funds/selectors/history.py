"""A row's recorded changes for its detail page: who, when, old → new of each field, and why."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Model

from households.personal_data import text_shown_to

ACTIONS = {"+": "新增", "~": "修改", "-": "删除"}


@dataclass(frozen=True)
class Change:
    at: datetime
    user: str
    action: str
    reason: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)


def row_history(*, instance: Model, user: Any, limit: int = 50) -> list[Change]:
    """Newest first; free text (a 户编号 made of a 身份证号) masked for roles that may not see it.

    Many-to-many fields (a project's 双绑 entities) are read for all versions at once, so the page
    takes the same queries however many times they changed.
    """
    history: Any = instance.history  # type: ignore[attr-defined]
    rows = list(history.select_related("history_user").order_by("history_date", "history_id"))
    model = type(instance)
    m2m_fields = list(getattr(history.model, "_history_m2m_fields", []))
    members = _m2m_members(history.model, m2m_fields, [row.history_id for row in rows])
    changes: list[Change] = []
    previous = None
    for row in rows:
        fields: list[tuple[str, str, str]] = []
        if previous is not None:
            delta = row.diff_against(
                previous, excluded_fields=[f.name for f in m2m_fields], foreign_keys_are_objs=False
            )
            for change in delta.changes:
                model_field: Any = model._meta.get_field(change.field)
                fields.append(
                    (
                        str(model_field.verbose_name),
                        _shown(model_field, change.old, user),
                        _shown(model_field, change.new, user),
                    )
                )
            for m2m_field in m2m_fields:
                names = members[m2m_field.name]
                old, new = names.get(previous.history_id, []), names.get(row.history_id, [])
                if old != new:
                    fields.append((str(m2m_field.verbose_name), "、".join(old) or "（空）", "、".join(new) or "（空）"))
        previous = row
        by = row.history_user
        changes.append(
            Change(
                at=row.history_date,
                user="系统" if by is None else (by.get_full_name() or by.username),
                action=ACTIONS[row.history_type],
                reason=text_shown_to(user, row.history_change_reason or ""),
                fields=fields,
            )
        )
    return list(reversed(changes))[:limit]


def _m2m_members(history_model: Any, m2m_fields: list[Any], history_ids: list[int]) -> dict[str, dict[int, list[str]]]:
    """For each many-to-many field, the names it held at each version (two queries a field)."""
    members: dict[str, dict[int, list[str]]] = {}
    for m2m_field in m2m_fields:
        through = getattr(history_model, m2m_field.name).model
        target = m2m_field.m2m_reverse_field_name()
        pairs = list(through.objects.filter(history_id__in=history_ids).values_list("history_id", f"{target}_id"))
        names = dict(
            m2m_field.related_model._default_manager.filter(pk__in={pk for _, pk in pairs}).values_list("pk", "name")
        )
        by_version: dict[int, list[str]] = defaultdict(list)
        for history_id, pk in pairs:
            by_version[history_id].append(str(names.get(pk, pk)))
        members[m2m_field.name] = {key: sorted(value) for key, value in by_version.items()}
    return members


def _shown(model_field: Any, value: Any, user: Any) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if model_field.is_relation:
        return text_shown_to(user, str(model_field.related_model._default_manager.filter(pk=value).first() or value))
    return text_shown_to(user, str(value))
