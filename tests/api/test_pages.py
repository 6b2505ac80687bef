"""The 接口客户端 pages: county admins manage their county's clients only; a token is shown once."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from api.models import ApiCall, ApiClient, ApiToken
from api.services import token_digest
from tests.api.world import World, api_get, make_client
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree

pytestmark = pytest.mark.django_db


def login(username: str) -> Client:
    browser = Client()
    assert browser.login(username=username, password=PASSWORD)
    return browser


def shown_token(response) -> str:
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    match = re.search(r'data-testid="token">(zx_[A-Za-z0-9_-]+)<', response.content.decode())
    assert match, "the token is not on the page"
    return match.group(1)


def test_a_county_admin_creates_a_client_and_sees_its_token_once(staff: Staff, tree: Tree) -> None:
    browser = login("xianadmin")
    response = browser.post(
        "/api-clients/new/",
        {
            "name": "云南省防返贫监测平台",
            "region": tree.county.pk,
            "readable": ["households", "regions"],
            "writable": [],
            "throttle_rate": "600/min",
        },
    )
    secret = shown_token(response)
    client = ApiClient.objects.get()
    assert client.region == tree.county and client.readable == ["households", "regions"]
    assert client.created_by == staff.county_admin and not client.may_view_personal_data
    assert ApiToken.objects.get().token_hash == token_digest(secret)
    assert api_get(secret, "/api/v1/households/").status_code == 200
    # The token is never shown again: not on the client's page, not in the list.
    for url in ["/api-clients/", f"/api-clients/{client.pk}/"]:
        assert secret not in browser.get(url).content.decode()


def test_the_form_refuses_a_bad_rate_and_a_write_right_without_the_read_right(staff: Staff, tree: Tree) -> None:
    browser = login("xianadmin")
    response = browser.post(
        "/api-clients/new/",
        {"name": "甲", "region": tree.county.pk, "readable": [], "writable": ["households"], "throttle_rate": "fast"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and not ApiClient.objects.exists()
    assert "限流频率格式应为" in page


def test_a_county_admin_cannot_give_a_client_another_countys_region(world: World, staff: Staff) -> None:
    browser = login("xianadmin")
    response = browser.post(
        "/api-clients/new/",
        {"name": "甲", "region": world.other_county.pk, "readable": ["regions"], "throttle_rate": "600/min"},
    )
    assert response.status_code == 200 and not ApiClient.objects.exists()


def test_a_county_admin_neither_sees_nor_touches_another_countys_clients(
    world: World, staff: Staff, tree: Tree
) -> None:
    mine, _secret = make_client(tree.county)
    theirs, their_secret = make_client(world.other_county)
    api_get(their_secret, "/api/v1/households/")
    browser = login("xianadmin")
    listing = browser.get("/api-clients/").content.decode()
    assert mine.name in listing and theirs.name not in listing
    token = theirs.tokens.get()
    for method, url in [
        ("get", f"/api-clients/{theirs.pk}/"),
        ("post", f"/api-clients/{theirs.pk}/rotate/"),
        ("post", f"/api-clients/{theirs.pk}/deactivate/"),
        ("post", f"/api-clients/{theirs.pk}/tokens/{token.pk}/revoke/"),
    ]:
        assert getattr(browser, method)(url).status_code == 404, url
    theirs.refresh_from_db()
    token.refresh_from_db()
    assert theirs.is_active and token.revoked_at is None and theirs.tokens.count() == 1
    assert theirs.name not in browser.get("/api-clients/calls/").content.decode()
    assert browser.get(f"/api-clients/calls/?client={theirs.pk}").status_code == 200
    # Their own county admin does see it, and its calls.
    other = login(world.other_admin.username)
    assert other.get(f"/api-clients/{theirs.pk}/").status_code == 200
    assert "/api/v1/households/" in other.get("/api-clients/calls/").content.decode()


def test_staff_who_are_not_administrators_get_403(staff: Staff) -> None:
    for username in ["cun", "xiang", "xian"]:
        assert login(username).get("/api-clients/").status_code == 403, username


def test_rotating_on_the_page_shows_a_new_token_and_keeps_the_old_one_for_the_grace_period(
    staff: Staff, tree: Tree
) -> None:
    client, old = make_client(tree.county, by=staff.county_admin)
    new = shown_token(login("xianadmin").post(f"/api-clients/{client.pk}/rotate/"))
    assert new != old
    assert api_get(old, "/api/v1/regions/").status_code == 200
    assert api_get(new, "/api/v1/regions/").status_code == 200


def test_revoking_and_deactivating_on_the_page_take_effect_at_once(staff: Staff, tree: Tree) -> None:
    client, secret = make_client(tree.county)
    browser = login("xianadmin")
    token = client.tokens.get()
    assert browser.post(f"/api-clients/{client.pk}/tokens/{token.pk}/revoke/").status_code == 302
    assert api_get(secret, "/api/v1/regions/").status_code == 401
    fresh = shown_token(browser.post(f"/api-clients/{client.pk}/rotate/"))
    assert api_get(fresh, "/api/v1/regions/").status_code == 200
    assert browser.post(f"/api-clients/{client.pk}/deactivate/").status_code == 302
    assert api_get(fresh, "/api/v1/regions/").status_code == 401
    assert "已停用" in browser.get(f"/api-clients/{client.pk}/").content.decode()


def test_the_call_log_filters_by_client_and_day_and_pages(staff: Staff, tree: Tree) -> None:
    first, first_secret = make_client(tree.county)
    second, second_secret = make_client(tree.county)
    for _ in range(3):
        api_get(first_secret, "/api/v1/regions/")
    api_get(second_secret, "/api/v1/households/")
    browser = login("xianadmin")
    page = browser.get(f"/api-clients/calls/?client={second.pk}").content.decode()
    assert "/api/v1/households/" in page and "/api/v1/regions/" not in page
    today = ApiCall.objects.first().at.astimezone().date().isoformat()  # type: ignore[union-attr]
    assert "/api/v1/regions/" in browser.get(f"/api-clients/calls/?day_from={today}&day_to={today}").content.decode()
    assert "/api/v1/regions/" not in browser.get("/api-clients/calls/?day_to=2020-01-01").content.decode()
    assert first.calls.count() == 3


def test_the_admin_shows_clients_tokens_and_calls_read_only_without_the_token_hash(staff: Staff, tree: Tree) -> None:
    client, secret = make_client(tree.county)
    api_get(secret, "/api/v1/regions/")
    browser = login("root")
    token = client.tokens.get()
    for url in [
        "/admin/api/apiclient/",
        f"/admin/api/apiclient/{client.pk}/change/",
        "/admin/api/apitoken/",
        f"/admin/api/apitoken/{token.pk}/change/",
        "/admin/api/apicall/",
    ]:
        response = browser.get(url)
        assert response.status_code == 200, url
        assert token.token_hash not in response.content.decode()
    assert browser.get("/admin/api/apiclient/add/").status_code == 403


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("day_from=abc", "筛选条件有误：起始日期请填写有效的日期，如 2025-03-01"),
        ("day_from=2026-03-01&day_to=2026-02-01", "截止日期（2026-02-01）早于起始日期（2026-03-01）"),
    ],
)
def test_a_hand_edited_call_log_filter_is_named_and_lists_nothing(
    staff: Staff, tree: Tree, query: str, message: str
) -> None:
    _, secret = make_client(tree.county)
    api_get(secret, "/api/v1/regions/")
    page = login("xianadmin").get(f"/api-clients/calls/?{query}").content.decode()
    assert message in page
    assert "/api/v1/regions/" not in page


def test_the_call_log_from_the_first_day_of_the_calendar_lists_every_call(staff: Staff, tree: Tree) -> None:
    # 0001-01-01 at midnight in Asia/Shanghai is before year 1 in UTC: it was a 500 (OverflowError).
    _, secret = make_client(tree.county)
    api_get(secret, "/api/v1/regions/")
    response = login("xianadmin").get("/api-clients/calls/?day_from=0001-01-01&day_to=9999-12-31")
    assert response.status_code == 200
    assert "/api/v1/regions/" in response.content.decode()
