"""The home page's counts are the row counts of the lists they link to; the list's filters."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from households.list_conditions import months_before
from households.models import Household, MonitoringCase, MonitoringCategory, RiskType
from households.quarter import Quarter
from households.services import monitoring_case_register
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household, income, threshold


def signed_in(username: str) -> Client:
    client = Client()
    client.login(username=username, password=PASSWORD)
    return client


def listed(client: Client, url: str) -> int:
    page = client.get(url).content.decode()
    found = re.search(r"共 (\d+) 户", page)
    assert found, url
    return int(found.group(1))


def case(
    staff: Staff,
    target: Household,
    identified: date,
    risk: str = "illness",
    category: str = MonitoringCategory.UNSTABLE,
) -> None:
    monitoring_case_register(
        by=staff.township_admin,
        household=target,
        category=category,
        identified_month=identified,
        risk_types=RiskType.objects.filter(code=risk),
    )


@pytest.fixture
def ledger(tree: Tree, staff: Staff) -> dict[str, Household]:
    """Households of 金碧镇: old and recent cases, one below the threshold, one with this quarter's income."""
    today = date.today()
    reported = Quarter.containing(today).previous()
    threshold(tree.county, reported.year, "6000")
    old_case = household(staff.township_admin, tree.village_a1, helper_name="王帮扶")
    recent_case = household(staff.township_admin, tree.village_a2)
    poor = household(staff.township_admin, tree.village_a1, household_type="ordinary")
    entered = household(staff.township_admin, tree.village_a2, household_type="ordinary")
    case(staff, old_case, months_before(today, 8))
    case(staff, recent_case, months_before(today, 2), risk="disability")
    for quarter in reported.trailing_four():
        income(staff.township_admin, poor, str(quarter), wages_other="1000")
        income(staff.township_admin, entered, str(quarter), wages_other="8000")
    return {"old_case": old_case, "recent_case": recent_case, "poor": poor, "entered": entered}


def shown_and_listed(client: Client) -> dict[str, int]:
    """Each home count by its key, after checking that it equals the rows of the list it links to."""
    page = client.get(reverse("home")).content.decode()
    links = re.findall(r'href="([^"]+)" data-testid="count-(\w+)">.*?(\d+)</(?:div|span)>', page, re.S)
    assert {key for _url, key, _count in links} == {
        "households",
        "lifted",
        "monitored",
        "below_threshold_unmonitored",
        "missing_income",
        "eligible_for_review",
    }
    for url, key, count in links:
        assert listed(client, url.replace("&amp;", "&")) == int(count), key
    return {key: int(count) for _url, key, count in links}


def test_each_home_count_equals_the_rows_of_the_list_it_links_to(
    tree: Tree, staff: Staff, ledger: dict[str, Household]
) -> None:
    client = signed_in(staff.township_admin.username)
    shown = shown_and_listed(client)
    assert shown["monitored"] == 2
    assert shown["eligible_for_review"] == 1  # the recent case is not yet six months old
    assert shown["below_threshold_unmonitored"] == 1
    assert shown["missing_income"] == 2


def test_eliminated_cases_neither_count_as_monitored_nor_hide_a_household_below_the_threshold(
    tree: Tree, staff: Staff, ledger: dict[str, Household]
) -> None:
    today = date.today()
    # The open case is a join on the household's one open case: eliminated ones must not match or repeat it.
    case(staff, ledger["poor"], months_before(today, 14), category=MonitoringCategory.MARGINAL)
    for target in (ledger["old_case"], ledger["poor"]):
        MonitoringCase.objects.filter(household=target).update(
            eliminated_month=months_before(today, 7), elimination_method="assisted"
        )
    case(staff, ledger["old_case"], months_before(today, 6))
    client = signed_in(staff.township_admin.username)
    shown = shown_and_listed(client)
    assert shown["monitored"] == 2
    assert shown["eligible_for_review"] == 1  # the old case's household, on its new case of six months
    assert shown["below_threshold_unmonitored"] == 1  # poor, whose only case is eliminated


