"""The session keep-alive, the page for a stale CSRF token, and the error pages, all in Chinese."""

from __future__ import annotations

import time

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from regions.session_expiry import ACTIVE_AT_KEY, STARTED_AT_KEY
from tests.conftest import Staff
from tests.factories import PASSWORD


def signed_in(username: str, *, enforce_csrf_checks: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    assert client.login(username=username, password=PASSWORD)
    return client


def test_a_login_records_when_the_session_started_and_was_last_used(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username)
    assert abs(client.session[STARTED_AT_KEY] - time.time()) < 5
    assert client.session[ACTIVE_AT_KEY] == client.session[STARTED_AT_KEY]


def test_a_signed_in_page_carries_the_seconds_the_session_has_left_and_which_limit_ends_it(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username)
    page = client.get(reverse("household_list")).content.decode()
    assert 'id="session-timer"' in page
    # What is left of the idle limit after the login and one page (seconds on a loaded machine).
    seconds_left = int(page.split('data-seconds-left="', 1)[1].split('"', 1)[0])
    assert 1800 - 60 < seconds_left <= 1800
    assert 'data-limit="idle"' in page
    assert 'data-warn-seconds="300"' in page


def test_the_keep_alive_restarts_the_idle_limit_and_reports_what_is_left(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username)
    session = client.session
    session[ACTIVE_AT_KEY] = time.time() - 30 * 60 + 120
    session.save()
    assert 100 < client.get(reverse("session_keep_alive")).json()["seconds_left"] <= 120
    assert client.post(reverse("session_keep_alive")).json() == {"seconds_left": 30 * 60, "limit": "idle"}
    assert client.get(reverse("session_keep_alive")).json()["seconds_left"] > 30 * 60 - 10


def test_the_keep_alive_of_an_expired_session_answers_401(db: None) -> None:
    response = Client().post(reverse("session_keep_alive"))
    assert response.status_code == 401
    assert response.json() == {"seconds_left": 0}


def test_a_stale_csrf_token_gets_a_chinese_page_that_says_what_to_do(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username, enforce_csrf_checks=True)
    response = client.post(reverse("household_create"), {"csrfmiddlewaretoken": "stale"})
    page = response.content.decode()
    assert response.status_code == 403
    assert "页面已过期，本次提交未保存" in page
    assert 'href="/households/new/"' in page
    assert "CSRF" not in page


def test_a_stale_form_of_an_action_leads_back_to_the_page_it_was_on_not_to_the_action(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username, enforce_csrf_checks=True)
    # 退出 pressed in a tab opened before a new login in another tab: /logout/ answers only POST.
    response = client.post(
        reverse("logout"), {"csrfmiddlewaretoken": "stale"}, HTTP_REFERER="http://testserver/households/?page=2"
    )
    assert response.status_code == 403
    assert 'href="/households/?page=2"' in response.content.decode()
    # Another site's address is never offered; the form's own address is.
    response = client.post(
        reverse("household_create"), {"csrfmiddlewaretoken": "stale"}, HTTP_REFERER="https://example.com/households/"
    )
    assert 'href="/households/new/"' in response.content.decode()


@pytest.mark.django_db
def test_the_500_page_is_chinese_and_renders_without_a_request_context() -> None:
    response = server_error(RequestFactory().get("/households/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert "系统出错，本次操作没有完成" in page
    assert "{%" not in page and "{{" not in page


def test_a_missing_page_is_chinese(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username)
    response = client.get("/households/999999/")
    assert response.status_code == 404
    assert "未找到该页面或记录" in response.content.decode()
