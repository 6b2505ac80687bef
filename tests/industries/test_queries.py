"""The lists and the household section take the same number of queries however many rows they show."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from industries import services
from industries.models import Industry
from regions.models import Level, Region
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household
from tests.industries.conftest import Catalogue, category, unit

LISTS = ["industry_list", "designation_list", "scale_plan_list", "scale_report_list", "participation_list"]


def fill(tree: Tree, staff: Staff, catalogue: Catalogue, start: int, count: int) -> None:
    """`count` more villages, each with a catalogue industry, a designation, a plan, a report and a participation."""
    admin = staff.county_admin
    for index in range(start, start + count):
        village = Region.objects.create(
            code=f"5323261002{index:02d}", name=f"新村{index}", level=Level.VILLAGE, parent=tree.township_a
        )
        industry = services.industry_create(
            by=admin, county=tree.county, name=f"产业{index}", category=category("planting"), unit=unit("mu")
        )
        services.designation_create(by=admin, region=village, year=2025, industry=industry, is_signature=True)
        services.scale_plan_create(by=admin, region=village, year=2025, industry=industry, scale=Decimal(index))
        services.scale_report_create(by=admin, village=village, year=2025, industry=industry, scale=Decimal(index))
        target = household(admin, village)
        services.participation_create(by=admin, household=target, year=2025, industry=industry, scale=Decimal(1))


def count_queries(client: Client, url: str, params: dict[str, Any] | None = None) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("name", LISTS)
def test_list_queries_do_not_grow_with_rows(
    tree: Tree, staff: Staff, catalogue: Catalogue, name: str, django_assert_num_queries: Any
) -> None:
    client = Client()
    assert client.login(username=staff.township_admin.username, password=PASSWORD)
    fill(tree, staff, catalogue, 3, 2)
    url = reverse(name)
    params = {"year": 2025, "industry": catalogue.walnut.pk, "within": tree.township_a.pk}
    client.get(url)  # the reference lists (regions/reference.py) are kept from now on
    few = count_queries(client, url)
    filtered_few = count_queries(client, url, params)
    fill(tree, staff, catalogue, 5, 10)
    assert Industry.objects.count() > 12
    with django_assert_num_queries(few):
        client.get(url)
    with django_assert_num_queries(filtered_few):
        client.get(url, params)
    assert few <= 12


def test_the_household_section_takes_one_query_however_many_years(
    tree: Tree, staff: Staff, catalogue: Catalogue
) -> None:
    client = Client()
    assert client.login(username=staff.village_clerk.username, password=PASSWORD)
    target = household(staff.village_clerk, tree.village_a1)
    services.participation_create(
        by=staff.village_clerk, household=target, year=2025, industry=catalogue.walnut, scale=Decimal(1)
    )
    url = reverse("household_detail", args=[target.pk])
    client.get(url)  # the reference lists (regions/reference.py) are kept from now on
    one = count_queries(client, url)
    for year in range(2019, 2025):
        for industry in (catalogue.walnut, catalogue.goat):
            services.participation_create(
                by=staff.village_clerk, household=target, year=year, industry=industry, scale=Decimal(2)
            )
    assert count_queries(client, url) == one
