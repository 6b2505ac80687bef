"""Bulk inserts by COPY (PostgreSQL) write what bulk_create_with_history would, history included."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from households.excel.bulk import create_with_history
from households.models import Household, HouseholdType, Member, Relation
from tests.conftest import Staff
from tests.factories import Tree, id_number


def new_household(tree: Tree, number: str) -> Household:
    return Household(number=number, village=tree.village_a1, household_type=HouseholdType.LIFTED, lifted_year=2019)


def new_member(target: Household, birth: str, relation: str = Relation.HEAD) -> Member:
    member = Member(household=target, name="张三", id_number=id_number(birth), relation=relation, labour="ordinary")
    member.clean()
    return member


def test_created_rows_and_their_history_hold_the_instances_values(tree: Tree, staff: Staff) -> None:
    now = timezone.now()
    households = [new_household(tree, f"B{n}") for n in range(3)]
    create_with_history(households, Household, user=staff.superuser, reason="导入批次#1", now=now)
    members = [new_member(h, f"1980010{n + 1}") for n, h in enumerate(households)]
    for member in members:
        member.household_id = member.household.pk
    create_with_history(members, Member, user=staff.superuser, reason="导入批次#1", now=now)

    for target in [*households, *members]:
        stored: Any = type(target)._default_manager.get(pk=target.pk)
        history = stored.history.get()
        assert (history.history_type, history.history_user, history.history_change_reason) == (
            "+",
            staff.superuser,
            "导入批次#1",
        )
        for field in type(history).tracked_fields:
            assert getattr(history, field.attname) == getattr(stored, field.attname) == getattr(target, field.attname)
    assert Household.objects.get(pk=households[0].pk).created_at is not None
