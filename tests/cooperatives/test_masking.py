"""Masking per role: contact phones, 致富带头人's phones and members' 身份证号 in full only for roles
with households.view_personal_data — on pages, admin pages and history alike."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from cooperatives.models import RichLeader
from cooperatives.services import entity_update, rich_leader_register
from households.id_numbers import mask_id_number, mask_phone
from regions.models import User
from tests.conftest import Staff
from tests.cooperatives.world import World, join
from tests.factories import PASSWORD, Tree, household, member

MASKED_ROLES = ["county_viewer", "city_viewer"]
REVEALING_ROLES = ["village_clerk", "township_admin", "county_admin", "superuser"]

PHONE, NEW_PHONE, LEADER_PHONE = "13812345678", "13655556666", "13911112222"


def login(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def personal(world: World, staff: Staff, tree: Tree) -> tuple[World, RichLeader, str]:
    """The county enterprise's phone corrected once; a 致富带头人 with a phone; a member household whose
    户编号 was built from the head's 身份证号 (as local numbers once were)."""
    world.enterprise.contact_phone = NEW_PHONE
    entity_update(by=staff.county_admin, entity=world.enterprise)
    leader = rich_leader_register(
        by=staff.township_admin,
        leader=RichLeader(village=tree.village_a1, name="赵德明", phone=LEADER_PHONE, recognised_year=2024),
    )
    head = member(name="王本地")
    local = household(staff.village_clerk, tree.village_a1, members=[head], number=f"L{head.id_number}")
    join(staff.village_clerk, world.cooperative_a, local)
    return world, leader, head.id_number


def pages(world: World, leader: RichLeader) -> list[str]:
    return [
        reverse("entity_detail", args=[world.enterprise.pk]),
        reverse("entity_detail", args=[world.cooperative_a.pk]),
        reverse("membership_list"),
        reverse("rich_leader_list"),
        reverse("admin:cooperatives_entity_changelist"),
        reverse("admin:cooperatives_entity_change", args=[world.enterprise.pk]),
        reverse("admin:cooperatives_richleader_changelist"),
        reverse("admin:cooperatives_richleader_change", args=[leader.pk]),
        reverse("admin:cooperatives_membership_changelist"),
        reverse("admin:cooperatives_entity_history", args=[world.enterprise.pk]),
    ]


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_roles_without_the_permission_see_masked_phones_and_id_numbers_everywhere(
    personal: tuple[World, RichLeader, str], staff: Staff, role: str
) -> None:
    world, leader, local_head_id = personal
    client = login(getattr(staff, role))
    head_id = world.household_a1.members.get(relation="head").id_number
    for url in pages(world, leader):
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        for secret in (PHONE, NEW_PHONE, LEADER_PHONE, head_id, local_head_id):
            assert secret not in text, (url, secret)
    detail = client.get(reverse("entity_detail", args=[world.enterprise.pk])).content.decode()
    assert mask_phone(NEW_PHONE) in detail
    assert mask_phone(PHONE) in detail  # the old phone, in the history's old → new
    assert mask_id_number(head_id) in detail
    assert mask_phone(LEADER_PHONE) in client.get(reverse("rich_leader_list")).content.decode()


@pytest.mark.parametrize("role", REVEALING_ROLES)
def test_roles_with_the_permission_see_the_numbers_in_full(
    personal: tuple[World, RichLeader, str], staff: Staff, role: str
) -> None:
    world, _leader, _ = personal
    client = login(getattr(staff, role))
    detail = client.get(reverse("entity_detail", args=[world.enterprise.pk])).content.decode()
    assert NEW_PHONE in detail and PHONE in detail
    assert world.household_a1.members.get(relation="head").id_number in detail
    assert LEADER_PHONE in client.get(reverse("rich_leader_list")).content.decode()


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_masked_roles_cannot_search_members_by_id_number(
    personal: tuple[World, RichLeader, str], staff: Staff, role: str
) -> None:
    world, _, _ = personal
    head_id = world.household_a1.members.get(relation="head").id_number
    client = login(getattr(staff, role))
    assert client.get(reverse("membership_list"), {"q": head_id[:10]}).context["page"].paginator.count == 0
    assert client.get(reverse("membership_list"), {"q": world.household_a1.number}).context["page"].paginator.count == 1
    # A lookup on the phone would answer digit by digit what the masked pages hide.
    admin_lookup = client.get(reverse("admin:cooperatives_entity_changelist"), {"contact_phone__startswith": "138"})
    assert admin_lookup.status_code == 400
