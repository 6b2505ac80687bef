"""The change feed on either database: what each kind of write logs and how a scoped client reads it.

Transactional tests: on PostgreSQL a change is served only once its transaction has ended, and a
test's own wrapping transaction never ends.
"""

from __future__ import annotations

import pytest
from django.db import connection

from changes import feed
from changes.feed import FeedItem, InvalidCursor
from changes.models import Change
from households.models import Household, IncomeRecord, Member
from tests.changes.sync import drain, other_county
from tests.conftest import Staff
from tests.factories import Tree, household, income

pytestmark = pytest.mark.django_db(transaction=True)

COUNTY = "532326"
VILLAGE_A1 = "532326100201"


def test_a_registered_household_and_its_members_are_served_as_inserts(tree: Tree, staff: Staff) -> None:
    family = household(staff.county_admin, tree.village_a1)
    members = sorted(family.members.values_list("pk", flat=True))

    assert drain("households", COUNTY).items == [FeedItem(family.pk, "I", True)]
    assert sorted(drain("members", COUNTY).ids()) == members
    assert drain("households", "532325").items == []  # another county's client sees nothing of it


def test_an_update_and_a_delete_are_served_with_the_latest_op_once_per_page(tree: Tree, staff: Staff) -> None:
    family = household(staff.county_admin, tree.village_a1)
    cursor = feed.current_cursor()
    Household.objects.filter(pk=family.pk).update(phone="13900000000")
    Household.objects.filter(pk=family.pk).update(phone="13900000001")

    assert drain("households", COUNTY, cursor).items == [FeedItem(family.pk, "U", True)]

    family.members.all().delete()
    IncomeRecord.objects.filter(household=family).delete()
    Household.history.filter(id=family.pk).delete()
    Household.objects.filter(pk=family.pk).delete()
    assert drain("households", COUNTY, cursor).items == [FeedItem(family.pk, "D", False)]


def test_pages_follow_on_without_gaps_and_end_where_nothing_is_left(tree: Tree, staff: Staff) -> None:
    families = [household(staff.county_admin, tree.village_a1) for _ in range(5)]

    pages: list[feed.FeedPage] = []
    cursor: str | None = None
    while not pages or pages[-1].has_more:
        pages.append(feed.read("households", COUNTY, cursor, 2))
        cursor = pages[-1].next_cursor

    assert len(pages) >= 3  # at least 5 changes in pages of 2
    for page in pages:
        assert len({item.row_id for item in page.items}) == len(page.items)  # once per page
    served = [item.row_id for page in pages for item in page.items]
    assert list(dict.fromkeys(served)) == [family.pk for family in families]
    assert feed.read("households", COUNTY, cursor, 2).items == []


def test_a_household_moved_within_the_county_leaves_the_old_villages_feed_only(tree: Tree, staff: Staff) -> None:
    family = household(staff.county_admin, tree.village_a1)
    county, village = drain("households", COUNTY), drain("households", VILLAGE_A1)

    Household.objects.filter(pk=family.pk).update(village=tree.village_a2)

    assert drain("households", COUNTY, county.cursor).items == [FeedItem(family.pk, "U", True)]
    assert drain("households", VILLAGE_A1, village.cursor).items == [FeedItem(family.pk, "U", False)]
    assert drain("households", tree.village_a2.code, village.cursor).items == [FeedItem(family.pk, "U", True)]


def test_a_household_moved_to_another_county_takes_its_members_and_income_along(tree: Tree, staff: Staff) -> None:
    family = household(staff.county_admin, tree.village_a1)
    record = income(staff.county_admin, family, "2025Q1", wages_migrant_work="3000")
    members = set(family.members.values_list("pk", flat=True))
    cursor = feed.current_cursor()
    elsewhere = other_county(tree)

    family.village = elsewhere
    family.save(update_fields=["village"])

    for resource, ids in (("households", {family.pk}), ("members", members), ("income_records", {record.pk})):
        old_county, new_county = drain(resource, COUNTY, cursor).rows(), drain(resource, "532325", cursor).rows()
        assert old_county == dict.fromkeys(ids, ("U", False)), resource  # tombstones: left the county
        assert new_county == dict.fromkeys(ids, ("U", True)), resource


def test_members_and_income_carry_their_households_village_code(tree: Tree, staff: Staff) -> None:
    family = household(staff.county_admin, tree.village_b1)
    record = income(staff.county_admin, family, "2025Q1", wages_migrant_work="3000")

    codes = set(
        Change.objects.filter(resource__in=["members", "income_records"]).values_list("region_code_new", flat=True)
    )
    assert codes == {tree.village_b1.code}
    assert drain("income_records", tree.village_b1.code).rows()[record.pk] == ("I", True)


def test_bulk_update_and_raw_sql_are_captured(tree: Tree, staff: Staff) -> None:
    families = [household(staff.county_admin, tree.village_a1) for _ in range(3)]
    cursor = feed.current_cursor()
    for index, family in enumerate(families):
        family.phone = f"1390000000{index}"
    Household.objects.bulk_update(families, ["phone"])
    with connection.cursor() as sql:
        sql.execute("UPDATE households_member SET name = name || '甲' WHERE household_id = %s", [families[0].pk])

    assert drain("households", COUNTY, cursor).rows() == {family.pk: ("U", True) for family in families}
    updated_members = set(Member.objects.filter(household=families[0]).values_list("pk", flat=True))
    assert set(drain("members", COUNTY, cursor).rows()) == updated_members


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite logs every update (PostgreSQL leg)")
def test_an_update_that_changes_nothing_is_not_logged(tree: Tree, staff: Staff) -> None:
    family = household(staff.county_admin, tree.village_a1)
    cursor = feed.current_cursor()

    Household.objects.filter(pk=family.pk).update(phone=family.phone)

    assert drain("households", "", cursor).items == []


def test_a_full_sync_starting_at_the_current_cursor_is_served_only_later_changes(tree: Tree, staff: Staff) -> None:
    household(staff.county_admin, tree.village_a1)
    cursor = feed.current_cursor()  # a full sync reads every household after taking it
    later = household(staff.county_admin, tree.village_a2)

    assert drain("households", "", cursor).items == [FeedItem(later.pk, "I", True)]


def test_a_cursor_the_feed_never_handed_out_is_refused() -> None:
    for cursor in ("", "abc", "1.2.3", "-1.5", "99999999999999999999.1"):
        with pytest.raises(InvalidCursor):
            feed.read("households", "", cursor, 10)
    with pytest.raises(ValueError, match="unknown resource"):
        feed.read("passwords", "", None, 10)
