"""Writes: every way a market entity, 致富带头人, binding, membership or earning changes.

Each write checks the role's permission and the user's scope again (a form's choices are not a
guard), validates with the model's rules, claims the row's next version (a stale page is refused),
records history attributed to `by`, and tells the assessment engine which villages' figures moved.
"""

from cooperatives.services.bindings import binding_end, binding_register, binding_update
from cooperatives.services.common import member_village_codes
from cooperatives.services.entities import (
    entity_cancel,
    entity_register,
    entity_update,
    rich_leader_register,
    rich_leader_update,
)
from cooperatives.services.memberships import (
    NO_RECORD,
    EarningEntry,
    earning_record,
    earnings_year_save,
    membership_add,
    membership_leave,
    membership_update,
)

__all__ = [
    "NO_RECORD",
    "EarningEntry",
    "binding_end",
    "binding_register",
    "binding_update",
    "earning_record",
    "earnings_year_save",
    "entity_cancel",
    "entity_register",
    "entity_update",
    "member_village_codes",
    "membership_add",
    "membership_leave",
    "membership_update",
    "rich_leader_register",
    "rich_leader_update",
]
