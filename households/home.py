"""The home page's to-do counts: each one is the row count of the household list it links to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count
from django.http import QueryDict
from django.urls import reverse

from households import selectors
from households.forms import HouseholdFilterForm
from households.models import Household
from households.quarter import Quarter


@dataclass
class HomeCount:
    key: str
    label: str
    count: int
    url: str


def _definitions(quarter: Quarter) -> list[tuple[str, str, dict[str, str]]]:
    """(key, label, the list's query string) of every count on the home page."""
    return [
        ("households", "在册农户", {}),
        ("lifted", "其中脱贫户", {"household_type": "lifted"}),
        ("monitored", "风险未消除监测对象", {"risk": "open"}),
        (
            "below_threshold_unmonitored",
            "低于监测标准但尚未纳入监测的农户，请及时研判",
            {"below": "on", "risk": "none"},
        ),
        ("missing_income", f"{quarter.label}尚未录入收入的农户", {"missing": str(quarter)}),
        ("eligible_for_review", "识别已满6个月、可研判风险消除的监测对象", {"review": "on"}),
    ]


def home_counts(*, user: Any, quarter: Quarter, today: date | None = None) -> dict[str, HomeCount]:
    """Each count through the same form and filter condition as the list page its link opens, all of
    them in one query over the user's households."""
    villages = selectors.villages_for_filter(user=user)
    counted: dict[str, Count] = {}
    aliases: dict[str, Any] = {}
    urls: dict[str, tuple[str, str]] = {}
    for key, label, query in _definitions(quarter):
        data = QueryDict(mutable=True)
        data.update(query)
        form = HouseholdFilterForm(data, villages=villages, today=today)
        filters = form.selector_filters()
        filters.pop("ordering", None)
        condition, needed = selectors.household_condition(user=user, **filters)
        aliases.update(needed)
        counted[key] = Count("pk", filter=condition)
        urls[key] = (label, reverse("household_list") + (f"?{data.urlencode()}" if query else ""))
    households = Household.objects.visible_to(user)
    if aliases:
        households = households.alias(**aliases)
    counts = households.aggregate(**counted)
    return {key: HomeCount(key=key, label=label, count=counts[key], url=url) for key, (label, url) in urls.items()}
