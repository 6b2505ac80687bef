"""The out-of-order commit: transaction A starts and writes first, B writes and commits, A commits last.

A feed that followed the id (or any sequence) alone would serve B, move its cursor past B, and never
serve A, whose change then appears behind the cursor. The feed holds B back until A has ended.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import psycopg
import pytest
from django.db import connection

from changes import feed
from changes.feed import FeedItem, Position
from changes.models import Change
from households.models import Household
from tests.changes.sync import drain
from tests.conftest import Staff
from tests.factories import Tree, household

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL leg)"),
    pytest.mark.django_db(transaction=True),
]

COUNTY = "532326"


def other_connection() -> psycopg.Connection:
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{connection.settings_dict['NAME']}").geturl()
    return psycopg.connect(url)


def test_a_change_committed_before_an_older_open_transaction_waits_for_it(tree: Tree, staff: Staff) -> None:
    first, second = household(staff.county_admin, tree.village_a1), household(staff.county_admin, tree.village_a1)
    start = drain("households", COUNTY)
    last_id = Change.objects.latest("id").id
    with other_connection() as older:
        # A: starts and writes first, stays open.
        older.execute("UPDATE households_household SET phone = '13900000001' WHERE id = %s", [first.pk])
        row = older.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
        assert row is not None
        older_txid = row[0]
        # B: writes after A and commits before it.
        Household.objects.filter(pk=second.pk).update(phone="13900000002")
        later = Change.objects.filter(resource="households", row_id=second.pk, op="U").latest("id")
        assert later.txid > older_txid
        # What a sequence-only feed would do: B is the only visible change, so its cursor would pass
        # A's change, which has the smaller id and becomes visible only when A commits.
        visible = Change.objects.filter(resource="households", id__gt=last_id)
        assert list(visible.values_list("row_id", flat=True)) == [second.pk]

        page = feed.read("households", COUNTY, start.cursor, 100)
        assert page.items == []  # B is not served while A, older, is open
        assert Position.decode(page.next_cursor) < Position(older_txid, 0)

        older.commit()
    assert Change.objects.filter(resource="households", row_id=first.pk, op="U").latest("id").id < later.id

    after = drain("households", COUNTY, page.next_cursor)
    assert after.items == [FeedItem(first.pk, "U", True), FeedItem(second.pk, "U", True)]
    assert drain("households", COUNTY, after.cursor).items == []  # nothing repeated


def test_an_open_transaction_that_rolls_back_holds_the_feed_only_while_it_is_open(tree: Tree, staff: Staff) -> None:
    first, second = household(staff.county_admin, tree.village_a1), household(staff.county_admin, tree.village_a1)
    start = drain("households", COUNTY)
    with other_connection() as older:
        older.execute("UPDATE households_household SET phone = '13900000001' WHERE id = %s", [first.pk])
        Household.objects.filter(pk=second.pk).update(phone="13900000002")
        assert feed.read("households", COUNTY, start.cursor, 100).items == []
        older.rollback()

    assert drain("households", COUNTY, start.cursor).items == [FeedItem(second.pk, "U", True)]
