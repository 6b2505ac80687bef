"""PostgreSQL going away while pages are served: a Chinese 503 that says to retry, then recovery with no restart."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

import pytest
from django.db import IntegrityError, OperationalError
from django.test import Client
from django.urls import reverse

from tests.conftest import Staff
from tests.factories import PASSWORD
from tests.operations.processes import cluster, current_database_url, gunicorn, with_postgresql

MESSAGE = "数据库暂时无法连接，请稍后重试"


def fetch(url: str, session: str | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={session}"} if session else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def signed_in(staff: Staff) -> Client:
    client = Client()
    assert client.login(username=staff.village_clerk.username, password=PASSWORD)
    return client


# Where the lost connection surfaces: reading the session (a middleware asks who the user is) or in the view.
WHERE_IT_FAILS = {
    "session": "django.contrib.sessions.backends.db.SessionStore.load",
    "view": "households.selectors.household_list",
}


@pytest.mark.parametrize("where", WHERE_IT_FAILS)
@pytest.mark.django_db
def test_a_lost_database_connection_gives_a_chinese_503_with_retry_after(staff: Staff, where: str) -> None:
    client = signed_in(staff)
    client.raise_request_exception = False
    lost = OperationalError("server closed the connection unexpectedly")

    with mock.patch(WHERE_IT_FAILS[where], side_effect=lost):
        response = client.get(reverse("household_list"))

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert MESSAGE in page
    assert "server closed" not in page


@pytest.mark.django_db
def test_a_database_error_that_is_a_bug_stays_a_server_error(staff: Staff) -> None:
    client = signed_in(staff)
    client.raise_request_exception = False

    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load", side_effect=IntegrityError("bug")):
        response = client.get(reverse("household_list"))

    assert response.status_code == 500


@with_postgresql
def test_pages_answer_503_while_postgresql_is_stopped_and_200_once_it_is_back_without_a_restart(
    transactional_db: None, staff: Staff, tmp_path: Path
) -> None:
    session = signed_in(staff).cookies["sessionid"].value
    with cluster() as database:
        database.load(current_database_url())
        with gunicorn(database_url=database.url, log=tmp_path / "gunicorn.log") as base:
            page = f"{base}{reverse('household_list')}"
            assert fetch(page, session)[0] == 200

            # Requests in a tight loop throughout, as users would send them: never a bare 500.
            statuses: list[int] = []
            done = threading.Event()

            def hammer() -> None:
                while not done.is_set():
                    statuses.append(fetch(page, session)[0])

            loop = threading.Thread(target=hammer)
            loop.start()
            try:
                database.stop()
                status, body, headers = fetch(page, session)
                assert status == 503, body[:500]
                assert MESSAGE in body
                assert headers["Retry-After"] == "30"
                health = fetch(f"{base}/healthz")  # as a balancer probes: no session
                assert health[0] == 503 and "数据库无法连接" in health[1]

                database.start()
                status, body, _ = fetch(page, session)
                assert status == 200, body[:500]
                assert staff.village_clerk.username in body or "农户台账" in body
            finally:
                done.set()
                loop.join(timeout=60)
            assert fetch(f"{base}/healthz")[0] == 200

    log = (tmp_path / "gunicorn.log").read_text(errors="replace")
    assert set(statuses) <= {200, 503}, (sorted(set(statuses)), log[-3000:])
    assert 503 in statuses and statuses[-1] == 200
