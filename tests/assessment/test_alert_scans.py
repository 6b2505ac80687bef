"""Raising alerts reads only what changed since the day's first scan of the county."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from assessment.alerts import alerts_raise
from assessment.models import Alert, AlertScan
from figures.periods import Quarter
from households.models import Member
from regions.services import data_changed
from tests.conftest import Staff
from tests.factories import Tree, household, member

PERIOD = Quarter(2026, 2)


def make_old(household_id: int) -> None:
    """Age a member past 100 behind the services' back (no change is recorded)."""
    Member.objects.filter(household_id=household_id).update(birth_date=date(1920, 1, 1))


def too_old() -> set[int]:
    return set(Alert.objects.filter(rule="member_too_old").values_list("household_id", flat=True))


def test_a_later_scan_the_same_day_reads_only_the_villages_that_changed(tree: Tree, staff: Staff) -> None:
    in_a1 = household(staff.county_admin, tree.village_a1, members=[member(birth="19600101")])
    in_b1 = household(staff.county_admin, tree.village_b1, members=[member(birth="19600101")])
    alerts_raise(scope=tree.county, period=PERIOD)
    assert too_old() == set()

    make_old(in_a1.pk)
    make_old(in_b1.pk)
    alerts_raise(scope=tree.county, period=PERIOD)
    assert too_old() == set()  # nothing was recorded as changed: nothing is read again

    data_changed(codes=[tree.village_a1.code])
    alerts_raise(scope=tree.county, period=PERIOD)
    assert too_old() == {in_a1.pk}  # 大村村 read again, 湾碧村 not

    AlertScan.objects.update(scanned_on=timezone.localdate() - timedelta(days=1))
    alerts_raise(scope=tree.county, period=PERIOD)
    assert too_old() == {in_a1.pk, in_b1.pk}  # the day's first scan reads the whole county
