"""Rows that are part of another record as the API shows it (members, a case's risk types, a project's
households, a cooperative's members) log an update of that record, so its feed serves it again."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from changes import feed
from changes.feed import FeedItem
from cooperatives.models import JoiningMethod, Membership
from funds.models import Beneficiary
from households.models import Member, MonitoringCase, MonitoringCategory, RiskType
from regions.models import Region
from tests.changes.sync import drain, other_county
from tests.conftest import Staff
from tests.factories import Tree, household
from tests.funds.factories import bound_pair, library_project

pytestmark = pytest.mark.django_db(transaction=True)

COUNTY = "532326"


def test_a_members_change_and_deletion_are_updates_of_its_household(tree: Tree, staff: Staff) -> None:
    family, other = household(staff.county_admin, tree.village_a1), household(staff.county_admin, tree.village_a1)
    spouse = family.members.exclude(relation="head").get()
    cursor = feed.current_cursor()

    with connection.cursor() as sql:
        sql.execute("UPDATE households_member SET work_months = 3 WHERE id = %s", [spouse.pk])
    assert drain("households", COUNTY, cursor).items == [FeedItem(family.pk, "U", True)]

    cursor = feed.current_cursor()
    Member.objects.filter(pk=spouse.pk).delete()
    assert drain("households", COUNTY, cursor).items == [FeedItem(family.pk, "U", True)]

    cursor = feed.current_cursor()
    head = other.members.get(relation="head")
    Member.objects.filter(pk=head.pk).update(household=family, relation="other")  # moved to another household
    assert set(drain("households", COUNTY, cursor).rows()) == {family.pk, other.pk}


def test_a_cases_risk_types_are_part_of_the_case(tree: Tree, staff: Staff) -> None:
    family = household(staff.county_admin, tree.village_a1)
    case = MonitoringCase.objects.create(
        household=family, category=MonitoringCategory.UNSTABLE, identified_month=date(2025, 1, 1)
    )
    cursor = feed.current_cursor()

    case.risk_types.set(RiskType.objects.all()[:2])
    assert drain("monitoring_cases", COUNTY, cursor).items == [FeedItem(case.pk, "U", True)]
    cursor = feed.current_cursor()
    case.risk_types.clear()
    assert drain("monitoring_cases", COUNTY, cursor).items == [FeedItem(case.pk, "U", True)]


def test_removing_a_projects_household_is_an_update_of_the_project(tree: Tree, staff: Staff) -> None:
    family = household(staff.county_admin, tree.village_a1)
    project = library_project(staff.county_admin, tree.village_a1, [family])
    cursor = feed.current_cursor()

    Beneficiary.objects.filter(project=project).delete()

    assert drain("projects", COUNTY, cursor).items == [FeedItem(project.pk, "U", True)]


def test_a_cooperative_of_another_county_reaches_a_countys_feed_through_a_member_household(
    tree: Tree, staff: Staff
) -> None:
    elsewhere = other_county(tree)
    _enterprise, cooperative = bound_pair(Region.objects.get(code="532325000000"), elsewhere)
    family = household(staff.county_admin, tree.village_a1)
    cursor = feed.current_cursor()
    assert drain("entities", COUNTY).items == []  # registered in 姚安县: nothing of 大姚县's

    Membership.objects.create(
        cooperative=cooperative,
        household=family,
        joining_method=JoiningMethod.objects.all()[0],
        joined_on=date(2025, 1, 1),
    )

    assert drain("entities", COUNTY, cursor).rows() == {cooperative.pk: ("U", True)}
