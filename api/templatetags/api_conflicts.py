"""The menu's 接口冲突 item with the number of open conflicts in the user's subtree."""

from __future__ import annotations

from typing import Any

from django import template

from api.conflicts import may_resolve_conflicts, open_conflict_count

register = template.Library()


@register.simple_tag
def conflicts_state(user: Any) -> dict[str, Any]:
    """Whether the 管理 menu lists 接口冲突 and how many are open: shown to those who resolve conflicts
    when some are open (county administrators: always)."""
    if not may_resolve_conflicts(user):
        return {"shown": False, "count": 0}
    count = open_conflict_count(user=user)
    always = user.is_superuser or getattr(user, "role", "") in ("county_admin", "system_admin")
    return {"shown": bool(count) or always, "count": count}
