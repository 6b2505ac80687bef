"""Query counts of the list and detail pages stay flat however many rows there are."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from households.models import Household
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household, income, member


def _fill(staff: Staff, tree: Tree, count: int) -> list[Household]:
    made = []
    for index in range(count):
        created = household(
            staff.village_clerk, tree.village_a1, members=[member(name=f"户主{index}"), member("spouse")]
        )
        income(staff.village_clerk, created, "2025Q1", wages_other="1000")
        income(staff.village_clerk, created, "2024Q1", wages_other="900")
        made.append(created)
    return made


def _count_queries(client: Client, url: str, params: dict[str, str] | None = None) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(context.captured_queries)


def test_household_list_queries_do_not_grow_with_rows(
    tree: Tree, staff: Staff, django_assert_max_num_queries: Any
) -> None:
    client = Client()
    client.login(username=staff.township_admin.username, password=PASSWORD)
    _fill(staff, tree, 3)
    client.get(reverse("household_list"))  # the reference lists (villages, permissions…) are kept from now on
    few = _count_queries(client, reverse("household_list"))
    _fill(staff, tree, 12)
    many = _count_queries(client, reverse("household_list"))
    filtered = _count_queries(client, reverse("household_list"), {"q": "户主1", "risk": "none", "below": "on"})
    assert few == many
    assert many <= 12
    assert filtered <= 13


def test_household_detail_queries_do_not_grow_with_income_or_members(tree: Tree, staff: Staff) -> None:
    client = Client()
    client.login(username=staff.village_clerk.username, password=PASSWORD)
    small = _fill(staff, tree, 1)[0]
    big = household(
        staff.village_clerk, tree.village_a1, members=[member(), *[member("son", name=f"子{i}") for i in range(5)]]
    )
    for year in (2024, 2025):
        for quarter in range(1, 5):
            income(staff.village_clerk, big, f"{year}Q{quarter}", wages_other=str(1000 * quarter))
    client.get(reverse("household_detail", args=[small.pk]))  # the reference lists are kept from now on
    small_count = _count_queries(client, reverse("household_detail", args=[small.pk]))
    big_count = _count_queries(client, reverse("household_detail", args=[big.pk]))
    assert big_count == small_count
    assert big_count <= 30
