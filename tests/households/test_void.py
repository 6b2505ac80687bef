"""作废: a wrongly entered quarter is removed with a reason that the household's history shows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from households.models import Household, IncomeRecord
from households.selectors import household_history
from households.services import ConcurrentEditError, income_record_void
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household, income

QUARTERS = ["2024Q4", "2025Q1", "2025Q2", "2025Q3"]


def login(user: object) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)  # type: ignore[attr-defined]
    return client


def four_quarters(staff: Staff, tree: Tree) -> Household:
    target = household(staff.village_clerk, tree.village_a1)
    for quarter in QUARTERS:
        income(staff.village_clerk, target, quarter, wages_other="4000")
    target.refresh_from_db()
    assert target.trailing_per_capita == Decimal("8000.00")
    return target


def test_voiding_removes_the_record_keeps_it_in_history_and_refreshes_the_facts(tree: Tree, staff: Staff) -> None:
    target = four_quarters(staff, tree)
    wrong = IncomeRecord.objects.get(household=target, year=2025, quarter=3)
    wrong_id = wrong.pk
    income_record_void(record=wrong, reason="误录入到该户", by=staff.township_admin)

    assert not IncomeRecord.objects.filter(pk=wrong_id).exists()
    target.refresh_from_db()
    assert (target.latest_income_year, target.latest_income_quarter) == (2025, 2)
    assert target.trailing_per_capita is None
    deletion = IncomeRecord.history.get(id=wrong_id, history_type="-")
    assert deletion.history_change_reason == "作废：误录入到该户"
    assert deletion.history_user == staff.township_admin
    assert deletion.wages_other == Decimal("4000.00")
    latest = household_history(household=target, reveal_personal_data=False)[0]
    assert (latest.subject, latest.reason, latest.user) == ("2025年第3季度收入", "作废：误录入到该户", "xiang")


def test_a_voided_quarter_can_be_entered_again(tree: Tree, staff: Staff) -> None:
    target = four_quarters(staff, tree)
    wrong = IncomeRecord.objects.get(household=target, year=2025, quarter=3)
    income_record_void(record=wrong, reason="金额录错", by=staff.village_clerk)
    income(staff.village_clerk, target, "2025Q3", wages_other="5000")
    target.refresh_from_db()
    assert target.trailing_per_capita == Decimal("8500.00")


@pytest.mark.parametrize("reason", ["", "   "])
def test_voiding_needs_a_reason(tree: Tree, staff: Staff, reason: str) -> None:
    target = four_quarters(staff, tree)
    record = IncomeRecord.objects.get(household=target, year=2025, quarter=3)
    with pytest.raises(ValidationError) as error:
        income_record_void(record=record, reason=reason, by=staff.village_clerk)
    assert error.value.message_dict["reason"] == ["作废须填写原因"]
    assert IncomeRecord.objects.filter(pk=record.pk).exists()


def test_only_users_who_may_change_the_household_can_void(tree: Tree, staff: Staff) -> None:
    target = four_quarters(staff, tree)
    record = IncomeRecord.objects.get(household=target, year=2025, quarter=3)
    for outsider in (staff.other_township_admin, staff.other_village_clerk, staff.county_viewer):
        with pytest.raises(PermissionDenied):
            income_record_void(record=record, reason="误录", by=outsider)
    assert IncomeRecord.objects.filter(pk=record.pk).exists()


def test_a_record_corrected_meanwhile_is_not_voided(tree: Tree, staff: Staff) -> None:
    target = four_quarters(staff, tree)
    record = IncomeRecord.objects.get(household=target, year=2025, quarter=3)
    seen = record.version
    IncomeRecord.objects.filter(pk=record.pk).update(version=seen + 1)
    with pytest.raises(ConcurrentEditError):
        income_record_void(record=record, reason="误录", by=staff.village_clerk, expected_version=seen)
    assert IncomeRecord.objects.filter(pk=record.pk).exists()


def test_the_household_page_voids_a_record_and_shows_the_reason(tree: Tree, staff: Staff) -> None:
    target = four_quarters(staff, tree)
    record = IncomeRecord.objects.get(household=target, year=2025, quarter=3)
    clerk = login(staff.village_clerk)
    detail = reverse("household_detail", args=[target.pk])
    void_url = reverse("income_void", args=[target.pk, "2025Q3"])
    assert f'action="{void_url}"' in clerk.get(detail).content.decode()

    response = clerk.post(void_url, {"version": record.version, "reason": "误录入到该户"}, follow=True)
    page = response.content.decode()
    assert "已作废2025年第3季度收入" in page
    assert "作废：误录入到该户" in page
    assert 'data-testid="income-2025Q3"' not in page
    assert not IncomeRecord.objects.filter(pk=record.pk).exists()


def test_the_void_page_refuses_a_blank_reason_and_a_get(tree: Tree, staff: Staff) -> None:
    target = four_quarters(staff, tree)
    record = IncomeRecord.objects.get(household=target, year=2025, quarter=3)
    clerk = login(staff.village_clerk)
    void_url = reverse("income_void", args=[target.pk, "2025Q3"])
    assert clerk.get(void_url).status_code == 405
    response = clerk.post(void_url, {"version": record.version, "reason": ""}, follow=True)
    assert "作废须填写原因" in response.content.decode()
    assert IncomeRecord.objects.filter(pk=record.pk).exists()


def test_a_guessed_household_of_another_township_is_404_and_a_viewer_403(tree: Tree, staff: Staff) -> None:
    target = four_quarters(staff, tree)
    record = IncomeRecord.objects.get(household=target, year=2025, quarter=3)
    void_url = reverse("income_void", args=[target.pk, "2025Q3"])
    data = {"version": record.version, "reason": "误录"}
    assert login(staff.other_township_admin).post(void_url, data).status_code == 404
    assert login(staff.county_viewer).post(void_url, data).status_code == 403
    assert (
        'data-testid="void-2025Q3"'
        not in login(staff.county_viewer).get(reverse("household_detail", args=[target.pk])).content.decode()
    )
    assert IncomeRecord.objects.filter(pk=record.pk).exists()


def test_a_cancelled_household_can_complete_a_quarter_that_ended_before_it_was_cancelled(
    tree: Tree, staff: Staff
) -> None:
    from datetime import date

    from django.core.exceptions import ValidationError

    from households.models import HouseholdStatus

    target = household(staff.village_clerk, tree.village_a1)
    Household.objects.filter(pk=target.pk).update(
        status=HouseholdStatus.CANCELLED, cancelled_on=date(2026, 8, 15), cancelled_reason="整户迁出"
    )
    target.refresh_from_db()
    # Still counted in 2026Q2 (registered at its end): its missing record can be entered.
    assert income(staff.village_clerk, target, "2026Q2", wages_migrant_work="100").pk
    with pytest.raises(ValidationError, match="注销日期之前"):
        income(staff.village_clerk, target, "2026Q3", wages_migrant_work="100")
