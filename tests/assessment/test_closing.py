"""季度关账: submit → approve/return → lock → reopen, what a lock refuses, and frozen figures."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import ClassVar

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from assessment.closing import (
    QuarterNotReady,
    quarter_approve,
    quarter_lock,
    quarter_reopen,
    quarter_return,
    quarter_submit,
)
from assessment.closing_models import CloseAction, QuarterCloseEvent, QuarterSubmission, SubmissionStatus
from assessment.engine import indicators_compute
from assessment.models import Alert, AlertStatus, ComputeRun, IndicatorValue
from assessment.services import compute_run_execute
from figures.alerts import AlertRule, register_rule, unregister_rule
from figures.periods import Quarter
from households.closing import ClosedQuarter, quarter_is_closed
from households.models import Household, IncomeRecord
from households.services import income_record_save, income_record_void
from tests.conftest import Staff
from tests.factories import Tree, household, income

Q3 = Quarter(2025, 3)
CLOSED = "2025年第3季度已关账，不能修改收入；如需修改请联系县级管理员重新开账"


class SuspectAges(AlertRule):
    """测试用疑点：成员年龄超过100岁。"""

    code = "test_suspect_age"
    name = "成员年龄超过100岁"
    data_quality: ClassVar[bool] = True

    def find(
        self, *, period: Quarter, within: str, parameters: Mapping[str, Decimal]
    ) -> Iterable[tuple[int, dict[str, str]]]:
        return []


class BelowLine(AlertRule):
    """测试用预警：低于监测标准（不是数据质量疑点）。"""

    code = "test_below_line"
    name = "低于监测标准"

    def find(
        self, *, period: Quarter, within: str, parameters: Mapping[str, Decimal]
    ) -> Iterable[tuple[int, dict[str, str]]]:
        return []


@pytest.fixture(autouse=True)
def alert_rules() -> Iterator[None]:
    register_rule(SuspectAges())
    register_rule(BelowLine())
    yield
    unregister_rule(SuspectAges.code)
    unregister_rule(BelowLine.code)


def alert(target: Household, rule: str, status: str = AlertStatus.PENDING) -> Alert:
    return Alert.objects.create(
        household=target,
        rule=rule,
        year=Q3.year,
        quarter=Q3.number,
        status=status,
        reason="已核查" if status == AlertStatus.DISMISSED else "",
        raised_at=timezone.now(),
    )


def recorded_household(tree: Tree, staff: Staff, number: str = "H001") -> Household:
    target = household(staff.village_clerk, tree.village_a1, number=number)
    income(staff.village_clerk, target, "2025Q3", wages_migrant_work="6000")
    return target


def approved(tree: Tree, staff: Staff) -> None:
    quarter_submit(village=tree.village_a1, period=Q3, by=staff.village_clerk)
    quarter_approve(village=tree.village_a1, period=Q3, by=staff.township_admin)


def locked(tree: Tree, staff: Staff) -> None:
    approved(tree, staff)
    assert quarter_lock(county=tree.county, period=Q3, by=staff.county_admin)


def state(tree: Tree) -> QuarterSubmission:
    return QuarterSubmission.objects.get(village=tree.village_a1, year=2025, quarter=3)


def test_the_whole_workflow_submits_approves_then_locks_the_county(tree: Tree, staff: Staff) -> None:
    recorded_household(tree, staff)
    submitted = quarter_submit(village=tree.village_a1, period=Q3, by=staff.village_clerk)
    assert submitted.applied and submitted.submission.status == SubmissionStatus.SUBMITTED
    assert quarter_approve(village=tree.village_a1, period=Q3, by=staff.township_admin).applied
    assert state(tree).status == SubmissionStatus.APPROVED
    assert state(tree).acted_by == staff.township_admin

    assert quarter_lock(county=tree.county, period=Q3, by=staff.county_admin)
    assert quarter_is_closed(village_code=tree.village_a1.code, period=Q3)
    assert ClosedQuarter.objects.get().locked_by == staff.county_admin
    event = QuarterCloseEvent.objects.get()
    assert (event.action, event.acted_by) == (CloseAction.LOCKED, staff.county_admin)
    history = [row.status for row in state(tree).history.order_by("history_id")]
    assert history == [SubmissionStatus.FILLING, SubmissionStatus.SUBMITTED, SubmissionStatus.APPROVED]


def test_submit_is_refused_with_the_households_still_missing_income(tree: Tree, staff: Staff) -> None:
    recorded_household(tree, staff, "H001")
    household(staff.village_clerk, tree.village_a1, number="H002")
    household(staff.village_clerk, tree.village_a1, number="H003")
    household(staff.other_village_clerk, tree.village_a2, number="H900")  # another village: not listed
    with pytest.raises(QuarterNotReady) as refused:
        quarter_submit(village=tree.village_a1, period=Q3, by=staff.village_clerk)
    message = refused.value.messages[0]
    assert "2户未录入2025年第3季度收入：H002 张三、H003 张三" in message
    assert "H001" not in message and "H900" not in message
    assert not QuarterSubmission.objects.filter(status=SubmissionStatus.SUBMITTED).exists()


def test_submit_waits_for_open_data_quality_alerts_only(tree: Tree, staff: Staff) -> None:
    target = recorded_household(tree, staff)
    alert(target, BelowLine.code)  # an ordinary alert does not hold the quarter
    alert(target, SuspectAges.code, AlertStatus.CONFIRMED)
    with pytest.raises(QuarterNotReady) as refused:
        quarter_submit(village=tree.village_a1, period=Q3, by=staff.village_clerk)
    assert "1条数据质量疑点尚未排除或处置：H001 成员年龄超过100岁" in refused.value.messages[0]
    Alert.objects.filter(rule=SuspectAges.code).update(status=AlertStatus.HANDLED)
    assert quarter_submit(village=tree.village_a1, period=Q3, by=staff.village_clerk).applied


def test_a_double_submit_is_a_no_op(tree: Tree, staff: Staff) -> None:
    recorded_household(tree, staff)
    first = quarter_submit(village=tree.village_a1, period=Q3, by=staff.village_clerk, expected_version=None)
    again = quarter_submit(village=tree.village_a1, period=Q3, by=staff.village_clerk)
    assert first.applied and not again.applied
    assert state(tree).version == 2
    assert state(tree).history.filter(status=SubmissionStatus.SUBMITTED).count() == 1


def test_a_stale_tab_does_not_apply_its_click(tree: Tree, staff: Staff) -> None:
    recorded_household(tree, staff)
    seen = quarter_submit(village=tree.village_a1, period=Q3, by=staff.village_clerk).submission.version
    assert quarter_approve(village=tree.village_a1, period=Q3, by=staff.township_admin, expected_version=seen).applied
    # The second tab still shows 已提交 and the version before the approval.
    stale = quarter_return(
        village=tree.village_a1, period=Q3, by=staff.township_admin, reason="再核一遍", expected_version=seen
    )
    assert not stale.applied
    assert state(tree).status == SubmissionStatus.APPROVED


def test_return_needs_a_reason_and_the_clerk_can_submit_again(tree: Tree, staff: Staff) -> None:
    recorded_household(tree, staff)
    quarter_submit(village=tree.village_a1, period=Q3, by=staff.village_clerk)
    with pytest.raises(ValidationError, match="退回须填写理由"):
        quarter_return(village=tree.village_a1, period=Q3, by=staff.township_admin, reason="  ")
    returned = quarter_return(
        village=tree.village_a1, period=Q3, by=staff.township_admin, reason="H001务工收入偏高，请核实"
    )
    assert returned.applied
    assert (state(tree).status, state(tree).reason) == (SubmissionStatus.RETURNED, "H001务工收入偏高，请核实")
    assert state(tree).history.latest("history_id").history_change_reason == "H001务工收入偏高，请核实"
    assert quarter_submit(village=tree.village_a1, period=Q3, by=staff.village_clerk).applied
    assert state(tree).reason == ""


def test_approval_needs_a_submission(tree: Tree, staff: Staff) -> None:
    recorded_household(tree, staff)
    with pytest.raises(ValidationError, match="尚未提交"):
        quarter_approve(village=tree.village_a1, period=Q3, by=staff.township_admin)


def test_the_lock_waits_for_every_village_with_households(tree: Tree, staff: Staff) -> None:
    recorded_household(tree, staff)
    other = household(staff.other_village_clerk, tree.village_a2, number="H200")
    income(staff.other_village_clerk, other, "2025Q3", wages_other="100")
    approved(tree, staff)
    with pytest.raises(ValidationError, match="以下村的2025年第3季度尚未审核通过，不能锁定：石丫村"):
        quarter_lock(county=tree.county, period=Q3, by=staff.county_admin)
    assert not ClosedQuarter.objects.exists()
    # 湾碧村 has no registered household: the lock does not wait for it.
    quarter_submit(village=tree.village_a2, period=Q3, by=staff.other_village_clerk)
    quarter_approve(village=tree.village_a2, period=Q3, by=staff.township_admin)
    assert quarter_lock(county=tree.county, period=Q3, by=staff.county_admin)
    assert not quarter_lock(county=tree.county, period=Q3, by=staff.county_admin)  # a second click: no-op
    assert QuarterCloseEvent.objects.count() == 1


def test_only_the_roles_of_each_step_may_take_it(tree: Tree, staff: Staff) -> None:
    recorded_household(tree, staff)
    with pytest.raises(PermissionDenied):
        quarter_submit(village=tree.village_a1, period=Q3, by=staff.township_admin)
    with pytest.raises(PermissionDenied):
        quarter_submit(village=tree.village_a1, period=Q3, by=staff.other_village_clerk)  # not their village
    quarter_submit(village=tree.village_a1, period=Q3, by=staff.village_clerk)
    with pytest.raises(PermissionDenied):
        quarter_approve(village=tree.village_a1, period=Q3, by=staff.other_township_admin)
    with pytest.raises(PermissionDenied):
        quarter_approve(village=tree.village_a1, period=Q3, by=staff.county_viewer)
    with pytest.raises(PermissionDenied):
        quarter_lock(county=tree.county, period=Q3, by=staff.county_viewer)


def test_a_locked_quarter_refuses_income_saves_and_voids_with_the_message(tree: Tree, staff: Staff) -> None:
    target = recorded_household(tree, staff)
    record = IncomeRecord.objects.get(household=target)
    locked(tree, staff)
    with pytest.raises(ValidationError) as refused:
        income_record_save(
            by=staff.village_clerk,
            household=target,
            quarter=Q3,
            amounts={"wages_other": Decimal("1")},
            record=record,
            expected_version=record.version,
        )
    assert refused.value.messages == [CLOSED]
    with pytest.raises(ValidationError, match=CLOSED):
        income_record_void(record=record, reason="录错", by=staff.village_clerk, expected_version=record.version)
    late = household(staff.village_clerk, tree.village_a1, number="H002")
    with pytest.raises(ValidationError, match=CLOSED):
        income_record_save(by=staff.village_clerk, household=late, quarter=Q3, amounts={"wages_other": Decimal("1")})
    # The next quarter is open.
    income(staff.village_clerk, target, "2025Q4", wages_other="1")
    assert IncomeRecord.objects.get(household=target, year=2025, quarter=3).wages_other == 0


def test_reopening_needs_a_reason_and_is_recorded(tree: Tree, staff: Staff) -> None:
    target = recorded_household(tree, staff)
    locked(tree, staff)
    with pytest.raises(ValidationError, match="重新开账须填写理由"):
        quarter_reopen(county=tree.county, period=Q3, by=staff.county_admin, reason="")
    with pytest.raises(PermissionDenied):
        quarter_reopen(county=tree.county, period=Q3, by=staff.township_admin, reason="改错")
    assert quarter_is_closed(village_code=tree.village_a1.code, period=Q3)

    assert quarter_reopen(county=tree.county, period=Q3, by=staff.county_admin, reason="H001收入录错，需更正")
    assert not quarter_reopen(county=tree.county, period=Q3, by=staff.county_admin, reason="再点一次")
    assert not quarter_is_closed(village_code=tree.village_a1.code, period=Q3)
    events = list(QuarterCloseEvent.objects.order_by("pk").values_list("action", "reason", "acted_by"))
    assert events == [
        (CloseAction.LOCKED, "", staff.county_admin.pk),
        (CloseAction.REOPENED, "H001收入录错，需更正", staff.county_admin.pk),
    ]
    income(staff.village_clerk, target, "2025Q2", wages_other="1")
    record = IncomeRecord.objects.get(household=target, year=2025, quarter=3)
    income_record_save(
        by=staff.village_clerk,
        household=target,
        quarter=Q3,
        amounts={"wages_other": Decimal("5")},
        record=record,
        expected_version=record.version,
    )
    assert IncomeRecord.objects.get(pk=record.pk).wages_other == 5


def entry_progress(tree: Tree) -> IndicatorValue:
    return IndicatorValue.objects.get(region=tree.village_a1, year=2025, quarter=3, indicator="entry_progress")


def recompute(tree: Tree) -> ComputeRun:
    run = ComputeRun.objects.create(scope=tree.county, year=2025, quarter=3, reason="manual")
    return compute_run_execute(run_id=run.pk)


@pytest.fixture
def locked_with_one_recorded(tree: Tree, staff: Staff) -> IndicatorValue:
    recorded_household(tree, staff)
    indicators_compute(scope=tree.county, period=Q3)
    locked(tree, staff)
    return entry_progress(tree)


def test_a_later_change_and_recompute_leave_frozen_values_unchanged(
    tree: Tree, staff: Staff, locked_with_one_recorded: IndicatorValue
) -> None:
    frozen = locked_with_one_recorded
    assert (frozen.numerator, frozen.denominator, frozen.value) == (1, 1, Decimal("1"))
    household(staff.village_clerk, tree.village_a1, number="H002")  # registered after the lock, no income
    run = recompute(tree)
    assert "本季度已关账" in run.message
    after = entry_progress(tree)
    assert (after.denominator, after.value, after.computed_at) == (1, Decimal("1"), frozen.computed_at)

    quarter_reopen(county=tree.county, period=Q3, by=staff.county_admin, reason="补录新登记农户")
    recompute(tree)
    reopened = entry_progress(tree)
    assert (reopened.numerator, reopened.denominator, reopened.value) == (1, 2, Decimal("0.5"))


def test_the_lock_computes_the_figures_with_the_latest_data(tree: Tree, staff: Staff) -> None:
    recorded_household(tree, staff)
    indicators_compute(scope=tree.county, period=Q3)
    late = household(staff.village_clerk, tree.village_a1, number="H002")
    income(staff.village_clerk, late, "2025Q3", wages_other="300")
    stale = entry_progress(tree)
    assert stale.denominator == 1  # computed before H002 was registered
    locked(tree, staff)
    current = entry_progress(tree)
    assert (current.numerator, current.denominator) == (2, 2)
    assert ComputeRun.objects.get(reason="quarter_lock").status == "done"
