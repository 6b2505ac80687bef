"""Writes through the API: upsert by natural key, ETag/If-Match, scope, permissions and masking."""

from __future__ import annotations

import pytest

from households.models import Household, IncomeRecord
from tests.api.world import World
from tests.api.writing import household_body, make_writer, member_body, send
from tests.conftest import Staff
from tests.factories import Tree, id_number

pytestmark = pytest.mark.django_db

HOUSEHOLDS = "/api/v1/households/"


def test_a_new_household_is_created_with_its_members_and_named_by_its_number(tree: Tree, staff: Staff) -> None:
    _client, secret = make_writer(tree.county, personal=True)
    head = id_number("19700101")
    body = household_body(
        "H-API-1", tree.village_a1, [member_body(head), member_body(id_number("19720202"), "spouse", "赵六")]
    )
    response = send(secret, "POST", HOUSEHOLDS, body)
    assert response.status_code == 201, response.content
    created = Household.objects.get(number="H-API-1")
    assert response["ETag"] == f'"{created.version}"'
    assert response["Location"].endswith(f"/api/v1/households/{created.pk}/")
    assert sorted(created.members.values_list("id_number", flat=True)) == sorted(
        [head, body["members"][1]["id_number"]]
    )
    assert response.json()["members"][0]["id_number"] == head
