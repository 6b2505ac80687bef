"""A row's recorded changes for its detail page: who, when, old → new of each field, and why."""

from __future__ import annotations

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
    """Newest first; free text (a 户编号 made of a 身份证号) masked for roles that may not see it."""
    rows = list(instance.history.select_related("history_user").order_by("history_date", "history_id"))  # type: ignore[attr-defined]
    model = type(instance)
    m2m_names = {f.name for f in model._meta.many_to_many}
    changes: list[Change] = []
    previous = None
    for row in rows:
        fields: list[tuple[str, str, str]] = []
        if previous is not None:
            for delta in row.diff_against(previous, foreign_keys_are_objs=False).changes:
                model_field: Any = model._meta.get_field(delta.field)
                label = str(model_field.verbose_name)
                if delta.field in m2m_names:
                    target = model_field.m2m_reverse_field_name()
                    names = _names(model_field, {item[target] for item in [*delta.old, *delta.new]})
                    old = "、".join(names.get(item[target], "?") for item in delta.old) or "（空）"
                    new = "、".join(names.get(item[target], "?") for item in delta.new) or "（空）"
                    fields.append((label, old, new))
                    continue
                fields.append((label, _shown(model_field, delta.old, user), _shown(model_field, delta.new, user)))
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


def _names(model_field: Any, ids: set[int]) -> dict[int, str]:
    rows = model_field.related_model._default_manager.filter(pk__in=ids).values_list("pk", "name")
    return {pk: str(name) for pk, name in rows}


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
