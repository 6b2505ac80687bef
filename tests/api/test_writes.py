"""Writes through the API: upsert by natural key, ETag/If-Match, scope, permissions, masking, history."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from api.models import ApiActor
from households.models import Household, IncomeRecord, MonitoringThreshold
from households.services import household_update
from tests.api.world import World
from tests.api.writing import household_body, make_writer, member_body, send
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, id_number

pytestmark = pytest.mark.django_db

HOUSEHOLDS = "/api/v1/households/"


def new_household(secret: str, tree: Tree, number: str = "H-API-1", **fields: Any) -> tuple[Any, str]:
    head = id_number("19700101")
    body = household_body(number, tree.village_a1, [member_body(head)], **fields)
    return send(secret, "POST", HOUSEHOLDS, body), head


def test_a_new_household_is_created_with_its_members_and_named_by_its_number(tree: Tree, staff: Staff) -> None:
    _client, secret = make_writer(tree.county, personal=True)
    head = id_number("19700101")
    spouse = id_number("19720202")
    body = household_body("H-API-1", tree.village_a1, [member_body(head), member_body(spouse, "spouse", "赵六")])
    response = send(secret, "POST", HOUSEHOLDS, body)
    assert response.status_code == 201, response.content
    created = Household.objects.get(number="H-API-1")
    assert response["ETag"] == f'"{created.version}"'
    assert response["Location"].endswith(f"/api/v1/households/{created.pk}/")
    assert sorted(created.members.values_list("id_number", flat=True)) == sorted([head, spouse])
    assert response.json()["members"][0]["id_number"] == head


def test_a_client_without_personal_data_gets_masked_numbers_back_from_its_own_write(tree: Tree, staff: Staff) -> None:
    _client, secret = make_writer(tree.county, personal=False)
    response, head = new_household(secret, tree, phone="13812345678")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["members"][0]["id_number"] != head and "*" in body["members"][0]["id_number"]
    assert body["phone"] != "13812345678" and "*" in body["phone"]


def test_posting_the_same_record_again_is_unchanged_and_changing_it_needs_if_match(tree: Tree, staff: Staff) -> None:
    _client, secret = make_writer(tree.county, personal=True)
    response, head = new_household(secret, tree)
    etag = response["ETag"]
    again = send(secret, "POST", HOUSEHOLDS, household_body("H-API-1", tree.village_a1, [member_body(head)]))
    assert again.status_code == 200 and again["ETag"] == etag
    changed = household_body("H-API-1", tree.village_a1, [member_body(head)], address="新住址")
    refused = send(secret, "POST", HOUSEHOLDS, changed)
    assert refused.status_code == 428 and refused.json()["code"] == "precondition_required"
    accepted = send(secret, "POST", HOUSEHOLDS, changed, **{"If-Match": etag})
    assert accepted.status_code == 200, accepted.content
    assert accepted["ETag"] != etag and Household.objects.get(number="H-API-1").address == "新住址"


def test_put_and_patch_need_the_current_etag(tree: Tree, staff: Staff) -> None:
    _client, secret = make_writer(tree.county, personal=True)
    response, head = new_household(secret, tree)
    url, etag = response["Location"], response["ETag"]
    body = household_body("H-API-1", tree.village_a1, [member_body(head)], helper_name="李干部")
    assert send(secret, "PUT", url, body).status_code == 428
    assert send(secret, "PATCH", url, {"address": "甲"}).status_code == 428
    patched = send(secret, "PATCH", url, {"address": "甲"}, **{"If-Match": etag})
    assert patched.status_code == 200, patched.content
    stale = send(secret, "PUT", url, body, **{"If-Match": etag})
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    put = send(secret, "PUT", url, body, **{"If-Match": patched["ETag"]})
    assert put.status_code == 200, put.content
    stored = Household.objects.get(number="H-API-1")
    assert (stored.address, stored.helper_name) == ("甲", "李干部")
    assert put["ETag"] == f'"{stored.version}"' != patched["ETag"]


def test_another_countys_household_is_404_and_its_number_is_refused_in_the_imports_words(
    world: World, tree: Tree
) -> None:
    _client, secret = make_writer(tree.county, personal=True)
    url = f"{HOUSEHOLDS}{world.other_household.pk}/"
    assert send(secret, "PATCH", url, {"address": "x"}, **{"If-Match": '"1"'}).status_code == 404
    assert send(secret, "PUT", url, {}, **{"If-Match": '"1"'}).status_code == 404
    body = household_body(world.other_household.number, tree.village_a1, [member_body(id_number("19600606"))])
    refused = send(secret, "POST", HOUSEHOLDS, body)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "number", "message": f"户编号 {world.other_household.number} 不可用：已被占用或不在您的管辖范围内"}
    ]
    assert Household.objects.get(pk=world.other_household.pk).address == world.other_household.address
    # Renumbering one of its own households onto that number is refused in the same words.
    own = f"{HOUSEHOLDS}{world.household.pk}/"
    renumbered = send(secret, "PATCH", own, {"number": world.other_household.number}, **{"If-Match": '"1"'})
    assert renumbered.status_code == 422
    assert renumbered.json()["errors"] == [
        {"field": "number", "message": f"户编号 {world.other_household.number} 不可用：已被占用或不在您的管辖范围内"}
    ]


def test_a_household_cannot_be_moved_outside_the_clients_region(world: World, tree: Tree) -> None:
    _client, secret = make_writer(tree.county, personal=True)
    url = f"{HOUSEHOLDS}{world.household.pk}/"
    etag = f'"{world.household.version}"'
    other_village = world.other_household.village.code
    refused = send(secret, "PATCH", url, {"village": other_village}, **{"If-Match": etag})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "village", "message": f"区划代码 {other_village} 不在您的管辖范围内"}]
    assert Household.objects.get(pk=world.household.pk).village_id == tree.village_a1.pk


def test_a_client_may_write_only_the_resources_it_was_given(tree: Tree, world: World) -> None:
    _client, secret = make_writer(tree.county, writable=["income-records"])
    response, _head = new_household(secret, tree)
    assert response.status_code == 403 and response.json()["message"] == "该接口客户端无权修改此资源"
    body = {"household": world.household.number, "year": 2025, "quarter": 2, "wages_migrant_work": "1200"}
    assert send(secret, "POST", "/api/v1/income-records/", body).status_code == 201
    assert IncomeRecord.objects.filter(household=world.household, year=2025, quarter=2).exists()


def test_income_upsert_by_household_and_quarter_recomputes_the_totals(tree: Tree, world: World) -> None:
    _client, secret = make_writer(tree.county)
    body = {"household": world.household.number, "year": 2025, "quarter": 1, "wages_migrant_work": "4000.50"}
    refused = send(secret, "POST", "/api/v1/income-records/", body)
    assert refused.status_code == 428  # the world's 2025Q1 exists: a change needs its ETag
    done = send(secret, "POST", "/api/v1/income-records/", body, **{"If-Match": f'"{world.income.version}"'})
    assert done.status_code == 200, done.content
    record = IncomeRecord.objects.get(pk=world.income.pk)
    assert record.wages_migrant_work == Decimal("4000.50") and record.net_income == Decimal("4000.50")


def test_a_threshold_etag_is_a_digest_that_changes_with_the_record(tree: Tree, staff: Staff) -> None:
    _client, secret = make_writer(tree.province)
    body = {"region": tree.province.code, "year": 2027, "amount": "9100", "source": "云南省2027年监测范围通知"}
    created = send(secret, "POST", "/api/v1/thresholds/", body)
    assert created.status_code == 201, created.content
    threshold = MonitoringThreshold.objects.get(region=tree.province, year=2027)
    read = send(secret, "GET", f"/api/v1/thresholds/{threshold.pk}/")
    assert read["ETag"] == created["ETag"]
    changed = send(
        secret, "PUT", f"/api/v1/thresholds/{threshold.pk}/", {**body, "amount": "9200"}, **{"If-Match": read["ETag"]}
    )
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] != read["ETag"]
    stale = send(
        secret, "PATCH", f"/api/v1/thresholds/{threshold.pk}/", {"amount": "9300"}, **{"If-Match": read["ETag"]}
    )
    assert stale.status_code == 412
    assert MonitoringThreshold.objects.get(pk=threshold.pk).amount == Decimal("9200")


def test_a_county_client_cannot_write_the_provinces_threshold(tree: Tree, staff: Staff) -> None:
    MonitoringThreshold.objects.create(region=tree.province, year=2026, amount=Decimal("9000"), source="省")
    _client, secret = make_writer(tree.county)
    body = {"region": tree.province.code, "year": 2026, "amount": "1", "source": "县"}
    refused = send(secret, "POST", "/api/v1/thresholds/", body)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "region", "message": f"区划代码 {tree.province.code} 不在您的管辖范围内"}
    ]


def test_the_history_names_the_client_and_its_account_cannot_log_in(tree: Tree, staff: Staff) -> None:
    client, secret = make_writer(tree.county, personal=True, name="云南省防返贫监测平台")
    response, _head = new_household(secret, tree)
    household = Household.objects.get(number="H-API-1")
    send(secret, "PATCH", response["Location"], {"address": "接口改的住址"}, **{"If-Match": response["ETag"]})
    actor = ApiActor.objects.get(username=f"api-client-{client.pk}")
    assert household.history.filter(history_user=actor).count() == 2
    assert not actor.is_active and not actor.has_usable_password()
    assert not Client().login(username=actor.username, password=PASSWORD)
    browser = Client()
    assert browser.login(username="xianadmin", password=PASSWORD)
    page = browser.get(f"/households/{household.pk}/").content.decode()
    assert "接口客户端 云南省防返贫监测平台" in page and "接口改的住址" in page


def test_a_county_form_save_of_members_only_writes_a_household_history_row(
    tree: Tree, staff: Staff, world: World
) -> None:
    household = world.household
    rows = household.history.count()
    members = [
        services_member(m, labour="skilled" if m.relation == "head" else m.labour) for m in household.members.all()
    ]
    household_update(by=staff.county_admin, household=household, members=members, expected_version=household.version)
    assert household.history.count() == rows + 1
    assert household.history.latest("history_id").version == household.version


def services_member(member: Any, **changes: Any) -> Any:
    from households.services import MEMBER_FIELDS, MemberData

    values = {name: getattr(member, name) for name in MEMBER_FIELDS}
    return MemberData(pk=member.pk, **{**values, **changes})
