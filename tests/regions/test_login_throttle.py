"""Login throttling (django-axes): lock a (username, address) after repeated failures; an administrator unlocks."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from regions.models import User
from tests.conftest import Staff
from tests.factories import PASSWORD


def attempt(client: Client, username: str, password: str, address: str = "10.0.0.1") -> int:
    response = client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)
    return response.status_code


@pytest.fixture
def limit(settings: pytest.FixtureRequest) -> int:
    return settings.AXES_FAILURE_LIMIT  # type: ignore[attr-defined]


def test_repeated_failures_lock_the_account_from_that_address_with_a_chinese_message(staff: Staff, limit: int) -> None:
    client = Client()
    for _ in range(limit - 1):
        assert attempt(client, "cun", "wrong") == 200
    response = client.post(reverse("login"), {"username": "cun", "password": "wrong"}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429
    page = response.content.decode()
    # A village clerk's account is kept by the township: that is whom to ask.
    assert 'data-testid="locked-out"' in page and "已被锁定" in page and "乡镇管理员" in page
    # Even the right password is refused while locked, and nobody is logged in.
    assert attempt(client, "cun", PASSWORD) == 429
    assert "_auth_user_id" not in client.session
    # Every failure is kept for the audit.
    assert AccessFailureLog.objects.filter(username="cun").count() >= limit


def test_the_lock_is_per_username_and_address(staff: Staff, limit: int) -> None:
    for _ in range(limit):
        attempt(Client(), "cun", "wrong")
    assert attempt(Client(), "cun", PASSWORD, address="10.0.0.2") == 302
    assert attempt(Client(), "xiang", PASSWORD) == 302


def test_a_success_before_the_limit_starts_the_count_again(staff: Staff, limit: int) -> None:
    for _ in range(limit - 1):
        attempt(Client(), "cun", "wrong")
    assert attempt(Client(), "cun", PASSWORD) == 302
    for _ in range(limit - 1):
        attempt(Client(), "cun", "wrong")
    assert attempt(Client(), "cun", PASSWORD) == 302


def test_a_county_admin_unlocks_an_account_of_the_county_in_the_admin(staff: Staff, limit: int) -> None:
    for _ in range(limit):
        attempt(Client(), "cun", "wrong")
    assert attempt(Client(), "cun", PASSWORD) == 429
    admin = Client()
    admin.force_login(staff.county_admin)
    listing = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and "cun" in listing.content.decode()
    locked = AccessAttempt.objects.get(username="cun")
    response = admin.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "unlock", "_selected_action": [locked.pk]},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="cun").exists()
    assert LogEntry.objects.filter(user=staff.county_admin, action_flag=DELETION).exists()
    assert attempt(Client(), "cun", PASSWORD) == 302


def test_login_records_are_scoped_like_everything_else(staff: Staff) -> None:
    for username in ["cun", "xiang2", "nobody"]:  # 金碧镇 village, 湾碧乡, no such account
        attempt(Client(), username, "wrong")
    # A township admin granted the view sees only the accounts of their own subtree.
    staff.township_admin.user_permissions.add(Permission.objects.get(codename="view_accessattempt"))

    def usernames(user: User) -> set[str]:
        client = Client()
        client.force_login(User.objects.get(pk=user.pk))
        response = client.get(reverse("admin:axes_accessattempt_changelist"))
        assert response.status_code == 200
        return {record.username for record in response.context["cl"].result_list}

    assert usernames(staff.township_admin) == {"cun"}
    assert usernames(staff.county_admin) == {"cun", "xiang2"}
    assert usernames(staff.superuser) == {"cun", "xiang2", "nobody"}


def test_a_county_viewer_cannot_see_login_records(staff: Staff) -> None:
    client = Client()
    client.force_login(staff.county_viewer)
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403


def test_the_test_client_login_still_authenticates(staff: Staff) -> None:
    assert Client().login(username="cun", password=PASSWORD)


def test_behind_a_trusted_proxy_failures_count_by_the_forwarded_address(
    staff: Staff, limit: int, settings: pytest.FixtureRequest
) -> None:
    settings.LOGIN_TRUSTED_PROXIES = 1  # type: ignore[attr-defined]

    def via_proxy(client_address: str, password: str) -> int:
        response = Client().post(
            reverse("login"),
            {"username": "cun", "password": password},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"6.6.6.6, {client_address}",  # the left entry is the client's own claim
        )
        return response.status_code

    for _ in range(limit):
        via_proxy("10.0.0.1", "wrong")
    assert via_proxy("10.0.0.1", PASSWORD) == 429
    assert via_proxy("10.0.0.2", PASSWORD) == 302
