"""The two limits on a signed-in session: idle (restarted by what the user does, not by what a page polls)
and absolute (from the login, extended by nothing). Time travel by moving the stored timestamps back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from households.models import IncomeRecord
from regions.models import AuditEvent, AuditKind
from regions.session_expiry import (
    ACTIVE_AT_KEY,
    BACKGROUND_HEADER,
    LEGACY_RENEWED_AT_KEY,
    STARTED_AT_KEY,
    duration_text,
)
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household

IDLE = 30 * 60
ABSOLUTE = 8 * 3600


def signed_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def travel(client: Client, *, started_ago: float | None = None, active_ago: float | None = None) -> None:
    """Move the session's login and last activity back in time, as if that long had passed."""
    session = client.session
    now = time.time()
    if started_ago is not None:
        session[STARTED_AT_KEY] = now - started_ago
    if active_ago is not None:
        session[ACTIVE_AT_KEY] = now - active_ago
    session.save()


def is_signed_in(client: Client) -> bool:
    return client.get(reverse("session_keep_alive")).status_code == 200


def test_the_limits_default_to_thirty_minutes_idle_and_eight_hours_from_the_login() -> None:
    assert (settings.SESSION_IDLE_SECONDS, settings.SESSION_COOKIE_AGE) == (IDLE, ABSOLUTE)


def test_the_limits_come_from_the_environment() -> None:
    environment = {**os.environ, "SESSION_IDLE_SECONDS": "600", "SESSION_COOKIE_AGE": "14400"}
    code = "from django.conf import settings; print(settings.SESSION_IDLE_SECONDS, settings.SESSION_COOKIE_AGE)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--settings=config.settings.test", "-c", code],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.split()[-2:] == ["600", "14400"]


def test_a_session_idle_past_the_limit_is_logged_out_on_its_next_request_and_told_why(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username)
    travel(client, active_ago=IDLE + 1)

    response = client.get(reverse("household_list"), {"q": "张"})

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={quote('/households/?q=%E5%BC%A0', safe='')}"
    login_page = client.get(response["Location"]).content.decode()
    assert "已超过 30 分钟没有操作，为保护数据已自动退出登录" in login_page
    assert "未保存的填写内容暂存在本机浏览器" in login_page
    assert not is_signed_in(client)
    logout = AuditEvent.objects.get(kind=AuditKind.LOGOUT)
    assert (logout.user, logout.detail) == (staff.village_clerk, "空闲超时，自动退出")


def test_a_request_just_inside_the_idle_limit_is_served_and_restarts_it(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username)
    travel(client, active_ago=IDLE - 10)

    assert client.get(reverse("household_list")).status_code == 200

    assert abs(client.session[ACTIVE_AT_KEY] - time.time()) < 5
    assert not AuditEvent.objects.filter(kind=AuditKind.LOGOUT).exists()


def test_activity_is_written_at_most_once_a_minute(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username)
    travel(client, active_ago=30)
    before = client.session[ACTIVE_AT_KEY]

    client.get(reverse("household_list"))
    assert client.session[ACTIVE_AT_KEY] == before

    travel(client, active_ago=61)
    client.get(reverse("household_list"))
    assert abs(client.session[ACTIVE_AT_KEY] - time.time()) < 5


def test_neither_the_warnings_look_at_the_time_nor_htmx_polling_counts_as_activity(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username)
    travel(client, active_ago=600)
    before = client.session[ACTIVE_AT_KEY]

    assert client.get(reverse("session_keep_alive")).json() == {"seconds_left": IDLE - 600, "limit": "idle"}
    client.get(reverse("household_list"), headers={"HX-Request": "true", BACKGROUND_HEADER: "1"})
    assert client.session[ACTIVE_AT_KEY] == before

    # The warning's 继续 does.
    assert client.post(reverse("session_keep_alive")).json() == {"seconds_left": IDLE, "limit": "idle"}
    assert abs(client.session[ACTIVE_AT_KEY] - time.time()) < 5


def test_polling_alone_does_not_keep_an_unattended_session_alive(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username)
    travel(client, active_ago=IDLE - 5)
    polling = {"HX-Request": "true", BACKGROUND_HEADER: "1"}
    assert client.get(reverse("household_list"), headers=polling).status_code == 200

    travel(client, active_ago=IDLE + 1)
    assert client.get(reverse("household_list"), headers=polling).status_code == 204
    assert not is_signed_in(client)


