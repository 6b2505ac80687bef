"""Role groups are rebuilt after every migrate, once all permissions exist."""

from typing import Any


def ensure_role_groups(sender: Any, **kwargs: Any) -> None:
    from regions.services import role_groups_ensure

    role_groups_ensure()