def test_a_household_that_recorded_a_later_quarter_but_not_the_reported_one_is_missing_its_income(
    tree: Tree, staff: Staff, ledger: dict[str, Household]
) -> None:
    reported, current = Quarter.containing(date.today()).previous(), Quarter.containing(date.today())
    ahead = household(staff.township_admin, tree.village_a1, household_type="ordinary")
    income(staff.township_admin, ahead, str(current), wages_other="3000")
    income(staff.township_admin, ledger["entered"], str(current), wages_other="3000")
    income(staff.township_admin, ledger["old_case"], str(reported.previous()), wages_other="3000")
    client = signed_in(staff.township_admin.username)
    # old_case (an earlier quarter only), recent_case (none) and ahead (a later one only); entered has both.
    assert shown_and_listed(client)["missing_income"] == 3


def test_a_county_user_filters_the_list_by_township(tree: Tree, staff: Staff, ledger: dict[str, Household]) -> None:
    household(staff.county_admin, tree.village_b1)
    client = signed_in(staff.county_viewer.username)
    assert 'data-testid="filter-township"' in client.get(reverse("household_list")).content.decode()
    assert listed(client, reverse("household_list")) == 5
    assert listed(client, f"{reverse('household_list')}?township={tree.township_a.pk}") == 4
    assert listed(client, f"{reverse('household_list')}?township={tree.township_b.pk}") == 1


def test_a_township_user_has_no_township_filter(tree: Tree, staff: Staff, ledger: dict[str, Household]) -> None:
    client = signed_in(staff.township_admin.username)
    assert 'data-testid="filter-township"' not in client.get(reverse("household_list")).content.decode()


def test_the_list_filters_by_risk_type_and_helper(tree: Tree, staff: Staff, ledger: dict[str, Household]) -> None:
    client = signed_in(staff.township_admin.username)
    disability = RiskType.objects.get(code="disability")
    assert listed(client, f"{reverse('household_list')}?risk_type={disability.pk}") == 1
    assert listed(client, f"{reverse('household_list')}?helper=王帮扶") == 1
    assert listed(client, f"{reverse('household_list')}?helper=王") == 0


def test_the_list_filters_by_distance_to_the_threshold(tree: Tree, staff: Staff, ledger: dict[str, Household]) -> None:
    client = signed_in(staff.township_admin.username)
    reported = Quarter.containing(date.today()).previous()
    # 4 quarters of 2,000 yuan wages for two people: 4,000 a person, 5,700 is within 10% below 6,000.
    near = household(staff.township_admin, tree.village_a1, household_type="ordinary")
    for quarter in reported.trailing_four():
        income(staff.township_admin, near, str(quarter), wages_other="2850")
    assert listed(client, f"{reverse('household_list')}?band=below") == 2
    assert listed(client, f"{reverse('household_list')}?band=below_near") == 1
    assert listed(client, f"{reverse('household_list')}?band=above_near") == 0


def test_the_list_filters_households_whose_income_fell_from_the_same_quarter_last_year(
    tree: Tree, staff: Staff, ledger: dict[str, Household]
) -> None:
    client = signed_in(staff.township_admin.username)
    reported = Quarter.containing(date.today()).previous()
    falling = household(staff.township_admin, tree.village_a1, household_type="ordinary")
    rising = household(staff.township_admin, tree.village_a1, household_type="ordinary")
    income(staff.township_admin, falling, str(reported.year_earlier()), wages_other="3000")
    income(staff.township_admin, falling, str(reported), wages_other="2000")
    income(staff.township_admin, rising, str(reported.year_earlier()), wages_other="2000")
    income(staff.township_admin, rising, str(reported), wages_other="3000")
    assert listed(client, f"{reverse('household_list')}?fell=on") == 1


def test_an_export_of_the_list_keeps_its_township_filter(
    tree: Tree, staff: Staff, ledger: dict[str, Household]
) -> None:
    from households.excel.export_jobs import filter_form
    from households.selectors import household_list

    household(staff.county_admin, tree.village_b1)
    query = QueryDict(f"township={tree.township_b.pk}")
    form = filter_form(user=staff.county_viewer, query=query)
    assert form.is_valid(), form.errors
    assert household_list(user=staff.county_viewer, **form.selector_filters()).count() == 1
