"""Each alert rule trips on a household built to trip it, and stays quiet on its near miss."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from figures import alerts as alert_registry
from figures.alerts import AlertRule
from figures.periods import Quarter
from households.alert_rules import (
    AllIncomesZero,
    BelowThresholdUnmonitored,
    EliminatedBelowThreshold,
    IncomeDrop,
    IncomeMissing,
    MemberTooOld,
    OpenCaseWithoutMeasures,
    WorkMonthsWithoutLabour,
    YoungLabour,
)
from households.models import Household, HouseholdType, Labour, Relation
from households.services import household_cancel
from tests.assessment.alert_fixtures import (
    PERIOD,
    above_threshold,
    below_threshold,
    defaults,
    eliminated_case,
    open_case,
    person,
    refresh,
    set_threshold,
    two_people,
)
from tests.conftest import Staff
from tests.factories import Tree, household, income


def flagged(rule: AlertRule, tree: Tree, period: Quarter = PERIOD, **parameters: Decimal) -> dict[int, dict[str, str]]:
    return dict(rule.find(period=period, within=tree.county.prefix, parameters={**defaults(rule), **parameters}))


def test_every_rule_is_registered_and_the_data_quality_ones_are_marked() -> None:
    codes = {rule.code for rule in alert_registry.rules()}
    assert {
        "below_threshold_unmonitored",
        "income_drop",
        "income_missing",
        "open_case_without_measures",
        "eliminated_below_threshold",
        "member_too_old",
        "labour_under_age",
        "work_months_without_labour",
        "incomes_all_zero",
    } <= codes
    assert set(alert_registry.data_quality_codes()) >= {
        "member_too_old",
        "labour_under_age",
        "work_months_without_labour",
        "incomes_all_zero",
    }
    assert "income_missing" not in alert_registry.data_quality_codes()
    assert BelowThresholdUnmonitored.suggests_monitoring and EliminatedBelowThreshold.suggests_monitoring
    assert not IncomeDrop.suggests_monitoring


def test_below_threshold_and_not_monitored_trips_with_its_figures(tree: Tree, staff: Staff) -> None:
    set_threshold(tree.county)
    below = below_threshold(staff.village_clerk, tree.village_a1)
    above = above_threshold(staff.village_clerk, tree.village_a1)
    monitored = below_threshold(staff.village_clerk, tree.village_a1)
    open_case(staff.village_clerk, monitored, date(2026, 1, 1))
    refresh(tree.county)

    found = flagged(BelowThresholdUnmonitored(), tree)

    assert set(found) == {below.pk}
    assert found[below.pk] == {"近四季度人均纯收入": "4,000.00元", "监测标准": "7,000.00元"}
    assert above.pk not in found


def test_a_household_once_eliminated_is_flagged_by_the_relapse_rule_not_twice(tree: Tree, staff: Staff) -> None:
    set_threshold(tree.county)
    relapsed = below_threshold(staff.village_clerk, tree.village_a1)
    eliminated_case(relapsed, date(2024, 1, 1), date(2024, 9, 1))
    recovered = above_threshold(staff.village_clerk, tree.village_a1)
    eliminated_case(recovered, date(2024, 1, 1), date(2024, 9, 1))
    refresh(tree.county)

    relapse = flagged(EliminatedBelowThreshold(), tree)

    assert set(relapse) == {relapsed.pk}
    assert relapse[relapsed.pk]["风险消除时间"] == "2024年9月"
    assert relapsed.pk not in flagged(BelowThresholdUnmonitored(), tree)


def test_a_fall_of_thirty_percent_on_the_same_quarter_last_year_trips_and_29_9_does_not(
    tree: Tree, staff: Staff
) -> None:
    fell = household(staff.village_clerk, tree.village_a1, members=two_people())
    income(staff.village_clerk, fell, "2025Q2", wages_migrant_work="2000")  # 1,000 元/人
    income(staff.village_clerk, fell, "2026Q2", wages_migrant_work="1400")  # 700 元/人: exactly −30%
    nearly = household(staff.village_clerk, tree.village_a1, members=two_people())
    income(staff.village_clerk, nearly, "2025Q2", wages_migrant_work="2000")
    income(staff.village_clerk, nearly, "2026Q2", wages_migrant_work="1402")  # 701 元/人: −29.9%
    no_base = household(staff.village_clerk, tree.village_a1, members=two_people())
    income(staff.village_clerk, no_base, "2026Q2", wages_migrant_work="10")

    found = flagged(IncomeDrop(), tree)

    assert set(found) == {fell.pk}
    assert found[fell.pk] == {"本季度人均纯收入": "700.00元", "上年同季度人均纯收入": "1,000.00元", "下降幅度": "30.0%"}
    assert set(flagged(IncomeDrop(), tree, income_drop_share=Decimal("0.20"))) == {fell.pk, nearly.pk}


def test_a_missing_record_is_flagged_only_once_the_quarter_has_ended(tree: Tree, staff: Staff) -> None:
    missing = household(staff.village_clerk, tree.village_a1)
    recorded = household(staff.village_clerk, tree.village_a1)
    income(staff.village_clerk, recorded, "2026Q2", wages_migrant_work="100")
    refresh(tree.county)
    current = Quarter.containing(date.today())
    refresh(tree.county, current)

    found = flagged(IncomeMissing(), tree)

    assert set(found) == {missing.pk}
    assert found[missing.pk] == {"未录入季度": "2026年第2季度", "在户人数": "2人"}
    assert flagged(IncomeMissing(), tree, period=current) == {}


def test_a_household_cancelled_before_the_quarter_ended_is_not_chased_for_its_income(tree: Tree, staff: Staff) -> None:
    gone = household(staff.village_clerk, tree.village_a1)
    left_later = household(staff.village_clerk, tree.village_a1)
    for target, day in ((gone, date(2026, 5, 1)), (left_later, date(2026, 8, 1))):
        household_cancel(by=staff.village_clerk, household=target, reason_text="整户迁出")
        Household.objects.filter(pk=target.pk).update(cancelled_on=day)
    refresh(tree.county)

    found = flagged(IncomeMissing(), tree)

    assert gone.pk not in found
    assert left_later.pk in found  # on the register when 2026Q2 ended


def test_a_case_open_twelve_months_without_measures_trips(tree: Tree, staff: Staff) -> None:
    bare = household(staff.village_clerk, tree.village_a1)
    open_case(staff.village_clerk, bare, date(2025, 6, 1), with_measures=False)  # June 2025 → June 2026: 12 months
    helped = household(staff.village_clerk, tree.village_a1)
    open_case(staff.village_clerk, helped, date(2025, 6, 1), with_measures=True)
    recent = household(staff.village_clerk, tree.village_a1)
    open_case(staff.village_clerk, recent, date(2025, 7, 1), with_measures=False)  # 11 months

    found = flagged(OpenCaseWithoutMeasures(), tree)

    assert set(found) == {bare.pk}
    assert found[bare.pk] == {"识别时间": "2025年6月", "已监测": "12个月", "帮扶措施": "无"}
    assert set(flagged(OpenCaseWithoutMeasures(), tree, open_case_months=Decimal("11"))) == {bare.pk, recent.pk}


def test_a_member_older_than_100_at_the_quarter_end_is_a_data_quality_doubt(tree: Tree, staff: Staff) -> None:
    # 2026-06-30: born 1925-06-29 is 101; born 1926-06-30 turns exactly 100 that day.
    old = household(staff.village_clerk, tree.village_a1, members=[person(birth="19250629")])
    hundred = household(staff.village_clerk, tree.village_a1, members=[person(birth="19260630")])

    found = flagged(MemberTooOld(), tree)

    assert set(found) == {old.pk}
    assert found[old.pk] == {"超龄成员": "1人", "最大年龄": "101岁"}
    assert hundred.pk not in found


def test_labour_under_16_is_a_doubt_and_a_child_without_labour_is_not(tree: Tree, staff: Staff) -> None:
    child_worker = household(
        staff.village_clerk,
        tree.village_a1,
        members=[person(), person(Relation.SON, birth="20110101", labour=Labour.ORDINARY)],
    )
    sixteen = household(
        staff.village_clerk,
        tree.village_a1,
        members=[person(), person(Relation.SON, birth="20100630", labour=Labour.WEAK)],
    )
    child = household(
        staff.village_clerk,
        tree.village_a1,
        members=[person(), person(Relation.SON, birth="20150101", labour=Labour.NONE)],
    )

    found = flagged(YoungLabour(), tree)

    assert set(found) == {child_worker.pk}
    assert found[child_worker.pk] == {"未成年劳动力": "1人", "最小年龄": "15岁"}
    assert sixteen.pk not in found and child.pk not in found


def test_work_months_on_a_member_unable_to_work_is_a_doubt(tree: Tree, staff: Staff) -> None:
    contradictory = household(
        staff.village_clerk, tree.village_a1, members=[person(labour=Labour.LOST, work_place="昆明", work_months=6)]
    )
    worker = household(
        staff.village_clerk,
        tree.village_a1,
        members=[person(labour=Labour.ORDINARY, work_place="昆明", work_months=12)],
    )

    found = flagged(WorkMonthsWithoutLabour(), tree)

    assert set(found) == {contradictory.pk}
    assert found[contradictory.pk] == {"矛盾成员": "1人", "务工月数": "6个月"}
    assert worker.pk not in found
    assert "全年" in WorkMonthsWithoutLabour().definition


def test_a_record_with_all_four_incomes_zero_is_a_doubt(tree: Tree, staff: Staff) -> None:
    empty = household(staff.village_clerk, tree.village_a1)
    income(staff.village_clerk, empty, "2026Q2", operating_costs="300")
    pension_only = household(staff.village_clerk, tree.village_a1)
    income(staff.village_clerk, pension_only, "2026Q2", transfer_pension="300")

    found = flagged(AllIncomesZero(), tree)

    assert set(found) == {empty.pk}
    assert found[empty.pk] == {"本季度四项收入": "均为0", "家庭人口": "2人"}


def test_rules_only_look_under_the_code_prefix(tree: Tree, staff: Staff) -> None:
    household(staff.township_admin, tree.village_a1, members=[person(birth="19200101")])
    rule = MemberTooOld()
    assert list(rule.find(period=PERIOD, within=tree.township_b.prefix, parameters=defaults(rule))) == []


def test_an_ordinary_household_below_the_line_is_flagged_too(tree: Tree, staff: Staff) -> None:
    set_threshold(tree.county)
    ordinary = below_threshold(staff.village_clerk, tree.village_a1, household_type=HouseholdType.ORDINARY)
    refresh(tree.county)
    assert ordinary.pk in flagged(BelowThresholdUnmonitored(), tree)
