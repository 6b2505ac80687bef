"""Tokens, the session refusal, throttling, resource rights and the call log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from api.models import ApiCall, ApiToken
from api.services import api_client_deactivate, api_token_revoke, api_token_rotate, token_digest
from tests.api.world import api_get, make_client
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree

pytestmark = pytest.mark.django_db

HOUSEHOLDS = "/api/v1/households/"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "errors"}
    assert body["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])  # the message is Chinese
    return body


def test_a_request_without_a_token_is_401_in_the_error_format(tree: Tree) -> None:
    response = api_get(None, HOUSEHOLDS)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_logged_in_session_is_refused_on_every_api_path(staff: Staff) -> None:
    browser = Client()
    assert browser.login(username="xianadmin", password=PASSWORD)
    for url in ["/api/v1/", HOUSEHOLDS, "/api/v1/regions/"]:
        assert_error(browser.get(url), 401, "not_authenticated")
    # Not even a write with the session's CSRF cookie gets past authentication.
    assert browser.post(HOUSEHOLDS, {}, content_type="application/json").status_code == 401


def test_a_valid_token_reads_and_only_its_hash_is_stored(tree: Tree) -> None:
    client, secret = make_client(tree.county)
    assert secret.startswith("zx_") and len(secret) > 40
    assert api_get(secret, HOUSEHOLDS).status_code == 200
    token = ApiToken.objects.get(client=client)
    assert token.token_hash == token_digest(secret) and secret not in (token.token_hash, token.hint)


def test_an_unknown_token_is_401(tree: Tree) -> None:
    make_client(tree.county)
    assert_error(api_get("zx_not-a-token", HOUSEHOLDS), 401, "authentication_failed")


def test_an_expired_token_is_401(tree: Tree) -> None:
    client, secret = make_client(tree.county)
    ApiToken.objects.filter(client=client).update(
        created_at=timezone.now() - timedelta(days=2), expires_at=timezone.now() - timedelta(seconds=1)
    )
    body = assert_error(api_get(secret, HOUSEHOLDS), 401, "authentication_failed")
    assert body["message"] == "访问令牌已过期"


def test_a_revoked_token_is_401_at_once(tree: Tree) -> None:
    client, secret = make_client(tree.county)
    assert api_token_revoke(token=ApiToken.objects.get(client=client))
    assert assert_error(api_get(secret, HOUSEHOLDS), 401, "authentication_failed")["message"] == "访问令牌已吊销"
    assert not api_token_revoke(token=ApiToken.objects.get(client=client))


def test_a_deactivated_clients_tokens_are_all_401(tree: Tree) -> None:
    client, secret = make_client(tree.county)
    newer = api_token_rotate(client=client, by=None).secret
    assert api_client_deactivate(client=client)
    for token in (secret, newer):
        assert assert_error(api_get(token, HOUSEHOLDS), 401, "authentication_failed")["message"] == "接口客户端已停用"


def test_after_a_rotation_old_and_new_tokens_both_work_until_the_grace_period_ends(tree: Tree, settings) -> None:
    settings.API_TOKEN_ROTATION_GRACE_HOURS = 24
    client, old = make_client(tree.county)
    new = api_token_rotate(client=client, by=None).secret
    assert api_get(old, HOUSEHOLDS).status_code == 200
    assert api_get(new, HOUSEHOLDS).status_code == 200
    old_token = ApiToken.objects.get(token_hash=token_digest(old))
    grace_end = old_token.expires_at
    assert timedelta(hours=23) < grace_end - timezone.now() <= timedelta(hours=24)
    # The grace period over (as if rotated 25 hours ago): the old token is refused, the new one is not.
    ApiToken.objects.filter(pk=old_token.pk).update(
        created_at=timezone.now() - timedelta(days=2), expires_at=timezone.now() - timedelta(hours=1)
    )
    assert assert_error(api_get(old, HOUSEHOLDS), 401, "authentication_failed")["message"] == "访问令牌已过期"
    assert api_get(new, HOUSEHOLDS).status_code == 200


def test_a_rotation_never_extends_an_old_token(tree: Tree) -> None:
    client, old = make_client(tree.county)
    soon = timezone.now() + timedelta(hours=1)
    ApiToken.objects.filter(client=client).update(expires_at=soon)
    api_token_rotate(client=client, by=None)
    assert ApiToken.objects.get(token_hash=token_digest(old)).expires_at == soon


def test_a_client_without_the_read_right_gets_403(tree: Tree) -> None:
    _client, secret = make_client(tree.county, readable=["regions"])
    assert api_get(secret, "/api/v1/regions/").status_code == 200
    assert_error(api_get(secret, HOUSEHOLDS), 403, "permission_denied")


def test_a_client_past_its_rate_gets_429_in_the_error_format(tree: Tree) -> None:
    _client, secret = make_client(tree.county, rate="2/min")
    _other_client, other_secret = make_client(tree.county, rate="2/min")
    assert [api_get(secret, HOUSEHOLDS).status_code for _ in range(2)] == [200, 200]
    response = api_get(secret, HOUSEHOLDS)
    body = assert_error(response, 429, "throttled")
    assert "秒后重试" in body["message"] and int(response["Retry-After"]) > 0
    # The limit is per client: another client of the same county still gets through.
    assert api_get(other_secret, HOUSEHOLDS).status_code == 200


def test_every_call_is_logged_with_its_client_status_and_records(world, tree: Tree) -> None:
    client, secret = make_client(tree.county, rate="3/min")
    api_get(secret, HOUSEHOLDS)
    api_get(secret, f"{HOUSEHOLDS}{world.other_household.pk}/")
    api_get(secret, "/api/v1/no-such-thing/")
    api_get(secret, HOUSEHOLDS)
    api_get("zx_unknown", HOUSEHOLDS)
    ApiToken.objects.filter(client=client).update(revoked_at=timezone.now())
    api_get(secret, HOUSEHOLDS)
    calls = list(ApiCall.objects.order_by("pk").values_list("client_id", "method", "path", "status", "records"))
    assert calls == [
        (client.pk, "GET", HOUSEHOLDS, 200, 1),
        (client.pk, "GET", f"{HOUSEHOLDS}{world.other_household.pk}/", 404, 0),
        (client.pk, "GET", "/api/v1/no-such-thing/", 404, 0),
        (client.pk, "GET", HOUSEHOLDS, 429, 0),
        (None, "GET", HOUSEHOLDS, 401, 0),
        (client.pk, "GET", HOUSEHOLDS, 401, 0),
    ]


def test_an_unknown_address_under_the_api_is_404_in_the_error_format(tree: Tree) -> None:
    _client, secret = make_client(tree.county)
    assert_error(api_get(secret, "/api/v1/no-such-thing/"), 404, "not_found")
    assert_error(api_get(None, "/api/v1/no-such-thing/"), 401, "not_authenticated")


def test_the_api_root_lists_only_the_readable_resources(tree: Tree) -> None:
    _client, secret = make_client(tree.county, readable=["regions", "households"])
    assert sorted(api_get(secret, "/api/v1/").json()) == ["households", "regions"]


def test_the_call_log_forgets_calls_past_the_retention_period(tree: Tree, settings) -> None:
    from api.tasks import api_calls_prune_task

    settings.API_CALL_RETENTION_DAYS = 30
    _client, secret = make_client(tree.county)
    api_get(secret, HOUSEHOLDS)
    api_get(secret, HOUSEHOLDS)
    old = ApiCall.objects.order_by("pk").first()
    ApiCall.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=31))  # type: ignore[union-attr]
    assert api_calls_prune_task() == 1
    assert ApiCall.objects.count() == 1
