"""The conflict queue: a province write meeting a county edit is queued, not written; county admins resolve it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from api.models import ApiConflict, ConflictStatus
from changes.models import Change
from households.models import Household, IncomeRecord
from households.quarter import Quarter
from households.services import household_cancel, household_update, income_record_save
from regions.models import Role
from tests.api.world import World
from tests.api.writing import make_writer, send
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, make_user

pytestmark = pytest.mark.django_db

HOUSEHOLDS = "/api/v1/households/"


def county_edit(by, target: Household, **fields: object) -> Household:
    fresh = Household.objects.get(pk=target.pk)
    for name, value in fields.items():
        setattr(fresh, name, value)
    return household_update(by=by, household=fresh, expected_version=fresh.version)


def test_a_write_over_a_county_edit_is_queued_and_nothing_is_overwritten(
    world: World, tree: Tree, staff: Staff
) -> None:
    client, secret = make_writer(tree.county, personal=True)
    seen = send(secret, "GET", f"{HOUSEHOLDS}{world.household.pk}/")["ETag"]
    county_edit(staff.village_clerk, world.household, address="县里改的", helper_name="县干部")
    response = send(
        secret,
        "PATCH",
        f"{HOUSEHOLDS}{world.household.pk}/",
        {"address": "省里改的", "phone": "13900000000"},
        **{"If-Match": seen},
    )
    assert response.status_code == 409, response.content
    body = response.json()
    conflict = ApiConflict.objects.get(pk=body["conflict_id"])
    assert body["code"] == "conflict" and {e["field"] for e in body["errors"]} == {"address", "phone"}
    # The county changed the address, not the phone: each field says which it is.
    assert {e["field"]: e["message"] for e in body["errors"]} == {
        "address": "县级用户已修改此字段",
        "phone": "县级用户未改此字段，随本次修改一并等待处理",
    }
    stored = Household.objects.get(pk=world.household.pk)
    assert (stored.address, stored.phone, stored.helper_name) == ("县里改的", "13812345678", "县干部")
    fields = {field["key"]: field for field in conflict.fields}
    assert fields["address"] == {
        "key": "address",
        "label": "住址",
        "base": "",
        "ours": "县里改的",
        "theirs": "省里改的",
    }
    assert fields["phone"]["base"] == "13812345678" and fields["phone"]["theirs"] == "13900000000"
    assert conflict.client == client and conflict.region == tree.village_a1 and conflict.status == ConflictStatus.OPEN
    assert conflict.base_version == int(seen.strip('"')) and conflict.record_version == stored.version


def test_a_stale_etag_after_only_the_clients_own_writes_is_412_not_a_conflict(world: World, tree: Tree) -> None:
    _client, secret = make_writer(tree.county, personal=True)
    url = f"{HOUSEHOLDS}{world.household.pk}/"
    seen = send(secret, "GET", url)["ETag"]
    assert send(secret, "PATCH", url, {"address": "一"}, **{"If-Match": seen}).status_code == 200
    stale = send(secret, "PATCH", url, {"address": "二"}, **{"If-Match": seen})
    assert stale.status_code == 412 and not ApiConflict.objects.exists()


def test_a_batch_row_over_a_county_edit_is_a_conflict_and_the_other_rows_are_written(
    world: World, tree: Tree, staff: Staff
) -> None:
    _client, secret = make_writer(tree.county, personal=True)
    base = world.income.version
    income_record_save(
        by=staff.village_clerk,
        household=world.household,
        quarter=Quarter(2025, 1),
        amounts={"wages_migrant_work": Decimal("3500")},
        record=IncomeRecord.objects.get(pk=world.income.pk),
    )
    rows = [
        {
            "household": world.household.number,
            "year": 2025,
            "quarter": 1,
            "wages_migrant_work": "9999",
            "base_version": base,
        },
        {"household": world.household.number, "year": 2025, "quarter": 2, "wages_migrant_work": "1000"},
    ]
    response = send(secret, "POST", "/api/v1/income-records/batch/", {"records": rows})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(r["row"], r["status"]) for r in body["results"]] == [(1, "conflict"), (2, "created")]
    assert body["conflicts"] == 1 and body["created"] == 1
    conflict = ApiConflict.objects.get(pk=body["results"][0]["conflict_id"])
    assert {f["key"]: (f["base"], f["ours"], f["theirs"]) for f in conflict.fields} == {
        "wages_migrant_work": ("3000.00", "3500.00", "9999.00")
    }
    assert str(IncomeRecord.objects.get(pk=world.income.pk).wages_migrant_work) == "3500.00"


def resolve(browser: Client, conflict: ApiConflict, **choices: str) -> Any:
    record = Household.objects.get(pk=conflict.record_id)
    data: dict[str, Any] = {"conflict_version": conflict.version, "record_version": record.version}
    for index, field in enumerate(conflict.fields):
        data[f"choice-{index}"] = choices[field["key"]]
    return browser.post(f"/api-clients/conflicts/{conflict.pk}/", data)


def queued_conflict(world: World, tree: Tree, staff: Staff) -> ApiConflict:
    _client, secret = make_writer(tree.county, personal=True, name="省平台")
    seen = send(secret, "GET", f"{HOUSEHOLDS}{world.household.pk}/")["ETag"]
    county_edit(staff.village_clerk, world.household, address="县里改的")
    response = send(
        secret,
        "PATCH",
        f"{HOUSEHOLDS}{world.household.pk}/",
        {"address": "省里改的", "helper_name": "省派干部"},
        **{"If-Match": seen},
    )
    assert response.status_code == 409
    return ApiConflict.objects.get(pk=response.json()["conflict_id"])


def test_a_county_admin_resolves_field_by_field_and_the_result_is_an_ordinary_change(
    world: World, tree: Tree, staff: Staff
) -> None:
    conflict = queued_conflict(world, tree, staff)
    browser = Client()
    assert browser.login(username="xianadmin", password=PASSWORD)
    listing = browser.get("/api-clients/conflicts/").content.decode()
    assert f"#{conflict.pk}" in listing and "住址" in listing
    assert 'data-testid="conflict-count">1<' in browser.get("/api-clients/").content.decode()
    page = browser.get(f"/api-clients/conflicts/{conflict.pk}/").content.decode()
    assert "县里改的" in page and "省里改的" in page and "保留本地" in page and "采用省级" in page
    last_change = Change.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = resolve(browser, conflict, address="ours", helper_name="theirs")
    assert response.status_code == 302
    stored = Household.objects.get(pk=world.household.pk)
    assert (stored.address, stored.helper_name) == ("县里改的", "省派干部")
    conflict.refresh_from_db()
    assert conflict.status == ConflictStatus.RESOLVED and conflict.resolved_by == staff.county_admin
    assert conflict.resolution == {"address": "ours", "helper_name": "theirs"}
    latest = stored.history.latest("history_id")
    assert latest.history_user == staff.county_admin and f"处理接口冲突 #{conflict.pk}" in latest.history_change_reason
    assert Change.objects.filter(id__gt=last_change, resource="households", row_id=stored.pk).exists()
    # A second administrator with the page still open cannot resolve it again.
    again = resolve(browser, conflict, address="theirs", helper_name="theirs")
    assert again.status_code == 302 and Household.objects.get(pk=stored.pk).address == "县里改的"


def test_two_administrators_cannot_both_resolve(world: World, tree: Tree, staff: Staff) -> None:
    conflict = queued_conflict(world, tree, staff)
    first, second = Client(), Client()
    assert first.login(username="xianadmin", password=PASSWORD) and second.login(username="xiang", password=PASSWORD)
    stale = ApiConflict.objects.get(pk=conflict.pk)  # both opened the page at this version
    assert resolve(first, stale, address="theirs", helper_name="ours").status_code == 302
    response = resolve(second, stale, address="ours", helper_name="theirs")
    assert "已处理" in second.get(response["Location"]).content.decode()
    stored = Household.objects.get(pk=world.household.pk)
    assert (stored.address, stored.helper_name) == ("省里改的", "")


def test_a_township_admin_sees_only_its_own_townships_conflicts(world: World, tree: Tree, staff: Staff) -> None:
    conflict = queued_conflict(world, tree, staff)  # in 金碧镇
    other = Client()
    assert other.login(username="xiang2", password=PASSWORD)  # 湾碧乡
    assert other.get(f"/api-clients/conflicts/{conflict.pk}/").status_code == 404
    assert f"#{conflict.pk}" not in other.get("/api-clients/conflicts/").content.decode()
    own = Client()
    assert own.login(username="xiang", password=PASSWORD)
    assert own.get(f"/api-clients/conflicts/{conflict.pk}/").status_code == 200
    clerk = Client()
    assert clerk.login(username="cun", password=PASSWORD)
    assert clerk.get("/api-clients/conflicts/").status_code == 403


def test_the_conflict_page_masks_personal_data_for_a_viewer_without_the_permission(
    world: World, tree: Tree, staff: Staff
) -> None:
    _client, secret = make_writer(tree.county, personal=True)
    seen = send(secret, "GET", f"{HOUSEHOLDS}{world.household.pk}/")["ETag"]
    county_edit(staff.village_clerk, world.household, phone="13711112222")
    assert (
        send(
            secret, "PATCH", f"{HOUSEHOLDS}{world.household.pk}/", {"phone": "13933334444"}, **{"If-Match": seen}
        ).status_code
        == 409
    )
    viewer = make_user("xiangview", Role.TOWNSHIP_ADMIN, tree.township_a)
    browser = Client()
    assert browser.login(username=viewer.username, password=PASSWORD)
    page = browser.get(f"/api-clients/conflicts/{ApiConflict.objects.get().pk}/").content.decode()
    may_see = viewer.has_perm("households.view_personal_data")
    for number in ("13711112222", "13933334444", "13812345678"):
        assert (number in page) == may_see


def test_taking_the_provinces_values_for_a_household_cancelled_since_is_refused_on_the_page(
    world: World, tree: Tree, staff: Staff
) -> None:
    conflict = queued_conflict(world, tree, staff)
    current = Household.objects.get(pk=world.household.pk)
    household_cancel(by=staff.county_admin, household=current, reason_text="迁出", expected_version=current.version)
    browser = Client()
    assert browser.login(username="xianadmin", password=PASSWORD)

    response = resolve(browser, conflict, address="theirs", helper_name="theirs")

    assert response.status_code == 302
    shown = browser.get(response["Location"]).content.decode()
    assert "已注销，不能修改" in shown
    conflict.refresh_from_db()
    assert conflict.status == ConflictStatus.OPEN
    assert Household.objects.get(pk=world.household.pk).address == "县里改的"
    kept = resolve(browser, conflict, address="ours", helper_name="ours")
    assert kept.status_code == 302
    conflict.refresh_from_db()
    assert conflict.status == ConflictStatus.RESOLVED
