"""Query counts of the lists and pages stay the same however many rows they show."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cooperatives.models import EarningKind, EntityKind, RichLeader
from cooperatives.services import earning_record, entity_update, rich_leader_register
from tests.conftest import Staff
from tests.cooperatives.world import World, bind, entity, industry, join
from tests.factories import PASSWORD, Tree, household


def _fill(world: World, staff: Staff, tree: Tree, count: int) -> None:
    """`count` more cooperatives of 大村村, each bound to the county's enterprise, with industries,
    two member households (with earnings) and a 致富带头人."""
    crops = [industry(tree.county, f"产业{index}-{count}") for index in range(2)]
    dividend = EarningKind.objects.get(code="dividend")
    for _ in range(count):
        cooperative = entity(staff.township_admin, tree.village_a1)
        entity_update(by=staff.township_admin, entity=cooperative, industries=crops)
        bind(staff.township_admin, world.enterprise, cooperative)
        for _member in range(2):
            target = household(staff.village_clerk, tree.village_a1)
            join(staff.village_clerk, cooperative, target, joined_on=date(2024, 1, 1))
            earning_record(
                by=staff.village_clerk,
                household=target,
                cooperative=cooperative,
                year=2024,
                kind=dividend,
                amount=Decimal("100"),
            )
        rich_leader_register(
            by=staff.township_admin,
            leader=RichLeader(village=tree.village_a1, name="带头人", recognised_year=2024, entity=cooperative),
        )


def _queries(client: Client, url: str, params: dict[str, str] | None = None) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params or {})
    assert response.status_code == 200, url
    return len(context.captured_queries)


def _urls(world: World) -> list[tuple[str, dict[str, str]]]:
    return [
        (reverse("entity_list"), {}),
        (reverse("entity_list"), {"kind": EntityKind.COOPERATIVE, "q": "大村", "status": "active"}),
        (reverse("binding_list"), {}),
        (reverse("binding_list"), {"status": "active"}),
        (reverse("membership_list"), {}),
        (reverse("membership_list"), {"status": "active", "q": "5323"}),
        (reverse("rich_leader_list"), {}),
        (reverse("entity_detail", args=[world.enterprise.pk]), {}),
        (reverse("entity_detail", args=[world.cooperative_a.pk]), {}),
    ]


@pytest.mark.parametrize("role", ["township_admin", "village_clerk", "county_viewer"])
def test_list_and_entity_pages_take_the_same_queries_for_few_and_many_rows(
    world: World, staff: Staff, tree: Tree, role: str
) -> None:
    client = Client()
    assert client.login(username=getattr(staff, role).username, password=PASSWORD)
    _fill(world, staff, tree, 2)
    for url, params in _urls(world):
        client.get(url, params)  # the reference lists (regions/reference.py) are kept from now on
    few = [_queries(client, url, params) for url, params in _urls(world)]
    _fill(world, staff, tree, 6)
    many = [_queries(client, url, params) for url, params in _urls(world)]
    assert few == many
    assert max(many[:7]) <= 14  # the lists


def test_the_household_page_and_a_village_of_cards_take_the_same_queries_for_more_cooperatives(
    world: World, staff: Staff, tree: Tree
) -> None:
    client = Client()
    assert client.login(username=staff.village_clerk.username, password=PASSWORD)
    detail = reverse("household_detail", args=[world.household_a1.pk])
    cards = reverse("village_cards") + f"?village={tree.village_a1.pk}&period=2025Q4"
    client.get(detail), client.get(cards)  # the reference lists (regions/reference.py) are kept from now on
    before = (_queries(client, detail), _queries(client, cards))
    for _ in range(3):
        another = entity(staff.township_admin, tree.village_a1)
        bind(staff.township_admin, world.enterprise, another)
        join(staff.village_clerk, another, world.household_a1)
    household(staff.village_clerk, tree.village_a1)  # one more card in the village
    assert (_queries(client, detail), _queries(client, cards)) == before
