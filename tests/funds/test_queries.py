"""The lists, the overview and the township page take the same number of queries however many rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from funds import services
from funds.models import AssetKind, FundLevel, Project
from regions.models import Level, Region, Role
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household, make_user
from tests.funds.conftest import Rows
from tests.funds.factories import allocation, library_project

LISTS = [
    "allocation_list",
    "project_list",
    "payment_list",
    "asset_list",
    "collective_income_list",
    "village_profile_list",
    "fund_overview",
    "collective_township",
]


def fill(tree: Tree, staff: Staff, start: int, count: int) -> None:
    """`count` more villages of 湾碧乡, each with a funded project, a payment, an asset, a profile and income."""
    admin = staff.county_admin
    for index in range(start, start + count):
        village = Region.objects.create(
            code=f"5323262002{index:02d}", name=f"新村{index}", level=Level.VILLAGE, parent=tree.township_b
        )
        source = allocation(admin, tree.county, "100000", level=list(FundLevel)[index % 4])
        split = services.allocation_split(
            by=admin,
            parent=source,
            township=tree.township_b,
            amount=Decimal("50000"),
            document_number=f"大财农〔2025〕{index + 100}号",
            issued_on=date(2025, 3, 5),
        )
        project = library_project(admin, village, [household(admin, village), household(admin, village)])
        for line in (
            services.funding_create(by=admin, project=project, allocation=source, amount=Decimal("1000")),
            services.funding_create(by=admin, project=project, allocation=split, amount=Decimal("2000")),
        ):
            services.payment_create(by=admin, funding=line, paid_on=date(2025, 5, 1), amount=Decimal("500"))
        services.asset_create(
            by=admin, project=project, kind=AssetKind.PUBLIC, name="产业路", value=Decimal("1"), owner_village=village
        )
        services.village_profile_save(
            by=admin, village=village, year=2025, was_poverty_village=True, has_party_complex=index % 2 == 0
        )
        clerk = make_user(f"clerk{index}", Role.VILLAGE_CLERK, village)
        services.collective_income_save(
            by=clerk, village=village, year=2025, quarter=1, amounts={"business_income": Decimal(index * 10000)}
        )


def count_queries(client: Client, url: str, params: dict[str, Any]) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(context.captured_queries)


PARAMS = {
    "fund_overview": {"year": 2025},
    "collective_township": {"year": 2025, "quarter": 1},
}


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("role", ["county_admin", "other_township_admin"])
def test_list_queries_do_not_grow_with_rows(
    tree: Tree, staff: Staff, township_b_rows: Rows, name: str, role: str, django_assert_num_queries: Any
) -> None:
    client = Client()
    assert client.login(username=getattr(staff, role).username, password=PASSWORD)
    fill(tree, staff, 3, 2)
    url = reverse(name)
    params = PARAMS.get(name, {"year": 2025, "within": tree.township_b.pk})
    client.get(url, params)  # the reference lists (regions/reference.py) are kept from now on
    few = count_queries(client, url, params)
    fill(tree, staff, 5, 6)
    assert Project.objects.count() == 9
    with django_assert_num_queries(few):
        client.get(url, params)
    assert few <= 16


def test_the_project_page_takes_the_same_queries_however_many_households_and_lines(
    tree: Tree, staff: Staff, township_b_rows: Rows
) -> None:
    client = Client()
    assert client.login(username=staff.county_admin.username, password=PASSWORD)
    project = Project.objects.get(pk=township_b_rows.project.pk)
    url = reverse("project_detail", args=[project.pk])
    client.get(url)  # the reference lists (regions/reference.py) are kept from now on
    few = count_queries(client, url, {})
    admin = staff.county_admin
    services.project_beneficiaries_add(
        by=admin,
        project=project,
        expected_version=project.version,
        households=[household(admin, tree.village_b1) for _ in range(6)],
    )
    for index in range(3):
        source = allocation(admin, tree.county, "10000", level=list(FundLevel)[index + 1])
        line = services.funding_create(by=admin, project=project, allocation=source, amount=Decimal("100"))
        services.payment_create(by=admin, funding=line, paid_on=date(2025, 5, 1), amount=Decimal("10"))
    assert count_queries(client, url, {}) == few