def test_activity_and_the_keep_alive_do_not_extend_the_absolute_limit(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username)
    travel(client, started_ago=ABSOLUTE - 120, active_ago=0)

    assert client.get(reverse("household_list")).status_code == 200
    page = client.get(reverse("household_list")).content.decode()
    assert 'data-limit="absolute"' in page
    answer = client.post(reverse("session_keep_alive")).json()
    assert answer["limit"] == "absolute" and 100 < answer["seconds_left"] <= 120

    travel(client, started_ago=ABSOLUTE + 1)
    response = client.get(reverse("household_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "登录已满 8 小时，为保护数据已自动退出，请重新登录。"
        "未保存的填写内容暂存在本机浏览器，重新登录后回到原页面即可恢复。"
    ]
    assert AuditEvent.objects.get(kind=AuditKind.LOGOUT).detail == "登录时长已满，自动退出"


def test_the_warning_names_whichever_limit_comes_first(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username)
    travel(client, started_ago=ABSOLUTE - 600, active_ago=IDLE - 900)
    assert client.get(reverse("session_keep_alive")).json() == {"seconds_left": 600, "limit": "absolute"}

    travel(client, started_ago=ABSOLUTE - 3600, active_ago=IDLE - 900)
    assert client.get(reverse("session_keep_alive")).json() == {"seconds_left": 900, "limit": "idle"}


def test_the_keep_alive_of_an_ended_session_answers_401(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username)
    travel(client, active_ago=IDLE + 1)

    response = client.get(reverse("session_keep_alive"))

    assert response.status_code == 401
    assert response.json() == {"seconds_left": 0}
    # The login page the warning then links to says why.
    assert "没有操作，为保护数据已自动退出登录" in client.get(reverse("login")).content.decode()


def test_a_fragment_requested_after_the_limit_sends_the_whole_page_to_the_login(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username)
    travel(client, active_ago=IDLE + 1)

    response = client.get(
        reverse("household_list"),
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/imports/7/?tab=preview"},
    )

    assert response.status_code == 204
    assert response["HX-Redirect"] == f"{reverse('login')}?next={quote('/imports/7/?tab=preview', safe='')}"


def test_a_form_posted_after_the_limit_saves_nothing_and_its_page_opens_again_after_the_login(
    staff: Staff, tree: Tree
) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    form_path = reverse("income_create", args=[target.pk])
    client = signed_in(staff.village_clerk.username)
    travel(client, active_ago=IDLE + 1)

    response = client.post(
        form_path,
        {"year": "2025", "quarter": "1", "wages_migrant_work": "6000"},
        headers={"Referer": f"http://testserver{form_path}"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={quote(form_path, safe='')}"
    assert IncomeRecord.objects.count() == 0
    login = client.post(
        response["Location"], {"username": staff.village_clerk.username, "password": PASSWORD, "next": form_path}
    )
    assert login["Location"] == form_path


def test_after_the_limit_an_action_posted_from_a_page_returns_to_that_page_and_signing_out_to_the_home_page(
    staff: Staff,
) -> None:
    client = signed_in(staff.village_clerk.username)
    travel(client, active_ago=IDLE + 1)
    dismissed = client.post(
        reverse("alert_dismiss_bulk"), headers={"Referer": "http://testserver/assessment/alerts/?page=2"}
    )
    assert dismissed["Location"] == f"{reverse('login')}?next={quote('/assessment/alerts/?page=2', safe='')}"

    client = signed_in(staff.village_clerk.username)
    travel(client, active_ago=IDLE + 1)
    elsewhere = client.post(reverse("alert_dismiss_bulk"), headers={"Referer": "https://example.com/alerts/"})
    assert elsewhere["Location"] == f"{reverse('login')}?next=%2F"

    client = signed_in(staff.village_clerk.username)
    travel(client, active_ago=IDLE + 1)
    signed_out = client.post(reverse("logout"), headers={"Referer": "http://testserver/households/"})
    assert signed_out["Location"] == f"{reverse('login')}?next=%2F"


def test_a_session_signed_in_before_the_limits_keeps_its_eight_hours_from_its_last_renewal(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username)
    session = client.session
    for key in (STARTED_AT_KEY, ACTIVE_AT_KEY):
        del session[key]
    session[LEGACY_RENEWED_AT_KEY] = time.time() - ABSOLUTE + 300
    session.save()

    assert client.get(reverse("household_list")).status_code == 200
    answer: dict[str, Any] = client.get(reverse("session_keep_alive")).json()
    assert answer["limit"] == "absolute" and 290 < answer["seconds_left"] <= 300
    assert LEGACY_RENEWED_AT_KEY not in client.session


def test_limits_read_as_a_person_says_them() -> None:
    assert [duration_text(seconds) for seconds in (8 * 3600, 1800, 5400, 45, 0)] == [
        "8 小时",
        "30 分钟",
        "1 小时 30 分钟",
        "45 秒",
        "0 秒",
    ]
