"""Writes: every way allocations, projects, funding lines, payments, assets, village profiles and
collective income change (keyword-only, versioned, transactional, scoped, history attributed to `by`,
and `data_changed` for the regions they touch)."""

from funds.services.allocations import allocation_create, allocation_delete, allocation_split, allocation_update
from funds.services.assets import asset_create, asset_delete, asset_update, village_profile_save
from funds.services.collective import (
    collective_income_approve,
    collective_income_return,
    collective_income_save,
    collective_income_submit,
)
from funds.services.fundings import (
    funding_create,
    funding_delete,
    funding_update,
    payment_create,
    payment_delete,
    payment_update,
)
from funds.services.projects import (
    project_advance,
    project_beneficiaries_add,
    project_beneficiary_remove,
    project_create,
    project_send_back,
    project_update,
)

__all__ = [
    "allocation_create",
    "allocation_delete",
    "allocation_split",
    "allocation_update",
    "asset_create",
    "asset_delete",
    "asset_update",
    "collective_income_approve",
    "collective_income_return",
    "collective_income_save",
    "collective_income_submit",
    "funding_create",
    "funding_delete",
    "funding_update",
    "payment_create",
    "payment_delete",
    "payment_update",
    "project_advance",
    "project_beneficiaries_add",
    "project_beneficiary_remove",
    "project_create",
    "project_send_back",
    "project_update",
    "village_profile_save",
]
