"""Raising alerts (idempotent, parameters as data, closed quarters left alone) and their lifecycle."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from assessment.alerts import (
    alert_confirm,
    alert_dismiss,
    alert_handle,
    alerts_dismiss_bulk,
    alerts_raise,
)
from assessment.models import Alert, AlertStatus, ComputeRun, ParameterValue
from assessment.services import compute_run_execute
from households.closing import ClosedQuarter
from households.models import Household
from tests.assessment.alert_fixtures import PERIOD, below_threshold, person, refresh, set_threshold, two_people
from tests.conftest import Staff
from tests.factories import Tree, household, income


def _raise(tree: Tree) -> int:
    refresh(tree.county)
    return alerts_raise(scope=tree.county, period=PERIOD)


def _one_alert(tree: Tree, staff: Staff, village: object = None) -> Alert:
    """A household in the village (default 大村村) flagged only by 疑点：成员年龄超过100岁."""
    target = household(staff.county_admin, village or tree.village_a1, members=[person(birth="19200101")])  # type: ignore[arg-type]
    income(staff.county_admin, target, "2026Q2", wages_migrant_work="100")
    _raise(tree)
    return Alert.objects.get(household=target)


def test_raising_inserts_one_alert_per_household_rule_and_quarter_and_a_second_run_adds_nothing(
    tree: Tree, staff: Staff
) -> None:
    set_threshold(tree.county)
    below = below_threshold(staff.village_clerk, tree.village_a1)
    missing = household(staff.county_admin, tree.village_a2)

    first = _raise(tree)
    second = _raise(tree)

    assert first == 2
    assert second == 0
    assert set(Alert.objects.values_list("household_id", "rule", "year", "quarter", "status")) == {
        (below.pk, "below_threshold_unmonitored", 2026, 2, AlertStatus.PENDING),
        (missing.pk, "income_missing", 2026, 2, AlertStatus.PENDING),
    }
    alert = Alert.objects.get(household=below)
    assert alert.figures == {"近四季度人均纯收入": "4,000.00元", "监测标准": "7,000.00元"}


def test_a_second_run_keeps_the_status_someone_already_set(tree: Tree, staff: Staff) -> None:
    alert = _one_alert(tree, staff)
    alert_dismiss(
        by=staff.village_clerk, alert=alert, reason="身份证号录入有误，已更正", expected_version=alert.version
    )

    assert _raise(tree) == 0

    alert.refresh_from_db()
    assert alert.status == AlertStatus.DISMISSED
    assert alert.reason == "身份证号录入有误，已更正"


def test_a_parameter_set_as_data_on_the_county_overrides_the_rules_default(tree: Tree, staff: Staff) -> None:
    household(staff.village_clerk, tree.village_a1, members=[person(birth="19300101")])  # 96 at 2026-06-30
    assert _raise(tree) >= 0
    assert not Alert.objects.filter(rule="member_too_old").exists()

    ParameterValue.objects.create(region=tree.county, year=2026, key="member_age_limit", value=Decimal("95"))
    _raise(tree)

    assert Alert.objects.filter(rule="member_too_old").count() == 1


def test_the_engine_run_raises_alerts_for_live_counties_and_not_for_a_closed_quarter(tree: Tree, staff: Staff) -> None:
    set_threshold(tree.county)
    below = below_threshold(staff.village_clerk, tree.village_a1)
    closed = ClosedQuarter.objects.create(county=tree.county, year=2026, quarter=2)

    run = ComputeRun.objects.create(scope=tree.county, year=2026, quarter=2, reason="manual")
    compute_run_execute(run_id=run.pk)
    assert not Alert.objects.exists()

    closed.delete()
    run = ComputeRun.objects.create(scope=tree.township_a, year=2026, quarter=2, reason="manual")
    done = compute_run_execute(run_id=run.pk)

    assert done.status == "done"
    assert "新增预警1条" in done.message
    assert list(Alert.objects.values_list("household_id", "rule")) == [(below.pk, "below_threshold_unmonitored")]


# --- lifecycle --------------------------------------------------------------------------------


def test_confirming_moves_pending_to_confirmed_and_keeps_history(tree: Tree, staff: Staff) -> None:
    alert = _one_alert(tree, staff)

    confirmed = alert_confirm(by=staff.township_admin, alert=alert, expected_version=1, note="入户核实属实")

    assert (confirmed.status, confirmed.version, confirmed.reason) == (AlertStatus.CONFIRMED, 2, "入户核实属实")
    entry = confirmed.history.latest()
    assert (entry.status, entry.history_user, entry.history_change_reason) == (
        AlertStatus.CONFIRMED,
        staff.township_admin,
        "入户核实属实",
    )
    handled = alert_handle(by=staff.township_admin, alert=confirmed, expected_version=2)
    assert handled.status == AlertStatus.HANDLED
    assert confirmed.history.count() == 2


def test_dismissing_without_a_reason_is_refused_and_changes_nothing(tree: Tree, staff: Staff) -> None:
    alert = _one_alert(tree, staff)

    with pytest.raises(ValidationError, match="须填写原因"):
        alert_dismiss(by=staff.village_clerk, alert=alert, reason="   ", expected_version=1)

    alert.refresh_from_db()
    assert (alert.status, alert.version) == (AlertStatus.PENDING, 1)


def test_a_second_dismissal_with_the_same_version_is_refused_not_overwritten(tree: Tree, staff: Staff) -> None:
    alert = _one_alert(tree, staff)
    alert_dismiss(by=staff.village_clerk, alert=alert, reason="第一位：数据无误", expected_version=1)

    with pytest.raises(ValidationError, match="已被他人处理"):
        alert_dismiss(by=staff.township_admin, alert=alert, reason="第二位：另有原因", expected_version=1)

    alert.refresh_from_db()
    assert (alert.status, alert.reason, alert.version) == (AlertStatus.DISMISSED, "第一位：数据无误", 2)


def test_a_closed_alert_cannot_be_confirmed_again(tree: Tree, staff: Staff) -> None:
    alert = _one_alert(tree, staff)
    handled = alert_handle(by=staff.village_clerk, alert=alert, expected_version=1)
    with pytest.raises(ValidationError):
        alert_confirm(by=staff.village_clerk, alert=handled, expected_version=handled.version)


def test_viewing_roles_cannot_handle_alerts(tree: Tree, staff: Staff) -> None:
    alert = _one_alert(tree, staff)
    with pytest.raises(PermissionDenied):
        alert_confirm(by=staff.county_viewer, alert=alert, expected_version=1)
    with pytest.raises(PermissionDenied):
        alerts_dismiss_bulk(by=staff.county_viewer, ids=[alert.pk], reason="无")


def test_a_user_cannot_change_an_alert_outside_their_scope(tree: Tree, staff: Staff) -> None:
    foreign = _one_alert(tree, staff, tree.village_b1)
    with pytest.raises(ValidationError):
        alert_dismiss(by=staff.township_admin, alert=foreign, reason="越权", expected_version=1)
    foreign.refresh_from_db()
    assert foreign.status == AlertStatus.PENDING


def test_bulk_dismissal_changes_own_open_alerts_and_ignores_foreign_ids(tree: Tree, staff: Staff) -> None:
    own = _one_alert(tree, staff, tree.village_a1)
    done = _one_alert(tree, staff, tree.village_a2)
    alert_handle(by=staff.township_admin, alert=done, expected_version=1)
    foreign = _one_alert(tree, staff, tree.village_b1)

    changed = alerts_dismiss_bulk(
        by=staff.township_admin, ids=[own.pk, done.pk, foreign.pk, 999_999], reason="已入户核实，年龄无误"
    )

    assert changed == 1
    statuses = dict(Alert.objects.values_list("pk", "status"))
    assert statuses == {own.pk: AlertStatus.DISMISSED, done.pk: AlertStatus.HANDLED, foreign.pk: AlertStatus.PENDING}
    own.refresh_from_db()
    assert (own.reason, own.version) == ("已入户核实，年龄无误", 2)
    assert own.history.latest().history_user == staff.township_admin


def test_bulk_dismissal_needs_a_reason(tree: Tree, staff: Staff) -> None:
    alert = _one_alert(tree, staff)
    with pytest.raises(ValidationError, match="须填写原因"):
        alerts_dismiss_bulk(by=staff.township_admin, ids=[alert.pk], reason="")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.PENDING


def test_alerts_of_a_household_are_raised_per_quarter(tree: Tree, staff: Staff) -> None:
    target = household(staff.village_clerk, tree.village_a1, members=two_people())
    refresh(tree.county)
    alerts_raise(scope=tree.county, period=PERIOD)
    refresh(tree.county, PERIOD.previous())
    alerts_raise(scope=None, period=PERIOD.previous())
    assert sorted(Alert.objects.filter(household=target).values_list("quarter", flat=True)) == [1, 2]
    assert Household.objects.get(pk=target.pk).alerts.count() == 2
    assert date(2026, 6, 30) == PERIOD.last_day
