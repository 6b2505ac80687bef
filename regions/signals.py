"""Role groups are rebuilt after every migrate; `data_changed` tells other apps a county's data moved."""

from typing import Any

from django.dispatch import Signal

# Sent after the commit of a write that bumped a county's DataVersion: sender=None, county_code=str.
data_changed = Signal()


def ensure_role_groups(sender: Any, **kwargs: Any) -> None:
    from regions.services import role_groups_ensure

    role_groups_ensure()
