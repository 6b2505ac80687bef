"""The home page's to-do counts: each one is the row count of the household list it links to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.http import QueryDict
from django.urls import reverse

from households import selectors
from households.forms import HouseholdFilterForm
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
    """Each count through the same form and selector as the list page its link opens."""
    villages = selectors.villages_for_filter(user=user)
    counts: dict[str, HomeCount] = {}
    for key, label, query in _definitions(quarter):
        data = QueryDict(mutable=True)
        data.update(query)
        form = HouseholdFilterForm(data, villages=villages, today=today)
        households = selectors.household_list(user=user, **form.selector_filters())
        url = reverse("household_list") + (f"?{data.urlencode()}" if query else "")
        counts[key] = HomeCount(key=key, label=label, count=households.count(), url=url)
    return counts
