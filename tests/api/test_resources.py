"""The read endpoints: scope as on pages, masking, keyset pages, versions and filters."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.resources import RESOURCES
from households.models import Relation
from tests.api.world import World, api_get, make_client
from tests.factories import Tree, household, income, member

pytestmark = pytest.mark.django_db


def ids(secret: str, url: str) -> set[int]:
    response = api_get(secret, url)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_a_county_client_gets_404_for_another_countys_household_case_and_income(world: World, tree: Tree) -> None:
    _client, secret = make_client(tree.county)
    for resource, own, foreign in [
        ("households", world.household, world.other_household),
        ("monitoring-cases", world.case, world.other_case),
        ("income-records", world.income, world.other_income),
    ]:
        assert api_get(secret, f"/api/v1/{resource}/{own.pk}/").status_code == 200
        response = api_get(secret, f"/api/v1/{resource}/{foreign.pk}/")
        assert response.status_code == 404
        assert response.json()["message"] == "记录不存在或不在您的管辖范围内"


def test_a_county_clients_lists_never_include_another_countys_records(world: World, tree: Tree) -> None:
    _client, secret = make_client(tree.county)
    assert ids(secret, "/api/v1/households/") == {world.household.pk}
    assert ids(secret, "/api/v1/monitoring-cases/") == {world.case.pk}
    assert ids(secret, "/api/v1/income-records/") == {world.income.pk}
    codes = {row["code"] for row in api_get(secret, "/api/v1/regions/?limit=1000").json()["results"]}
    assert "532326000000" in codes and not any(code.startswith("532301") for code in codes)
    # The other county's client sees its own household and none of 大姚县's, in every resource.
    _other, other_secret = make_client(world.other_county)
    assert ids(other_secret, "/api/v1/households/") == {world.other_household.pk}
    for name in RESOURCES:
        if name in {"households", "monitoring-cases", "income-records", "regions", "thresholds"}:
            continue
        assert ids(other_secret, f"/api/v1/{name}/") == set(), name


def test_the_region_filter_narrows_a_list_to_a_code_prefix(world: World, tree: Tree, staff) -> None:
    other_township = household(staff.other_township_admin, tree.village_b1)
    _client, secret = make_client(tree.county)
    assert ids(secret, "/api/v1/households/") == {world.household.pk, other_township.pk}
    assert ids(secret, "/api/v1/households/?region=532326100") == {world.household.pk}


def test_a_client_without_personal_data_rights_sees_numbers_masked_and_an_age(world: World, tree: Tree) -> None:
    _client, secret = make_client(tree.county)
    body = api_get(secret, f"/api/v1/households/{world.household.pk}/").json()
    head = body["members"][0]
    stored = world.household.members.get()
    assert head["id_number"] != stored.id_number and "*" in head["id_number"]
    assert head["birth_date"].endswith("岁")
    assert body["phone"] != "13812345678" and "*" in body["phone"]


def test_an_alerts_figures_are_masked_as_on_the_alert_page(world: World, tree: Tree) -> None:
    _masked, masked_secret = make_client(tree.county)
    _full, full_secret = make_client(tree.county, personal=True)
    assert api_get(masked_secret, "/api/v1/alerts/").json()["results"][0]["figures"] == {
        "联系电话": "138****5678",
        "人均纯收入": 4200,
    }
    assert api_get(full_secret, "/api/v1/alerts/").json()["results"][0]["figures"]["联系电话"] == "13812345678"


def test_updated_since_returns_only_what_changed_from_then_on(world: World, tree: Tree) -> None:
    _client, secret = make_client(tree.county)
    later = (world.household.updated_at + timedelta(seconds=1)).isoformat()
    earlier = (world.household.updated_at - timedelta(seconds=1)).isoformat()
    assert ids(secret, f"/api/v1/households/?updated_since={quote(earlier)}") == {world.household.pk}
    assert ids(secret, f"/api/v1/households/?updated_since={quote(later)}") == set()


def test_no_answer_to_a_masked_client_carries_a_full_number_or_birth_date(world: World, tree: Tree) -> None:
    stored = world.household.members.get()
    secrets_ = [stored.id_number, stored.birth_date.isoformat(), "13812345678", "13987654321", "13700001111"]
    _masked, secret = make_client(tree.county)
    _full, full_secret = make_client(tree.county, personal=True)
    revealed: set[str] = set()
    for name in RESOURCES:
        listed = api_get(secret, f"/api/v1/{name}/").content.decode()
        details = [
            api_get(secret, f"/api/v1/{name}/{row}/").content.decode() for row in ids(secret, f"/api/v1/{name}/")
        ]
        for text in [listed, *details]:
            assert not [value for value in secrets_ if value in text], name
        revealed |= {value for value in secrets_ if value in api_get(full_secret, f"/api/v1/{name}/").content.decode()}
    # The same answers to a client that may see personal data do carry every one of them.
    assert revealed == set(secrets_)


def test_a_client_with_personal_data_rights_sees_them_in_full(world: World, tree: Tree) -> None:
    _client, secret = make_client(tree.county, personal=True)
    body = api_get(secret, f"/api/v1/households/{world.household.pk}/").json()
    stored = world.household.members.get()
    assert body["members"][0]["id_number"] == stored.id_number
    assert body["members"][0]["birth_date"] == stored.birth_date.isoformat()
    assert body["phone"] == "13812345678"


def test_a_detail_carries_its_version_and_an_etag(world: World, tree: Tree) -> None:
    _client, secret = make_client(tree.county)
    response = api_get(secret, f"/api/v1/households/{world.household.pk}/")
    assert response.json()["version"] == world.household.version
    assert response["ETag"] == f'"{world.household.version}"'
    threshold = api_get(secret, "/api/v1/thresholds/").json()["results"][0]
    unversioned = api_get(secret, f"/api/v1/thresholds/{threshold['id']}/")
    assert unversioned["ETag"].startswith('"') and len(unversioned["ETag"]) == 34


def test_lists_page_by_id_with_a_next_link_and_never_count_or_offset(world: World, tree: Tree, staff) -> None:
    more = [household(staff.village_clerk, tree.village_a1) for _ in range(3)]
    _client, secret = make_client(tree.county)
    expected = sorted([world.household.pk, *(row.pk for row in more)])
    seen: list[int] = []
    url: str | None = "/api/v1/households/?limit=3"
    with CaptureQueriesContext(connection) as queries:
        while url:
            body = api_get(secret, url).json()
            seen += [row["id"] for row in body["results"]]
            url = body["next"]
    assert seen == expected
    sql = " ".join(query["sql"].upper() for query in queries.captured_queries)
    assert "COUNT(" not in sql and "OFFSET" not in sql


def test_filters_by_quarter_and_refuses_a_malformed_one(world: World, tree: Tree) -> None:
    _client, secret = make_client(tree.county)
    assert ids(secret, "/api/v1/income-records/?quarter=2025Q1") == {world.income.pk}
    assert ids(secret, "/api/v1/income-records/?quarter=2024Q4") == set()
    response = api_get(secret, "/api/v1/income-records/?quarter=2025-1")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["errors"][0]["field"] == "quarter"


def test_a_bad_page_parameter_is_400_with_the_field_named(tree: Tree) -> None:
    _client, secret = make_client(tree.county)
    body = api_get(secret, "/api/v1/households/?limit=5001").json()
    assert body["code"] == "invalid" and body["errors"] == [{"field": "limit", "message": "应为1～5000的整数"}]


def test_a_list_takes_a_fixed_number_of_queries_however_many_households(world: World, tree: Tree, staff) -> None:
    _client, secret = make_client(tree.county)
    with CaptureQueriesContext(connection) as one:
        api_get(secret, "/api/v1/households/")
    for _ in range(3):
        household(staff.village_clerk, tree.village_a1)
    with CaptureQueriesContext(connection) as four:
        api_get(secret, "/api/v1/households/")
    assert len(four.captured_queries) == len(one.captured_queries)


def test_every_resources_list_takes_as_many_queries_for_one_row_as_for_all(world: World, tree: Tree, staff) -> None:
    second = household(staff.village_clerk, tree.village_a1)
    income(staff.village_clerk, second, "2025Q1", wages_migrant_work="100")
    _client, secret = make_client(tree.county)
    for name in RESOURCES:
        counts = []
        for limit in (1, 1000):
            with CaptureQueriesContext(connection) as queries:
                assert api_get(secret, f"/api/v1/{name}/?limit={limit}").status_code == 200
            counts.append(len(queries.captured_queries))
        assert counts[0] == counts[1], name


def test_members_come_in_family_order_head_first(tree: Tree, staff) -> None:
    target = household(
        staff.village_clerk,
        tree.village_a1,
        members=[member(Relation.FATHER, name="父亲", birth="19400101"), member(name="户主", birth="19700101")],
    )
    _client, secret = make_client(tree.county)
    names = [row["name"] for row in api_get(secret, f"/api/v1/households/{target.pk}/").json()["members"]]
    assert names == ["户主", "父亲"]  # not oldest first, as the table itself orders them
