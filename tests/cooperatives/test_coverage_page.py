"""The 双绑 覆盖 page (/cooperatives/coverage/): the eligible households not yet covered, by village, in
the user's scope only; its counts agree with the 双绑覆盖率 figure (tests/cooperatives/coverage_county.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessment.engine import indicators_compute
from assessment.models import IndicatorValue
from cooperatives import coverage_views
from figures.periods import Quarter
from regions.models import Region
from tests.conftest import Staff
from tests.cooperatives import coverage_county
from tests.cooperatives.coverage_county import CoverageCounty
from tests.factories import PASSWORD, Tree, household

PERIOD = Quarter(2026, 2)
URL = "/cooperatives/coverage/"


@pytest.fixture
def county(tree: Tree, staff: Staff) -> CoverageCounty:
    return coverage_county.build(tree, staff.county_admin)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def listed(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-household="(\d+)"', html)}


def ids(county: CoverageCounty, *keys: str) -> set[int]:
    return {county.households[key].pk for key in keys}


def get(client: Client, **query: str) -> str:
    response = client.get(URL, query)
    assert response.status_code == 200
    return response.content.decode()


def village_uncovered(html: str, village: Region) -> int:
    row = re.search(rf'data-village="{village.code}">(.*?)</tr>', html, re.S)
    assert row, village.name
    cell = re.search(r'data-testid="village-uncovered">(?:<a[^>]*>)?(\d+)', row.group(1))
    assert cell
    return int(cell.group(1))


def test_the_url_is_the_cooperatives_coverage_page() -> None:
    assert reverse("cooperative_coverage") == URL


def test_a_township_admin_sees_the_households_left_in_their_township_by_village(
    tree: Tree, county: CoverageCounty
) -> None:
    html = get(client_for("xiang"), period=str(PERIOD))
    # 金碧镇: H2 (its cooperative's binding ended), H5 (its cooperative was cancelled), H6 (none).
    # Never 湾碧乡's H8, nor the covered H1, nor H3 (no labour) or H4 (一般农户).
    assert listed(html) == ids(county, "H2", "H5", "H6")
    assert village_uncovered(html, tree.village_a1) == 1
    assert village_uncovered(html, tree.village_a2) == 2
    assert tree.village_b1.code not in html
    assert re.search(r'data-testid="eligible">4<', html) and re.search(r'data-testid="covered">1<', html)
    assert f'href="{reverse("household_detail", args=[county.households["H2"].pk])}"' in html
    # H2 is in a cooperative: the fix is a binding for it, not a cooperative for the household
    assert "合作社未绑定龙头企业" in html and "湾碧花椒合作社" in html


def test_the_list_agrees_with_the_figure_for_the_same_quarter(tree: Tree, county: CoverageCounty) -> None:
    indicators_compute(scope=tree.county, period=PERIOD)
    html = get(client_for("xian"), period=str(PERIOD))
    assert listed(html) == ids(county, "H2", "H5", "H6", "H8")
    for village in (tree.village_a1, tree.village_a2, tree.village_b1):
        stored = IndicatorValue.objects.get(indicator="binding_coverage", region=village, year=2026, quarter=2)
        assert stored.denominator is not None
        assert village_uncovered(html, village) == stored.denominator - stored.numerator


def test_without_a_quarter_the_list_is_as_of_today(tree: Tree, county: CoverageCounty) -> None:
    # Nothing in the fixture changes after 2026-06-30, so today's list is the quarter's.
    assert listed(get(client_for("xiang"))) == ids(county, "H2", "H5", "H6")


def test_a_village_clerk_sees_their_village_only(tree: Tree, county: CoverageCounty) -> None:
    client = client_for("cun")
    assert listed(get(client, period=str(PERIOD))) == ids(county, "H2")
    assert client.get(URL, {"region": tree.village_a2.code}).status_code == 404


def test_a_region_outside_the_users_scope_is_not_found(tree: Tree, county: CoverageCounty) -> None:
    client = client_for("xiang")
    for code in (tree.township_b.code, tree.village_b1.code, tree.county.code, "999999999999"):
        assert client.get(URL, {"region": code}).status_code == 404
    assert client.get(URL, {"period": "2026Q5"}).status_code == 404


def test_a_region_inside_the_scope_narrows_the_list(tree: Tree, county: CoverageCounty) -> None:
    html = get(client_for("xiang"), region=tree.village_a2.code, period=str(PERIOD))
    assert listed(html) == ids(county, "H5", "H6")


def test_anonymous_users_are_sent_to_log_in() -> None:
    response = Client().get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_list_is_paginated(tree: Tree, county: CoverageCounty, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coverage_views, "PAGE_SIZE", 2)
    client = client_for("xiang")
    first = listed(get(client, period=str(PERIOD)))
    second = listed(get(client, period=str(PERIOD), page="2"))
    assert len(first) == 2 and len(second) == 1
    assert first | second == ids(county, "H2", "H5", "H6")


def test_the_number_of_queries_does_not_grow_with_the_households_listed(
    tree: Tree, staff: Staff, county: CoverageCounty
) -> None:
    client = client_for("xian")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            get(client, period=str(PERIOD))
        return len(captured.captured_queries)

    before = queries()
    for _ in range(3):
        household(staff.county_admin, tree.village_a2)
    assert queries() == before


def test_other_townships_households_are_never_listed_even_when_their_cooperative_is_here(
    tree: Tree, staff: Staff, county: CoverageCounty, django_user_model: Any
) -> None:
    # H2 (金碧镇) is in C3, registered in 湾碧乡: 湾碧乡's admin lists its own H8 only.
    assert listed(get(client_for("xiang2"), period=str(PERIOD))) == ids(county, "H8")
