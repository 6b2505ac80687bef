"""The 产业到户 block of the household page (registered from IndustriesConfig.ready)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import reverse

from households.models import Household
from households.sections import HouseholdSection, register_household_section
from industries import selectors


def participation_section(household: Household, user: Any) -> Mapping[str, Any] | None:
    """The household's participations by year, with the links its writers use; None when there is
    nothing to show and nothing the user may add."""
    years = selectors.household_participations(household=household, user=user)
    writable = household.is_active
    can_add = writable and user.has_perm("industries.add_participation")
    if not years and not can_add:
        return None
    return {
        "years": years,
        "can_add": can_add,
        "can_change": writable and user.has_perm("industries.change_participation"),
        "can_delete": writable and user.has_perm("industries.delete_participation"),
        "add_url": reverse("participation_create", args=[household.pk]),
    }


def register() -> None:
    register_household_section(
        HouseholdSection(
            key="industries",
            title="产业到户",
            template="industries/_household_section.html",
            context=participation_section,
            order=10,
        )
    )
