"""Reconciliation: the province posts (户编号 or 身份证号, checksum) for a county in batches; the API answers what
is missing on either side and what differs; the county page shows the same report, scoped and masked."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from api.models import Reconciliation
from api.reconciliations import record_checksum
from households.models import Household
from tests.api.world import World, api_get, make_client
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household

pytestmark = pytest.mark.django_db

PROVINCE_ONLY_NUMBER = "532326100201099"
PROVINCE_ONLY_ID_NUMBER = "532326198001019993"


def api_post(secret: str, url: str, body: Any = None) -> Any:
    return Client().post(
        url, json.dumps(body or {}), content_type="application/json", headers={"Authorization": f"Bearer {secret}"}
    )


def entries_from_the_api(secret: str) -> list[dict[str, str]]:
    """What a mirror of the county would post: checksums of the records as the read endpoints gave them."""
    entries = []
    for record in api_get(secret, "/api/v1/households/?limit=1000").json()["results"]:
        entries.append({"kind": "household", "key": record["number"], "checksum": record_checksum("household", record)})
        for person in record["members"]:
            person = {**person, "household": record["number"]}
            entries.append(
                {"kind": "member", "key": person["id_number"], "checksum": record_checksum("member", person)}
            )
    return entries


@pytest.fixture
def county_households(world: World, tree: Tree, staff: Staff) -> list[Household]:
    return [world.household, household(staff.county_admin, tree.village_a2)]


def reconcile(secret: str, entries: list[dict[str, str]], batch: int = 3) -> dict[str, Any]:
    created = api_post(secret, "/api/v1/reconciliations/", {"county": "532326000000", "entries": entries[:batch]})
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    for start in range(batch, len(entries), batch):
        added = api_post(secret, f"/api/v1/reconciliations/{pk}/entries/", {"entries": entries[start : start + batch]})
        assert added.status_code == 200, added.content
    finished = api_post(secret, f"/api/v1/reconciliations/{pk}/finish/")
    assert finished.status_code == 200, finished.content
    return dict(finished.json())


def differences(secret: str, pk: int) -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = set()
    url: str | None = f"/api/v1/reconciliations/{pk}/differences/?limit=2"
    while url:
        body = api_get(secret, url).json()
        found |= {(row["kind"], row["key"], row["problem"]) for row in body["results"]}
        url = body["next"]
    return found


def test_records_mirrored_from_the_api_reconcile_without_a_difference(county_households: list[Household], tree: Tree):
    _client, secret = make_client(tree.county, personal=True)
    entries = entries_from_the_api(secret)

    report = reconcile(secret, entries)

    assert report["status"] == "finished"
    assert report["summary"]["household"] == {
        "posted": 2,
        "county": 2,
        "missing_in_county": 0,
        "missing_in_province": 0,
        "differs": 0,
    }
    assert report["summary"]["member"]["posted"] == report["summary"]["member"]["county"] == 3
    assert differences(secret, report["id"]) == set()


def test_missing_on_either_side_and_differing_records_are_reported(county_households: list[Household], tree: Tree):
    _client, secret = make_client(tree.county, personal=True)
    entries = entries_from_the_api(secret)
    first, second = county_households
    head = first.members.get()
    kept = [entry for entry in entries if entry["key"] != second.number]  # the province lacks one household
    for entry in kept:
        if entry["key"] == head.id_number:
            entry["checksum"] = "0" * 64  # the province holds another version of this person
    kept.append({"kind": "household", "key": PROVINCE_ONLY_NUMBER, "checksum": "a" * 64})
    kept.append({"kind": "member", "key": PROVINCE_ONLY_ID_NUMBER, "checksum": "b" * 64})

    report = reconcile(secret, kept)

    assert differences(secret, report["id"]) == {
        ("household", second.number, "missing_in_province"),
        ("household", PROVINCE_ONLY_NUMBER, "missing_in_county"),
        ("member", head.id_number, "differs"),
        ("member", PROVINCE_ONLY_ID_NUMBER, "missing_in_county"),
    }
    assert report["summary"]["household"]["missing_in_province"] == 1
    assert report["summary"]["member"]["differs"] == 1
    only_differs = api_get(secret, f"/api/v1/reconciliations/{report['id']}/differences/?problem=differs").json()
    assert [row["key"] for row in only_differs["results"]] == [head.id_number]


def test_a_changed_field_changes_the_checksum(county_households: list[Household], tree: Tree) -> None:
    _client, secret = make_client(tree.county, personal=True)
    before = entries_from_the_api(secret)
    Household.objects.filter(pk=county_households[0].pk).update(address="新住址")
    report = reconcile(secret, before)
    assert differences(secret, report["id"]) == {("household", county_households[0].number, "differs")}


def test_another_countys_households_are_missing_never_found(world: World, tree: Tree) -> None:
    _client, secret = make_client(tree.county, personal=True)
    report = reconcile(secret, [{"kind": "household", "key": world.other_household.number, "checksum": "c" * 64}])
    assert (
        "household",
        world.other_household.number,
        "missing_in_county",
    ) in differences(secret, report["id"])
    # And another county cannot be reconciled at all.
    response = api_post(secret, "/api/v1/reconciliations/", {"county": world.other_county.code, "entries": []})
    assert response.status_code == 404


def test_bad_and_repeated_entries_are_refused_row_by_row_and_nothing_is_kept(world: World, tree: Tree) -> None:
    _client, secret = make_client(tree.county, personal=True)
    good = {"kind": "household", "key": "X1", "checksum": "d" * 64}
    created = api_post(secret, "/api/v1/reconciliations/", {"county": "532326000000", "entries": [good]})
    pk = created.json()["id"]

    response = api_post(
        secret,
        f"/api/v1/reconciliations/{pk}/entries/",
        {"entries": [{"kind": "household", "key": "X2", "checksum": "e" * 64}, good, {"kind": "x", "checksum": "1"}]},
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"row": 2, "field": "key", "message": "户编号 X1 重复提交"} in errors
    assert {error["field"] for error in errors if error["row"] == 3} == {"kind", "key", "checksum"}
    assert Reconciliation.objects.get(pk=pk).entries.count() == 1
    too_many = [{"kind": "member", "key": f"K{n}", "checksum": "f" * 64} for n in range(10_001)]
    assert api_post(secret, f"/api/v1/reconciliations/{pk}/entries/", {"entries": too_many}).status_code == 400


def test_finishing_twice_gives_the_same_report_and_no_entries_come_after(world: World, tree: Tree) -> None:
    _client, secret = make_client(tree.county, personal=True)
    report = reconcile(secret, [{"kind": "household", "key": "X1", "checksum": "d" * 64}])
    again = api_post(secret, f"/api/v1/reconciliations/{report['id']}/finish/")
    assert again.json() == report
    late = api_post(
        secret,
        f"/api/v1/reconciliations/{report['id']}/entries/",
        {"entries": [{"kind": "household", "key": "X2", "checksum": "d" * 64}]},
    )
    assert late.status_code == 400 and "已完成" in late.json()["errors"][0]["message"]


def test_a_client_without_personal_data_rights_may_not_reconcile(world: World, tree: Tree) -> None:
    _client, secret = make_client(tree.county)
    response = api_post(secret, "/api/v1/reconciliations/", {"county": "532326000000"})
    assert response.status_code == 403 and "个人信息" in response.json()["message"]


def test_a_clients_reconciliation_is_404_to_another_client(world: World, tree: Tree) -> None:
    _client, secret = make_client(tree.county, personal=True)
    _other, other_secret = make_client(tree.county, personal=True)
    report = reconcile(secret, [])
    assert api_get(other_secret, f"/api/v1/reconciliations/{report['id']}/").status_code == 404
    assert api_get(secret, f"/api/v1/reconciliations/{report['id']}/").json()["status"] == "finished"


def login(username: str) -> Client:
    browser = Client()
    assert browser.login(username=username, password=PASSWORD)
    return browser


def test_the_county_page_shows_the_same_report_to_its_admin_only(
    county_households: list[Household], world: World, tree: Tree, staff: Staff
) -> None:
    _client, secret = make_client(tree.county, personal=True)
    entries = [entry for entry in entries_from_the_api(secret) if entry["kind"] == "member"]
    entries.append({"kind": "member", "key": PROVINCE_ONLY_ID_NUMBER, "checksum": "b" * 64})
    report = reconcile(secret, entries)
    url = f"/api-clients/reconciliations/{report['id']}/"

    listing = login("xianadmin").get("/api-clients/reconciliations/").content.decode()
    assert url in listing
    page = login("xianadmin").get(url).content.decode()
    assert PROVINCE_ONLY_ID_NUMBER in page and county_households[1].number in page
    assert login(world.other_admin.username).get(url).status_code == 404
    assert url not in login(world.other_admin.username).get("/api-clients/reconciliations/").content.decode()
    assert login("xian").get(url).status_code == 403

    # A county administrator whose role may not see personal data sees the 身份证号 masked.
    group = Group.objects.get(user=staff.county_admin)
    group.permissions.remove(Permission.objects.get(codename="view_personal_data"))
    masked = login("xianadmin").get(url).content.decode()
    assert PROVINCE_ONLY_ID_NUMBER not in masked and PROVINCE_ONLY_ID_NUMBER[:6] in masked


def test_a_key_with_a_nul_or_control_character_is_refused_by_its_row(world: World, tree: Tree) -> None:
    _client, secret = make_client(tree.county, personal=True)
    entries = [
        {"kind": "household", "key": "X1", "checksum": "d" * 64},
        {"kind": "household", "key": "X\x002", "checksum": "e" * 64},
        {"kind": "member", "key": "53232619800101\n", "checksum": "f" * 64},
    ]
    response = api_post(secret, "/api/v1/reconciliations/", {"county": "532326000000", "entries": entries})
    assert response.status_code == 400, response.content[:300]
    assert {(error["row"], error["field"]) for error in response.json()["errors"]} == {(2, "key"), (3, "key")}
    assert not Reconciliation.objects.exists()
