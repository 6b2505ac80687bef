"""Rules enforced by the household services: every entry point goes through these."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from households.models import (
    AssistanceMeasure,
    Household,
    HouseholdType,
    IncomeRecord,
    Labour,
    Member,
    MonitoringCase,
    MonitoringCategory,
    Relation,
    RiskType,
)
from households.quarter import Quarter
from households.services import (
    MEMBER_FIELDS,
    ConcurrentEditError,
    MemberData,
    household_update,
    income_record_save,
    monitoring_case_eliminate,
    monitoring_case_register,
)
from tests.conftest import Staff
from tests.factories import Tree, household, income, member, threshold


def test_registering_a_household_derives_sex_and_birth_date(tree: Tree, staff: Staff) -> None:
    registered = household(staff.village_clerk, tree.village_a1)
    head = registered.members.get(relation=Relation.HEAD)
    assert head.sex == "M"
    assert head.birth_date.isoformat().startswith("1980-01")
    assert registered.size() == 2


def test_a_household_needs_exactly_one_head(tree: Tree, staff: Staff) -> None:
    with pytest.raises(ValidationError, match="一名户主"):
        household(staff.village_clerk, tree.village_a1, members=[member(Relation.SPOUSE)])
    with pytest.raises(ValidationError, match="只能有一名户主"):
        household(staff.village_clerk, tree.village_a1, members=[member(), member(name="王五")])


def test_a_duplicate_id_number_is_refused_and_nothing_is_saved(tree: Tree, staff: Staff) -> None:
    first = household(staff.village_clerk, tree.village_a1)
    taken = first.members.first()
    assert taken is not None
    clash = MemberData(name="重复", id_number=taken.id_number, relation=Relation.HEAD, labour=Labour.ORDINARY)
    with pytest.raises(ValidationError, match="已登记"):
        household(staff.village_clerk, tree.village_a1, members=[clash], number="X-1")
    assert not Member.objects.filter(name="重复").exists()
    assert first.__class__.objects.filter(number="X-1").count() == 0


def test_an_invalid_id_number_gets_a_chinese_message(tree: Tree, staff: Staff) -> None:
    bad = member()
    bad.id_number = bad.id_number[:-1] + ("0" if bad.id_number[-1] != "0" else "1")
    with pytest.raises(ValidationError, match="校验码"):
        household(staff.village_clerk, tree.village_a1, members=[bad])


def test_a_lower_case_x_is_stored_upper_case(tree: Tree, staff: Staff) -> None:
    head = member()
    head.id_number = "11010519491231002x"
    registered = household(staff.village_clerk, tree.village_a1, members=[head])
    assert registered.members.get().id_number == "11010519491231002X"


def test_a_clerk_cannot_register_in_another_village(tree: Tree, staff: Staff) -> None:
    with pytest.raises(PermissionDenied):
        household(staff.village_clerk, tree.village_a2)


def test_the_county_viewer_cannot_write(tree: Tree, staff: Staff) -> None:
    with pytest.raises(PermissionDenied):
        household(staff.county_viewer, tree.village_a1)


def test_income_computes_net_and_per_capita(tree: Tree, staff: Staff) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    record = income(
        staff.village_clerk,
        target,
        "2025Q1",
        wages_migrant_work="6000",
        operating_planting="2500.50",
        transfer_pension="300",
        operating_costs="800.50",
    )
    assert record.net_income == Decimal("8000.00")
    assert record.per_capita_net_income == Decimal("4000.00")
    assert record.household_size == 2


def test_the_same_quarter_cannot_be_entered_twice(tree: Tree, staff: Staff) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    income(staff.village_clerk, target, "2025Q1", wages_other="100")
    with pytest.raises(ValidationError, match="已录入"):
        income(staff.village_clerk, target, "2025Q1", wages_other="200")
    assert IncomeRecord.objects.filter(household=target).count() == 1


def test_negative_income_is_rejected(tree: Tree, staff: Staff) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    with pytest.raises(ValidationError) as error:
        income(staff.village_clerk, target, "2025Q1", wages_other="-1")
    assert "金额不能为负数" in str(error.value)
    assert not IncomeRecord.objects.exists()


def test_a_stale_household_edit_is_refused(tree: Tree, staff: Staff) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    first_copy = type(target).objects.get(pk=target.pk)
    second_copy = type(target).objects.get(pk=target.pk)
    first_copy.address = "一组"
    household_update(by=staff.village_clerk, household=first_copy, expected_version=1)
    second_copy.address = "二组"
    with pytest.raises(ConcurrentEditError):
        household_update(by=staff.township_admin, household=second_copy, expected_version=1)
    target.refresh_from_db()
    assert target.address == "一组"
    assert target.version == 2


def members_as_stored(target: Household) -> list[MemberData]:
    return [
        MemberData(pk=m.pk, **{name: getattr(m, name) for name in MEMBER_FIELDS})
        for m in target.members.filter(is_active=True)
    ]


def test_a_household_save_writes_history_only_for_what_changed(tree: Tree, staff: Staff) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    members_before, household_before = Member.history.count(), Household.history.count()
    for _ in range(3):
        household_update(by=staff.village_clerk, household=target, members=members_as_stored(target))
    assert (Member.history.count(), Household.history.count()) == (members_before, household_before)
    assert Household.objects.get(pk=target.pk).version == 1

    target.address = "新址"
    household_update(by=staff.village_clerk, household=target, members=members_as_stored(target))
    assert (Member.history.count(), Household.history.count()) == (members_before, household_before + 1)

    changed = members_as_stored(target)
    changed[0].health = "chronic"
    household_update(by=staff.village_clerk, household=target, members=changed)
    # A members-only change also records the household's new version (the API's conflict queue reads a
    # version's base from it); it changes no household field, so the history page does not show it.
    assert (Member.history.count(), Household.history.count()) == (members_before + 1, household_before + 2)
    assert Household.objects.get(pk=target.pk).version == 3 == Household.history.latest("history_id").version


def test_income_warnings_flag_a_sharp_fall_and_income_below_threshold(tree: Tree, staff: Staff) -> None:
    threshold(tree.province, 2025, "8700")
    target = household(staff.village_clerk, tree.village_a1)
    for quarter in ["2024Q2", "2024Q3", "2024Q4", "2025Q1"]:
        income(staff.village_clerk, target, quarter, wages_other="8000")
    _record, warnings = income_record_save(
        by=staff.village_clerk,
        household=target,
        quarter=Quarter(2025, 2),
        amounts={"wages_other": Decimal("1000")},
    )
    messages = " ".join(w.message for w in warnings)
    assert "下降" in messages
    assert "低于2025年监测标准" not in messages  # trailing 4 quarters: (8000*3+1000)/2 = 12500
    target.refresh_from_db()
    assert target.trailing_per_capita == Decimal("12500.00")


def _open_case(staff: Staff, target: Household, month: str) -> MonitoringCase:
    from datetime import date

    year, mon = map(int, month.split("-"))
    return monitoring_case_register(
        by=staff.village_clerk,
        household=target,
        category=MonitoringCategory.UNSTABLE,
        identified_month=date(year, mon, 1),
        risk_types=RiskType.objects.filter(code="illness"),
        measures=AssistanceMeasure.objects.filter(code="health"),
    )


def test_an_unstable_case_requires_a_lifted_household(tree: Tree, staff: Staff) -> None:
    ordinary = household(staff.village_clerk, tree.village_a1, household_type=HouseholdType.ORDINARY)
    with pytest.raises(ValidationError, match="脱贫户"):
        _open_case(staff, ordinary, "2025-01")


def test_risk_is_not_eliminated_within_six_months(tree: Tree, staff: Staff) -> None:
    from datetime import date

    target = household(staff.village_clerk, tree.village_a1)
    case = _open_case(staff, target, "2025-03")
    with pytest.raises(ValidationError, match="不满6个月"):
        monitoring_case_eliminate(
            by=staff.village_clerk, case=case, eliminated_month=date(2025, 8, 1), method="assisted"
        )


def test_elimination_needs_income_above_threshold(tree: Tree, staff: Staff) -> None:
    from datetime import date

    threshold(tree.province, 2025, "8700")
    target = household(staff.village_clerk, tree.village_a1)
    case = _open_case(staff, target, "2025-01")
    for quarter in ["2025Q1", "2025Q2", "2025Q3"]:
        income(staff.village_clerk, target, quarter, wages_other="2000")
    income(staff.village_clerk, target, "2025Q4", wages_other="1000")
    with pytest.raises(ValidationError, match="未高于"):
        monitoring_case_eliminate(
            by=staff.village_clerk, case=case, eliminated_month=date(2025, 12, 1), method="assisted"
        )
    income_record = IncomeRecord.objects.get(household=target, year=2025, quarter=4)
    income_record_save(
        by=staff.village_clerk,
        household=target,
        quarter=Quarter(2025, 4),
        amounts={"wages_other": Decimal("12000")},
        record=income_record,
    )
    target.refresh_from_db()
    case.refresh_from_db()
    eliminated = monitoring_case_eliminate(
        by=staff.village_clerk, case=case, eliminated_month=date(2025, 12, 1), method="assisted"
    )
    assert eliminated.eliminated_month == date(2025, 12, 1)


def test_a_household_without_labour_cannot_have_risk_eliminated(tree: Tree, staff: Staff) -> None:
    from datetime import date

    target = household(staff.village_clerk, tree.village_a1, members=[member(labour=Labour.NONE)])
    case = _open_case(staff, target, "2024-01")
    with pytest.raises(ValidationError, match="无劳动力"):
        monitoring_case_eliminate(
            by=staff.village_clerk, case=case, eliminated_month=date(2025, 1, 1), method="natural"
        )


def test_an_eliminated_case_stays_valid_when_income_later_falls(tree: Tree, staff: Staff) -> None:
    from datetime import date

    threshold(tree.province, 2025, "8700")
    target = household(staff.village_clerk, tree.village_a1)
    case = _open_case(staff, target, "2025-01")
    for quarter in ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]:
        income(staff.village_clerk, target, quarter, wages_other="5000")  # 10,000 per person
    target.refresh_from_db()
    case.refresh_from_db()
    monitoring_case_eliminate(by=staff.village_clerk, case=case, eliminated_month=date(2025, 12, 1), method="assisted")
    record = IncomeRecord.objects.get(household=target, year=2025, quarter=4)
    income_record_save(
        by=staff.village_clerk,
        household=target,
        quarter=Quarter(2025, 4),
        amounts={"wages_other": Decimal("0")},
        record=record,
    )
    target.refresh_from_db()
    assert target.trailing_per_capita == Decimal("7500.00")  # now below 8,700
    case.refresh_from_db()
    case.note = "回访：家庭收入下降，持续关注"
    case.full_clean()


def test_a_new_case_may_not_overlap_an_earlier_one_of_the_household(tree: Tree, staff: Staff) -> None:
    from datetime import date

    target = household(staff.village_clerk, tree.village_a1)
    earlier = _open_case(staff, target, "2025-02")
    # Eliminated in 2025-09 (written as a record of the past: the elimination rules are not the point here).
    MonitoringCase.objects.filter(pk=earlier.pk).update(eliminated_month=date(2025, 9, 1), elimination_method="natural")
    with pytest.raises(ValidationError, match="识别于2025年02月，至2025年09月"):
        _open_case(staff, target, "2025-06")
    with pytest.raises(ValidationError, match="重叠"):
        _open_case(staff, target, "2024-12")  # open from before the earlier case: covers its months too
    assert MonitoringCase.objects.filter(household=target).count() == 1
    later = _open_case(staff, target, "2025-09")  # identified again the month the risk was eliminated
    assert later.identified_month == date(2025, 9, 1)


def test_an_importer_that_holds_the_households_cases_is_judged_without_asking_the_database(
    tree: Tree, staff: Staff, django_assert_num_queries: Any
) -> None:
    from datetime import date

    target = Household.objects.select_related("village").get(pk=household(staff.village_clerk, tree.village_a1).pk)
    case = MonitoringCase(household=target, category=MonitoringCategory.UNSTABLE, identified_month=date(2025, 6, 1))
    case.household_has_labour = True
    case.household_cases = [(999, date(2025, 2, 1), date(2025, 9, 1))]
    with django_assert_num_queries(0), pytest.raises(ValidationError, match="识别于2025年02月，至2025年09月"):
        case.clean()
    case.household_cases = [(999, date(2025, 2, 1), date(2025, 6, 1))]
    with django_assert_num_queries(0):
        case.clean()
