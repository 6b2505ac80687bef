"""The change feed over HTTP: order and cursors, records as the read endpoints give them, tombstones for
deletions and moves out, moves in, scope, masking, bad and pruned cursors.

Transactional: on PostgreSQL a change is served only once its transaction has ended.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from changes.models import Change
from households.models import Household, IncomeRecord, Member
from regions.models import Level, Region
from tests.api.world import World, api_get, build_world, make_client
from tests.conftest import Staff
from tests.factories import Tree, household, threshold

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def empty_change_log(transactional_db: None) -> None:
    """The flush after an earlier transactional test deletes rows on SQLite, which the triggers log."""
    Change.objects.all().delete()


@pytest.fixture
def world(tree: Tree, staff: Staff) -> World:
    return build_world(tree, staff)


def cursor_of(secret: str, resource: str = "households") -> str:
    body = api_get(secret, f"/api/v1/{resource}/changes/").json()
    assert body["changes"] == [] and body["has_more"] is False
    return str(body["cursor"])


def drain(secret: str, resource: str, since: str, limit: int = 500) -> tuple[list[dict[str, Any]], str, int]:
    """Every change after `since`, page by page as a sync client reads them; and the pages it took."""
    changes: list[dict[str, Any]] = []
    pages = 0
    while True:
        response = api_get(secret, f"/api/v1/{resource}/changes/?since={since}&limit={limit}")
        assert response.status_code == 200, response.content
        body = response.json()
        pages += 1
        changes += body["changes"]
        since = body["cursor"]
        if not body["has_more"]:
            return changes, since, pages


def latest(changes: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    applied: dict[int, dict[str, Any]] = {}
    for change in changes:
        applied[change["id"]] = change
    return applied


def test_a_full_sync_then_the_feed_misses_nothing_and_records_equal_the_detail_endpoint(
    world: World, tree: Tree, staff: Staff
) -> None:
    _client, secret = make_client(tree.county, personal=True)
    start = cursor_of(secret)
    listed = {row["id"] for row in api_get(secret, "/api/v1/households/").json()["results"]}  # the full read
    later = household(staff.village_clerk, tree.village_a1, phone="13900000001")
    Household.objects.filter(pk=world.household.pk).update(address="新地址")

    changes, cursor, _pages = drain(secret, "households", start)

    assert listed == {world.household.pk}
    assert [change["id"] for change in changes] == [later.pk, world.household.pk]
    for change in changes:
        assert change["op"] == "upsert"
        assert change["record"] == api_get(secret, f"/api/v1/households/{change['id']}/").json()
    assert drain(secret, "households", cursor)[0] == []  # nothing served twice


def test_pages_follow_on_in_order_without_gaps_or_repeats(tree: Tree, staff: Staff) -> None:
    _client, secret = make_client(tree.county)
    start = cursor_of(secret)
    families = [household(staff.village_clerk, tree.village_a1) for _ in range(5)]

    changes, _cursor, pages = drain(secret, "households", start, limit=2)

    assert pages >= 3
    # A household is served again for each later change of it or its members, never before an earlier one.
    assert list(dict.fromkeys(change["id"] for change in changes)) == [family.pk for family in families]


def test_a_deletion_is_a_tombstone(world: World, tree: Tree) -> None:
    _client, secret = make_client(tree.county)
    start = cursor_of(secret, "income-records")
    IncomeRecord.history.filter(id=world.income.pk).delete()
    IncomeRecord.objects.filter(pk=world.income.pk).delete()

    assert drain(secret, "income-records", start)[0] == [{"id": world.income.pk, "op": "delete"}]


def test_a_household_moved_out_of_the_county_is_a_tombstone_there_and_a_record_where_it_went(
    world: World, tree: Tree
) -> None:
    _ours, secret = make_client(tree.county, personal=True)
    _theirs, their_secret = make_client(world.other_county, personal=True)
    ours, theirs = cursor_of(secret), cursor_of(their_secret)
    income_cursor = cursor_of(secret, "income-records")
    other_village = Region.objects.get(code="532301100201")

    Household.objects.filter(pk=world.household.pk).update(village=other_village)

    assert drain(secret, "households", ours)[0] == [{"id": world.household.pk, "op": "delete"}]
    assert drain(secret, "income-records", income_cursor)[0] == [{"id": world.income.pk, "op": "delete"}]
    arrived = latest(drain(their_secret, "households", theirs)[0])
    assert arrived[world.household.pk]["op"] == "upsert"
    assert arrived[world.household.pk]["record"]["village"] == "532301100201"


def test_a_household_moved_in_from_another_county_is_served_as_a_record(world: World, tree: Tree) -> None:
    _ours, secret = make_client(tree.county)
    start = cursor_of(secret)

    Household.objects.filter(pk=world.other_household.pk).update(village=tree.village_b1)

    changes = drain(secret, "households", start)[0]
    assert [(change["id"], change["op"]) for change in changes] == [(world.other_household.pk, "upsert")]
    assert changes[0]["record"]["village"] == tree.village_b1.code


def test_a_move_within_the_county_is_an_update(world: World, tree: Tree) -> None:
    _ours, secret = make_client(tree.county)
    start = cursor_of(secret)
    Household.objects.filter(pk=world.household.pk).update(village=tree.village_a2)

    changes = drain(secret, "households", start)[0]
    assert [(change["id"], change["op"], change["record"]["village"]) for change in changes] == [
        (world.household.pk, "upsert", tree.village_a2.code)
    ]


def test_a_countys_feed_never_carries_another_countys_rows(world: World, tree: Tree, staff: Staff) -> None:
    _ours, secret = make_client(tree.county)
    _theirs, their_secret = make_client(world.other_county)
    from api.resources import RESOURCES

    ours = {name: drain(secret, name, "0.0")[0] for name in RESOURCES}
    theirs = {name: drain(their_secret, name, "0.0")[0] for name in RESOURCES}

    assert {change["id"] for change in ours["households"]} == {world.household.pk}
    assert {change["id"] for change in theirs["households"]} == {world.other_household.pk}
    assert {change["id"] for change in theirs["income-records"]} == {world.other_income.pk}
    for name in RESOURCES:
        assert ours[name], f"the world has no {name}: the check would prove nothing"
        shared = {change["id"] for change in ours[name]} & {change["id"] for change in theirs[name]}
        if name == "regions":  # the province and the prefecture above both counties
            assert shared == {tree.province.pk, tree.prefecture.pk}
        elif name == "thresholds":  # set on the province
            assert shared == {change["id"] for change in ours[name]}
        else:
            assert shared == set(), name


def test_a_masked_client_gets_the_records_masked_as_the_list_gives_them(world: World, tree: Tree) -> None:
    _masked, secret = make_client(tree.county)
    household_changes = drain(secret, "households", "0.0")[0]
    alert_changes = drain(secret, "alerts", "0.0")[0]

    listed = api_get(secret, "/api/v1/households/").json()["results"]
    assert [change["record"] for change in household_changes] == listed
    text = str(household_changes) + str(alert_changes)
    stored = world.household.members.get()
    for secret_value in (stored.id_number, stored.birth_date.isoformat(), "13812345678"):
        assert secret_value not in text
    assert api_get(secret, "/api/v1/households/changes/").json()["personal_data"] is False


def test_a_members_change_serves_its_household_again_with_its_members(world: World, tree: Tree) -> None:
    _client, secret = make_client(tree.county, personal=True)
    start = cursor_of(secret)
    with connection.cursor() as sql:
        sql.execute("UPDATE households_member SET work_months = 7 WHERE household_id = %s", [world.household.pk])

    changes = drain(secret, "households", start)[0]
    assert [change["id"] for change in changes] == [world.household.pk]
    assert {row["work_months"] for row in changes[0]["record"]["members"]} == {7}
    assert Member.objects.filter(household=world.household, work_months=7).exists()


def test_a_threshold_set_on_the_province_reaches_a_county_clients_feed(tree: Tree, staff: Staff) -> None:
    _client, secret = make_client(tree.county)
    start = cursor_of(secret, "thresholds")
    set_above = threshold(tree.province, 2026, "9000")
    prefecture_below = Region.objects.create(
        code="532800000000", name="西双版纳州", level=Level.PREFECTURE, parent=tree.province
    )
    elsewhere = threshold(prefecture_below, 2026, "9100")

    served = {change["id"] for change in drain(secret, "thresholds", start)[0]}
    assert set_above.pk in served and elsewhere.pk not in served


def test_a_malformed_cursor_is_400_in_chinese(tree: Tree) -> None:
    _client, secret = make_client(tree.county)
    for since in ("", "abc", "1.2.3", "-1.5"):
        response = api_get(secret, f"/api/v1/households/changes/?since={since}")
        assert response.status_code == 400, since
        body = response.json()
        assert body["code"] == "invalid" and body["errors"][0]["field"] == "since"
        assert "同步游标" in body["errors"][0]["message"]
    assert api_get(secret, "/api/v1/households/changes/?since=0.0&limit=5001").status_code == 400


def test_a_pruned_cursor_is_410_in_chinese(world: World, tree: Tree, staff: Staff) -> None:
    _client, secret = make_client(tree.county)
    old = cursor_of(secret)
    Change.objects.update(at=timezone.now() - timedelta(days=40))
    household(staff.village_clerk, tree.village_a1)
    Change.objects.filter(at__gt=timezone.now() - timedelta(days=1)).update(at=timezone.now() - timedelta(days=35))
    household(staff.village_clerk, tree.village_a1)

    call_command("prune_changes", days=30)

    response = api_get(secret, f"/api/v1/households/changes/?since={old}")
    assert response.status_code == 410
    body = response.json()
    assert body["code"] == "cursor_expired" and "重新全量同步" in body["message"]


def test_a_client_without_the_read_right_gets_no_feed(tree: Tree) -> None:
    _client, secret = make_client(tree.county, readable=["regions"])
    assert api_get(secret, "/api/v1/households/changes/").status_code == 403
    assert api_get(secret, "/api/v1/regions/changes/").status_code == 200
