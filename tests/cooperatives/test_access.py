"""The scope matrix: who sees which entity, which members are listed and which only counted, and a
guessed id of another township's row answering 404 on every page and admin URL."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from cooperatives.models import Binding, Earning, Entity, Membership, RichLeader
from cooperatives.services import binding_end, binding_update
from regions.models import User
from tests.conftest import Staff
from tests.cooperatives.world import Foreign, World
from tests.factories import PASSWORD, Tree


def login(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def page_urls(foreign: Foreign) -> list[str]:
    household = foreign.membership.household_id
    return [
        reverse("entity_detail", args=[foreign.cooperative.pk]),
        reverse("entity_detail", args=[foreign.enterprise.pk]),
        reverse("entity_edit", args=[foreign.cooperative.pk]),
        reverse("entity_edit", args=[foreign.enterprise.pk]),
        reverse("entity_cancel", args=[foreign.cooperative.pk]),
        reverse("membership_add", args=[foreign.cooperative.pk]),
        reverse("binding_edit", args=[foreign.binding.pk]),
        reverse("binding_end", args=[foreign.binding.pk]),
        reverse("membership_edit", args=[foreign.membership.pk]),
        reverse("membership_leave", args=[foreign.membership.pk]),
        reverse("household_earnings", args=[household]),
        reverse("rich_leader_edit", args=[foreign.leader.pk]),
    ]


def admin_urls(foreign: Foreign) -> list[str]:
    urls = []
    rows = [
        ("entity", foreign.cooperative, Entity),
        ("binding", foreign.binding, Binding),
        ("membership", foreign.membership, Membership),
        ("earning", foreign.earning, Earning),
        ("richleader", foreign.leader, RichLeader),
    ]
    for name, row, model in rows:
        history_id = model.history.filter(id=row.pk).values_list("history_id", flat=True).first()  # type: ignore[attr-defined]
        urls.append(reverse(f"admin:cooperatives_{name}_change", args=[row.pk]))
        urls.append(reverse(f"admin:cooperatives_{name}_history", args=[row.pk]))
        urls.append(reverse(f"admin:cooperatives_{name}_simple_history", args=[row.pk, history_id]))
    return urls


# Forms posted from another page: a GET is refused for every id alike (405), found or not.
POST_ONLY = ("/end/", "/leave/")
POSTED = {
    "version": "1",
    "cancelled_on": "2025-01-01",
    "ended_on": "2025-01-01",
    "left_on": "2025-01-01",
    "household_key": "x",
    "name": "改名",
    "kind": "cooperative",
}


def test_a_township_admin_gets_404_for_every_url_of_another_townships_rows(
    world: World, foreign: Foreign, staff: Staff
) -> None:
    client = login(staff.township_admin)
    for url in page_urls(foreign) + admin_urls(foreign):
        assert client.get(url).status_code == (405 if url.endswith(POST_ONLY) else 404), url
        assert client.post(url, POSTED).status_code == 404, url
    foreign.cooperative.refresh_from_db()
    foreign.binding.refresh_from_db()
    foreign.membership.refresh_from_db()
    assert foreign.cooperative.status == "active" and foreign.cooperative.name == "湾碧芒果合作社"
    assert foreign.binding.ended_on is None
    assert foreign.membership.left_on is None


def test_a_village_clerk_gets_404_or_403_and_never_the_row(world: World, foreign: Foreign, staff: Staff) -> None:
    client = login(staff.village_clerk)
    for url in page_urls(foreign) + admin_urls(foreign):
        for response in (client.get(url), client.post(url, POSTED)):
            assert response.status_code in (403, 404, 405), url
            assert "湾碧芒果" not in response.content.decode(), url


@pytest.mark.parametrize(
    "insider", ["other_township_admin", "county_admin", "county_viewer", "city_viewer", "superuser"]
)
def test_everyone_above_the_rows_reads_them(world: World, foreign: Foreign, staff: Staff, insider: str) -> None:
    client = login(getattr(staff, insider))
    for pk in (foreign.cooperative.pk, foreign.enterprise.pk):
        assert client.get(reverse("entity_detail", args=[pk])).status_code == 200
    assert client.get(reverse("admin:cooperatives_entity_change", args=[foreign.cooperative.pk])).status_code == 200


def test_lists_and_admin_lists_leave_out_another_townships_rows(world: World, foreign: Foreign, staff: Staff) -> None:
    client = login(staff.township_admin)
    for name in ("entity_list", "binding_list", "membership_list", "rich_leader_list"):
        page = client.get(reverse(name)).content.decode()
        assert "湾碧芒果" not in page and "何富贵" not in page, name
    searched = client.get(reverse("entity_list"), {"q": foreign.cooperative.credit_code})
    assert searched.context["page"].paginator.count == 0
    for model in ("entity", "binding", "membership", "earning", "richleader"):
        page = client.get(reverse(f"admin:cooperatives_{model}_changelist")).content.decode()
        assert "湾碧芒果" not in page and "何富贵" not in page, model


def test_a_township_sees_its_own_entities_the_countys_and_cooperatives_with_its_members(
    world: World, foreign: Foreign, staff: Staff
) -> None:
    visible = set(Entity.objects.visible_to(staff.township_admin))
    # The county's enterprise (registered above), its own cooperative, 湾碧's cooperative that has a
    # member household in 金碧镇 — but not 湾碧's enterprise and cooperative that have none.
    assert visible == {world.enterprise, world.cooperative_a, world.cooperative_b}
    assert set(Entity.objects.managed_by(staff.township_admin)) == {world.cooperative_a}


def test_an_enterprise_bound_to_a_cooperative_with_members_here_is_seen_here(
    world: World, foreign: Foreign, staff: Staff
) -> None:
    from tests.cooperatives.world import bind

    bind(staff.other_township_admin, foreign.enterprise, world.cooperative_b)
    assert foreign.enterprise in Entity.objects.visible_to(staff.township_admin)
    assert foreign.enterprise not in Entity.objects.visible_to(staff.village_clerk)  # 石丫村's member, not 大村村's


def test_an_enterprise_bound_to_a_cooperative_registered_here_is_seen_here_and_its_binding_kept(
    world: World, foreign: Foreign, staff: Staff, tree: Tree
) -> None:
    # The county binds 金碧镇's new cooperative (no members yet) to 湾碧's enterprise: 金碧镇 opens the
    # enterprise from its binding list, and corrects and ends its own cooperative's binding.
    from tests.cooperatives.world import bind, entity

    newcomer = entity(staff.township_admin, tree.village_a1, name="大村新合作社")
    binding = bind(staff.county_admin, foreign.enterprise, newcomer)
    client = login(staff.township_admin)
    assert client.get(reverse("entity_detail", args=[foreign.enterprise.pk])).status_code == 200
    binding.order_volume = "芒果 50 吨"
    binding_update(by=staff.township_admin, binding=binding, expected_version=binding.version)
    binding_end(by=staff.township_admin, binding=binding, ended_on=date(2025, 6, 30), expected_version=binding.version)
    assert Binding.objects.get(pk=binding.pk).ended_on == date(2025, 6, 30)
    assert foreign.enterprise not in Entity.objects.visible_to(staff.other_village_clerk)  # 石丫村 has none of it


def test_members_outside_the_users_area_are_counted_never_listed(world: World, foreign: Foreign, staff: Staff) -> None:
    client = login(staff.township_admin)
    page = client.get(reverse("entity_detail", args=[world.cooperative_b.pk])).content.decode()
    assert world.household_a2.number in page
    assert world.household_b1.number not in page
    assert "另有 1 户不在您的管辖范围" in page

    enterprise_page = client.get(reverse("entity_detail", args=[world.enterprise.pk]))
    text = enterprise_page.content.decode()
    assert world.household_a1.number in text and world.household_a2.number in text
    assert world.household_b1.number not in text
    assert "另有 1 户不在您的管辖范围" in text  # 湾碧村's household, member of two of its cooperatives
    assert "另有 1 个合作社不在您的管辖范围" in text
    assert "湾碧芒果合作社" not in text


def test_a_clerk_sees_the_members_of_their_village_only(world: World, foreign: Foreign, staff: Staff) -> None:
    client = login(staff.village_clerk)
    text = client.get(reverse("entity_detail", args=[world.enterprise.pk])).content.decode()
    assert world.household_a1.number in text
    assert world.household_a2.number not in text
    assert "另有 2 户不在您的管辖范围" in text
    assert client.get(reverse("entity_detail", args=[world.cooperative_b.pk])).status_code == 404


def test_finding_a_household_outside_the_area_says_the_same_as_an_unknown_one(
    world: World, foreign: Foreign, staff: Staff
) -> None:
    client = login(staff.township_admin)
    url = reverse("membership_add", args=[world.cooperative_a.pk])
    head_id = world.household_b1.members.get(relation="head").id_number
    answers = []
    for key in (world.household_b1.number, head_id, "NO-SUCH-HOUSEHOLD"):
        response = client.post(url, {"household_key": key, "joining_method": 1, "joined_on": "2025-01-01"})
        assert response.status_code == 200
        answers.append(response.context["form"].errors["household_key"])
    assert answers[0] == answers[1] == answers[2] == ["在您的管辖范围内没有找到该户，请核对户编号或身份证号"]
    assert not Membership.objects.filter(cooperative=world.cooperative_a, household=world.household_b1).exists()


def test_a_township_admin_adds_a_household_of_their_own_area_found_by_a_members_id_number(
    world: World, staff: Staff
) -> None:
    client = login(staff.township_admin)
    spouse_id = world.household_a2.members.get(relation="spouse").id_number
    response = client.post(
        reverse("membership_add", args=[world.cooperative_a.pk]),
        {"household_key": spouse_id, "joining_method": 1, "shares": "500", "joined_on": "2025-01-01"},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(cooperative=world.cooperative_a, household=world.household_a2)
    assert membership.history.get().history_user == staff.township_admin


def test_a_clerk_adds_only_their_own_villages_households(world: World, staff: Staff) -> None:
    from django.core.exceptions import PermissionDenied

    from tests.cooperatives.world import join

    with pytest.raises(PermissionDenied):
        join(staff.village_clerk, world.cooperative_a, world.household_a2)  # 石丫村, not 大村村
    client = login(staff.village_clerk)
    response = client.post(
        reverse("membership_add", args=[world.cooperative_a.pk]),
        {"household_key": world.household_a2.number, "joining_method": 1, "joined_on": "2025-01-01"},
    )
    assert response.context["form"].errors["household_key"]


def test_a_binding_is_made_only_for_a_cooperative_the_user_manages(
    world: World, foreign: Foreign, staff: Staff
) -> None:
    from django.core.exceptions import PermissionDenied, ValidationError

    from tests.cooperatives.world import bind

    # 湾碧's cooperative has a member in 金碧镇 (so 金碧镇 sees it) but is not 金碧镇's to bind.
    with pytest.raises(PermissionDenied):
        bind(staff.township_admin, world.enterprise, world.cooperative_b)
    # An enterprise the user cannot see cannot be chosen either.
    with pytest.raises(ValidationError, match="所选龙头企业"):
        bind(staff.township_admin, foreign.enterprise, world.cooperative_a)
    client = login(staff.township_admin)
    form = client.get(reverse("binding_create")).context["form"]
    assert set(form.fields["cooperative"].queryset) == {world.cooperative_a}
    assert foreign.enterprise not in set(form.fields["enterprise"].queryset)
