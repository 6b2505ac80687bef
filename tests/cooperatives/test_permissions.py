"""Permissions per role: viewers read, clerks keep their village's memberships and earnings, township
and county administrators also keep entities, 致富带头人 and bindings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from cooperatives.models import EarningKind, Membership
from cooperatives.services import earning_record, entity_cancel, membership_leave
from regions.models import Role, User
from regions.services import role_permission_codenames
from tests.conftest import Staff
from tests.cooperatives.world import World
from tests.factories import PASSWORD

COOPERATIVE_MODELS = ["entity", "richleader", "binding", "membership", "earning"]


def cooperative_permissions(role: str) -> set[str]:
    return {name for name in role_permission_codenames(role) if name.startswith("cooperatives.")}


def test_every_role_reads_the_register(db: None) -> None:
    for role in Role:
        granted = cooperative_permissions(role)
        assert {f"cooperatives.view_{model}" for model in COOPERATIVE_MODELS} <= granted, role


@pytest.mark.parametrize(
    ("role", "writes"),
    [
        (Role.VILLAGE_CLERK, {"membership", "earning"}),
        (Role.TOWNSHIP_ADMIN, {"membership", "earning", "entity", "richleader", "binding"}),
        (Role.COUNTY_ADMIN, {"membership", "earning", "entity", "richleader", "binding"}),
        (Role.COUNTY_VIEWER, set()),
        (Role.CITY_VIEWER, set()),
        (Role.PROVINCE_VIEWER, set()),
    ],
)
def test_each_role_adds_and_changes_exactly_its_models(role: str, writes: set[str]) -> None:
    granted = cooperative_permissions(role)
    expected = {f"cooperatives.{action}_{model}" for model in writes for action in ("add", "change")}
    assert {name for name in granted if not name.split(".")[1].startswith("view_")} == expected


def login(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def write_urls(world: World) -> list[str]:
    membership = Membership.objects.get(cooperative=world.cooperative_a, household=world.household_a1)
    return [
        reverse("entity_create"),
        reverse("entity_edit", args=[world.cooperative_a.pk]),
        reverse("entity_cancel", args=[world.cooperative_a.pk]),
        reverse("binding_create"),
        reverse("binding_edit", args=[world.binding_a.pk]),
        reverse("membership_add", args=[world.cooperative_a.pk]),
        reverse("membership_edit", args=[membership.pk]),
        reverse("rich_leader_create"),
    ]


@pytest.mark.parametrize("reader", ["county_viewer", "city_viewer"])
def test_read_only_roles_cannot_write_anywhere(world: World, staff: Staff, reader: str) -> None:
    user = getattr(staff, reader)
    client = login(user)
    for url in write_urls(world):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"version": 1, "name": "改", "cancelled_on": "2025-01-01"}).status_code == 403, url
    earnings = reverse("household_earnings", args=[world.household_a1.pk])
    assert client.get(earnings).status_code == 200
    assert client.post(earnings, {}).status_code == 403
    with pytest.raises(PermissionDenied):
        entity_cancel(by=user, entity=world.cooperative_a, cancelled_on=date(2025, 1, 1))
    with pytest.raises(PermissionDenied):
        earning_record(
            by=user,
            household=world.household_a1,
            cooperative=world.cooperative_a,
            year=2024,
            kind=EarningKind.objects.get(code="dividend"),
            amount=Decimal("1"),
        )
    change = reverse("admin:cooperatives_entity_change", args=[world.cooperative_a.pk])
    assert client.post(change, {"name": "HACKED"}).status_code == 403
    world.cooperative_a.refresh_from_db()
    assert world.cooperative_a.status == "active" and world.cooperative_a.name != "HACKED"


def test_a_clerk_keeps_memberships_and_earnings_but_not_entities_or_bindings(world: World, staff: Staff) -> None:
    client = login(staff.village_clerk)
    membership = Membership.objects.get(cooperative=world.cooperative_a, household=world.household_a1)
    assert client.get(reverse("membership_add", args=[world.cooperative_a.pk])).status_code == 200
    assert client.get(reverse("membership_edit", args=[membership.pk])).status_code == 200
    for url in (reverse("entity_create"), reverse("binding_create"), reverse("rich_leader_create")):
        assert client.get(url).status_code == 403, url
    membership_leave(by=staff.village_clerk, membership=membership, left_on=date(2025, 6, 30))


@pytest.mark.parametrize("writer", ["township_admin", "county_admin"])
def test_administrators_open_every_form(world: World, staff: Staff, writer: str) -> None:
    client = login(getattr(staff, writer))
    for url in write_urls(world):
        assert client.get(url).status_code == 200, url


def test_an_entity_registered_elsewhere_is_read_not_changed(world: World, staff: Staff) -> None:
    client = login(staff.township_admin)  # the county's enterprise: seen by the township, kept by the county
    assert client.get(reverse("entity_detail", args=[world.enterprise.pk])).status_code == 200
    assert client.get(reverse("entity_edit", args=[world.enterprise.pk])).status_code == 403
    assert client.get(reverse("entity_detail", args=[world.enterprise.pk])).context["can_change"] is False
    with pytest.raises(PermissionDenied):
        entity_cancel(by=staff.township_admin, entity=world.enterprise, cancelled_on=date(2025, 1, 1))


def test_the_menu_has_one_entry_for_the_register(world: World, staff: Staff) -> None:
    for role in ("village_clerk", "county_viewer", "township_admin"):
        page = login(getattr(staff, role)).get(reverse("entity_list")).content.decode()
        assert page.count('data-testid="nav-cooperatives"') == 1
        assert "经营主体与双绑" in page
