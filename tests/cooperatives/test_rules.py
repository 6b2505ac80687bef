"""The register's rules, as the services enforce them on every entry point."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cooperatives.models import Binding, Earning, EarningKind, Entity, EntityKind, EntityStatus, Membership
from cooperatives.services import (
    binding_end,
    earning_record,
    entity_cancel,
    entity_register,
    entity_update,
    membership_leave,
)
from regions.models import DataChange
from tests.conftest import Staff
from tests.cooperatives.world import World, bind, credit_code, entity, industry, join
from tests.factories import Tree, household

VALID_CODE = "91532326MA6K00000Q"  # check character computed by python-stdnum (cn.uscc)
INVALID_CODE = "91532326MA6K00000A"  # the same code with a wrong check character


def draft(tree: Tree, code: str, kind: str = EntityKind.COOPERATIVE) -> Entity:
    return Entity(kind=kind, name="测试合作社", credit_code=code, region=tree.village_a1)


def test_a_valid_credit_code_is_accepted_and_stored_compact(tree: Tree, staff: Staff) -> None:
    spaced = f" {VALID_CODE[:8]} {VALID_CODE[8:].lower()} "
    registered = entity_register(by=staff.township_admin, entity=draft(tree, spaced))
    assert Entity.objects.get(pk=registered.pk).credit_code == VALID_CODE


def test_a_credit_code_typed_in_full_width_is_stored_as_its_ascii_code(tree: Tree, staff: Staff) -> None:
    # A Chinese input method in full-width mode types ９１ＭＡ and the ideographic space; the import reads
    # such a cell as the ASCII code, so the form and the services must too.
    full_width = (
        "".join(chr(ord(c) + 0xFEE0) for c in VALID_CODE[:8])
        + "\u3000"
        + VALID_CODE[8:].translate({ord(c): ord(c) + 0xFEE0 for c in "MAK"})
    )
    registered = entity_register(by=staff.township_admin, entity=draft(tree, full_width))
    assert Entity.objects.get(pk=registered.pk).credit_code == VALID_CODE


def test_a_credit_code_with_a_wrong_check_character_is_refused(tree: Tree, staff: Staff) -> None:
    with pytest.raises(ValidationError) as refused:
        entity_register(by=staff.township_admin, entity=draft(tree, INVALID_CODE))
    assert "末位校验码" in " ".join(refused.value.message_dict["credit_code"])
    assert not Entity.objects.exists()


def test_a_credit_code_registered_twice_is_refused_in_plain_words(tree: Tree, staff: Staff) -> None:
    entity_register(by=staff.township_admin, entity=draft(tree, VALID_CODE))
    with pytest.raises(ValidationError) as refused:
        entity_register(by=staff.county_admin, entity=draft(tree, VALID_CODE.lower()))
    assert refused.value.message_dict["credit_code"] == ["该统一社会信用代码已登记在其他经营主体名下"]
    assert Entity.objects.count() == 1


def test_a_cooperative_is_registered_at_a_village(tree: Tree, staff: Staff) -> None:
    at_township = Entity(
        kind=EntityKind.COOPERATIVE, name="镇合作社", credit_code=credit_code(), region=tree.township_a
    )
    with pytest.raises(ValidationError, match="合作社的注册地应选到村"):
        entity_register(by=staff.township_admin, entity=at_township)
    enterprise = entity(staff.township_admin, tree.township_a, EntityKind.ENTERPRISE)
    assert enterprise.region == tree.township_a


def test_an_entity_is_registered_only_inside_the_users_area(tree: Tree, staff: Staff) -> None:
    with pytest.raises(PermissionDenied):
        entity(staff.township_admin, tree.village_b1)
    with pytest.raises(PermissionDenied):
        entity(staff.village_clerk, tree.village_a1)  # a clerk keeps memberships, not entities


def test_industries_come_from_the_county_catalogue(tree: Tree, staff: Staff) -> None:
    walnut = industry(tree.county)
    cooperative = entity(staff.township_admin, tree.village_a1)
    cooperative.name = "大村核桃合作社"
    entity_update(by=staff.township_admin, entity=cooperative, industries=[walnut])
    assert list(cooperative.industries.all()) == [walnut]
    other_county = tree.county.__class__.objects.create(
        code="532325000000", name="姚安县", level=3, parent=tree.prefecture
    )
    with pytest.raises(ValidationError, match="不在本县产业目录中"):
        entity_update(by=staff.county_admin, entity=cooperative, industries=[industry(other_county, "花椒")])


def test_overlapping_memberships_of_one_household_in_one_cooperative_are_refused(world: World, staff: Staff) -> None:
    with pytest.raises(ValidationError, match="已是该合作社成员"):
        join(staff.village_clerk, world.cooperative_a, world.household_a1, joined_on=date(2025, 1, 1))
    membership = Membership.objects.get(cooperative=world.cooperative_a, household=world.household_a1)
    membership_leave(by=staff.village_clerk, membership=membership, left_on=date(2024, 12, 31))
    rejoined = join(staff.village_clerk, world.cooperative_a, world.household_a1, joined_on=date(2025, 1, 1))
    assert rejoined.pk != membership.pk
    with pytest.raises(ValidationError, match="已是该合作社成员"):
        join(staff.village_clerk, world.cooperative_a, world.household_a1, joined_on=date(2024, 6, 1))


def test_a_membership_cannot_begin_or_end_after_today(world: World, staff: Staff) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError, match="入社日期不能晚于今天"):
        join(staff.county_admin, world.cooperative_a, world.household_a2, joined_on=date(2099, 1, 1))
    membership = Membership.objects.get(cooperative=world.cooperative_a, household=world.household_a1)
    with pytest.raises(ValidationError, match="退社日期不能晚于今天"):
        membership_leave(by=staff.village_clerk, membership=membership, left_on=tomorrow)
    assert not Membership.objects.filter(household=world.household_a2, joined_on=date(2099, 1, 1)).exists()


def test_overlapping_bindings_of_one_enterprise_and_cooperative_are_refused(world: World, staff: Staff) -> None:
    with pytest.raises(ValidationError, match="已有绑定"):
        bind(staff.township_admin, world.enterprise, world.cooperative_a, started_on=date(2025, 6, 1))
    binding_end(by=staff.township_admin, binding=world.binding_a, ended_on=date(2025, 1, 1))
    again = bind(staff.township_admin, world.enterprise, world.cooperative_a, started_on=date(2025, 1, 1))
    assert Binding.objects.filter(cooperative=world.cooperative_a).count() == 2
    assert again.ended_on is None


def test_a_binding_needs_an_enterprise_and_a_cooperative_in_that_order(world: World, staff: Staff) -> None:
    with pytest.raises(ValidationError, match="不是龙头企业"):
        bind(staff.township_admin, world.cooperative_a, world.cooperative_a)


def test_a_binding_needs_a_linkage_type(world: World, staff: Staff) -> None:
    from cooperatives.services import binding_register

    second = entity(staff.county_admin, world.enterprise.region, EntityKind.ENTERPRISE)
    with pytest.raises(ValidationError, match="利益联结方式"):
        binding_register(
            by=staff.township_admin,
            binding=Binding(enterprise=second, cooperative=world.cooperative_a, started_on=date(2025, 1, 1)),
            linkage_types=[],
        )
    assert not Binding.objects.filter(enterprise=second).exists()


def test_an_earning_needs_a_membership_in_that_year(world: World, staff: Staff) -> None:
    dividend = EarningKind.objects.get(code="dividend")
    with pytest.raises(ValidationError, match="2023年不是该合作社成员"):
        earning_record(
            by=staff.village_clerk,
            household=world.household_a1,
            cooperative=world.cooperative_a,
            year=2023,
            kind=dividend,
            amount=Decimal("500"),
        )
    recorded = earning_record(
        by=staff.village_clerk,
        household=world.household_a1,
        cooperative=world.cooperative_a,
        year=2024,
        kind=dividend,
        amount=Decimal("500"),
    )
    assert recorded.history.get().history_user == staff.village_clerk
    assert not Earning.objects.filter(year=2023).exists()


def test_a_cancelled_cooperative_takes_no_new_members_or_bindings(world: World, staff: Staff, tree: Tree) -> None:
    entity_cancel(by=staff.township_admin, entity=world.cooperative_a, cancelled_on=date(2025, 6, 30))
    world.cooperative_a.refresh_from_db()
    assert world.cooperative_a.status == EntityStatus.CANCELLED
    newcomer = household(staff.village_clerk, tree.village_a1)
    with pytest.raises(ValidationError, match="未成立或已注销"):
        join(staff.village_clerk, world.cooperative_a, newcomer, joined_on=date(2025, 7, 1))
    with pytest.raises(ValidationError, match="已注销"):
        entity_cancel(by=staff.township_admin, entity=world.cooperative_a, cancelled_on=date(2025, 7, 1))


def test_a_cancelled_household_does_not_join(world: World, staff: Staff, tree: Tree) -> None:
    from households.services import household_cancel

    leaving = household(staff.village_clerk, tree.village_a1)
    household_cancel(by=staff.village_clerk, household=leaving, reason_text="迁出")
    with pytest.raises(ValidationError, match="已注销农户"):
        join(staff.village_clerk, world.cooperative_a, leaving)


def test_the_kind_of_an_entity_with_members_cannot_change(world: World, staff: Staff) -> None:
    world.cooperative_a.kind = EntityKind.FAMILY_FARM
    with pytest.raises(ValidationError, match="不能更改主体类型"):
        entity_update(by=staff.township_admin, entity=world.cooperative_a)


def test_writes_record_who_made_them(world: World, staff: Staff) -> None:
    assert world.binding_a.history.earliest().history_user == staff.township_admin
    membership = Membership.objects.get(cooperative=world.cooperative_a, household=world.household_a1)
    membership_leave(by=staff.township_admin, membership=membership, left_on=date(2025, 1, 31))
    latest = membership.history.latest()
    assert latest.history_user == staff.township_admin
    assert latest.history_change_reason == "退社"


def test_a_binding_change_marks_the_villages_of_the_cooperatives_members_as_changed(
    world: World, staff: Staff, tree: Tree
) -> None:
    DataChange.objects.all().delete()
    binding_end(by=staff.other_township_admin, binding=world.binding_b, ended_on=date(2025, 1, 1))
    prefixes = set(DataChange.objects.values_list("prefix", flat=True))
    # 湾碧村 (where it is registered and where a member lives) and 石丫村 (another member's village).
    assert prefixes == {tree.village_b1.prefix, tree.village_a2.prefix}


def test_a_membership_change_marks_the_households_village_as_changed(world: World, staff: Staff, tree: Tree) -> None:
    DataChange.objects.all().delete()
    membership = Membership.objects.get(cooperative=world.cooperative_a, household=world.household_a1)
    membership_leave(by=staff.village_clerk, membership=membership, left_on=date(2025, 1, 31))
    assert set(DataChange.objects.values_list("prefix", flat=True)) == {tree.village_a1.prefix}
