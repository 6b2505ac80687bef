"""The household list's cells, formatted once per page in Python.

Per-row template tags and filters (a URL, masking that asks for the user's permission, dates, money)
cost more than the rest of the page together; here the permission is asked once and every cell is a
plain string the template only places.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone

from households.models import Household, HouseholdStatus, MonitoringCategory
from households.personal_data import masked_text, may_view_personal_data, shown
from households.templatetags.ledger import yuan


@dataclass(frozen=True, slots=True)
class ListRow:
    url: str
    number: str
    cancelled: bool
    head_name: str
    head_id_number: str
    place: str
    household_type: str
    member_count: str
    category: str
    income: str
    updated: str


def list_rows(households: list[Household], *, user: Any) -> list[ListRow]:
    """One row per household of `selectors.household_rows`, personal data shown as the user may see it."""
    reveal = may_view_personal_data(user)
    categories = {value: str(label) for value, label in MonitoringCategory.choices}
    rows = []
    for household in households:
        annotated: Any = household
        village = household.village
        rows.append(
            ListRow(
                url=reverse("household_detail", args=[household.pk]),
                number=household.number if reveal else masked_text(household.number),
                cancelled=household.status == HouseholdStatus.CANCELLED,
                head_name=annotated.head_name or "—",
                head_id_number=shown("id_number", annotated.head_id_number, reveal=reveal),
                place=f"{village.parent.name if village.parent else ''} / {village.name}",
                household_type=household.get_household_type_display(),
                member_count=str(annotated.member_count or 0),
                category=categories.get(annotated.open_category or "", ""),
                income=yuan(household.trailing_per_capita),
                updated=timezone.localtime(household.updated_at).strftime("%Y-%m-%d %H:%M"),
            )
        )
    return rows
