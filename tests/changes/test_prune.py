"""Retention: prune_changes deletes old changes, and a cursor from before them is refused, not served short."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from changes import feed
from changes.feed import CursorExpired, FeedItem
from changes.models import Change
from tests.changes.sync import drain
from tests.conftest import Staff
from tests.factories import Tree, household

pytestmark = pytest.mark.django_db(transaction=True)


def test_pruning_deletes_old_changes_and_expires_the_cursors_behind_them(tree: Tree, staff: Staff) -> None:
    old = household(staff.county_admin, tree.village_a1)
    old_cursor = feed.current_cursor()
    old_changes = Change.objects.update(at=timezone.now() - timedelta(days=40))
    recent = household(staff.county_admin, tree.village_a1)
    recent_changes = Change.objects.count() - old_changes

    call_command("prune_changes", days=30)

    assert Change.objects.count() == recent_changes > 0
    assert not Change.objects.filter(row_id=old.pk).exists()
    for cursor in (None, "0.0"):
        with pytest.raises(CursorExpired):
            feed.read("households", "", cursor, 10)
    assert drain("households", "", old_cursor).items == [FeedItem(recent.pk, "I", True)]


def test_pruning_with_nothing_old_enough_keeps_everything_and_expires_nothing(tree: Tree, staff: Staff) -> None:
    family = household(staff.county_admin, tree.village_a1)

    call_command("prune_changes", days=30)

    assert drain("households", "").items == [FeedItem(family.pk, "I", True)]
