"""Blocks later registers add to the household page (产业到户, cooperative memberships, earnings…).

A register adds a section from its AppConfig.ready() with `register_household_section`; the page
renders every registered section after the income ledger, so it is never edited for them. A
section's `context` reads only what the user may see (it receives the user) and returns None when
it has nothing to show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from households.models import Household


@dataclass(frozen=True)
class HouseholdSection:
    """A titled block of the household page: its template and what the template reads."""

    key: str  # stable, e.g. "industries"; also the block's data-testid
    title: str
    template: str
    context: Callable[[Household, Any], Mapping[str, Any] | None]
    order: int = 100


@dataclass(frozen=True)
class RenderedSection:
    key: str
    title: str
    template: str
    context: Mapping[str, Any]


_sections: dict[str, HouseholdSection] = {}


def register_household_section(section: HouseholdSection) -> HouseholdSection:
    """Add a section to every household page (registering the same key again replaces it)."""
    _sections[section.key] = section
    return section


def household_sections(*, household: Household, user: Any) -> list[RenderedSection]:
    """The registered sections with content for this household, in their order."""
    rendered = []
    for section in sorted(_sections.values(), key=lambda s: (s.order, s.key)):
        context = section.context(household, user)
        if context is not None:
            rendered.append(RenderedSection(section.key, section.title, section.template, context))
    return rendered
