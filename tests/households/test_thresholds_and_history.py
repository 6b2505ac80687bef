"""Thresholds inherited down the region chain, and changes attributed to whoever made them."""

from __future__ import annotations

from decimal import Decimal

from households.models import Household
from households.selectors import below_threshold_condition, household_history, threshold_for
from households.services import household_update
from tests.conftest import Staff
from tests.factories import Tree, household, income, threshold


def test_the_nearest_threshold_up_the_chain_applies(tree: Tree) -> None:
    threshold(tree.province, 2025, "8700")
    threshold(tree.township_b, 2025, "9100")
    own = threshold_for(region=tree.village_b1, year=2025)
    inherited = threshold_for(region=tree.village_a1, year=2025)
    assert own is not None and own.amount == Decimal("9100")
    assert inherited is not None and inherited.amount == Decimal("8700")
    assert threshold_for(region=tree.village_a1, year=2024) is None


def test_below_threshold_honours_a_deeper_override(tree: Tree, staff: Staff) -> None:
    threshold(tree.province, 2025, "8700")
    threshold(tree.township_b, 2025, "9100")
    # 8,900 per person: above the province's 8,700 but below 湾碧乡's own 9,100.
    in_a = household(staff.township_admin, tree.village_a1)
    in_b = household(staff.other_township_admin, tree.village_b1)
    for target, by in ((in_a, staff.township_admin), (in_b, staff.other_township_admin)):
        for quarter in ["2024Q4", "2025Q1", "2025Q2", "2025Q3"]:
            income(by, target, quarter, wages_other="4450")
    below = set(Household.objects.filter(below_threshold_condition()).values_list("pk", flat=True))
    assert below == {in_b.pk}


def test_a_change_made_outside_a_request_is_attributed_to_its_author(tree: Tree, staff: Staff) -> None:
    target = household(staff.village_clerk, tree.village_a1, address="旧址")
    target.address = "新址"
    household_update(by=staff.township_admin, household=target, reason="入户核实")
    changes = household_history(household=target, reveal_personal_data=True)
    latest = changes[0]
    assert latest.user == "xiang"
    assert ("住址", "旧址", "新址") in latest.fields
    assert latest.reason == "入户核实"


def test_history_masks_personal_data_for_viewers(tree: Tree, staff: Staff) -> None:
    target = household(staff.village_clerk, tree.village_a1, phone="13812345678")
    target.phone = "13987654321"
    household_update(by=staff.village_clerk, household=target)
    masked = household_history(household=target, reveal_personal_data=False)[0]
    assert ("联系电话", "138****5678", "139****4321") in masked.fields
