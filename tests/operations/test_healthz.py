"""/healthz: what a load balancer and a monitor read, on both legs."""

from __future__ import annotations

import importlib
import json
import os
import time
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from operations.health import HEARTBEAT_KEY, worker_heartbeat_record
from operations.tasks import worker_heartbeat_task
from tests.workbooks.test_failures import free_port, wait_until

WITH_REDIS = bool(os.environ.get("REDIS_URL"))


def probe(client: Client, query: str = "") -> tuple[int, dict[str, Any]]:
    response = client.get(f"/healthz{query}")
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    return response.status_code, json.loads(response.content)


@pytest.mark.django_db
def test_healthz_answers_200_without_login_when_everything_works(client: Client) -> None:
    if WITH_REDIS:
        worker_heartbeat_record()

    status, body = probe(client)

    assert status == 200
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True, "required": True, "message": "正常"}
    if WITH_REDIS:
        assert body["checks"]["redis"] == {"ok": True, "required": True, "message": "正常"}
        assert body["checks"]["worker"]["ok"] is True and body["checks"]["worker"]["age_seconds"] <= 5
    else:
        assert body["checks"]["redis"] == {"ok": True, "required": False, "message": "未配置（任务在 Web 进程内执行）"}
        assert body["checks"]["worker"] == {"ok": True, "required": False, "message": "不适用（未配置后台任务进程）"}


@pytest.mark.django_db
def test_healthz_answers_503_in_chinese_when_the_database_fails(client: Client) -> None:
    with mock.patch("operations.health.connection.cursor", side_effect=OperationalError("connection refused")):
        status, body = probe(client)

    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": False, "required": True, "message": "数据库无法连接"}
    assert "connection refused" not in json.dumps(body)


@pytest.mark.django_db
def test_healthz_names_no_user_and_needs_no_query_beyond_select_1(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(1):
        status, body = probe(client)
    assert status == 200
    assert set(body) == {"status", "checks"}
    assert set(body["checks"]) == {"database", "redis", "worker"}


def test_the_beat_schedules_the_heartbeat_every_minute(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["worker-heartbeat"]
    assert entry["task"] == "operations.tasks.worker_heartbeat_task"
    assert entry["schedule"] == 60.0


@pytest.mark.skipif(not WITH_REDIS, reason="Redis leg: the embedded default has no Redis to lose")
@pytest.mark.django_db
def test_healthz_answers_503_when_redis_does_not_answer(client: Client, settings: Any) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"

    started = time.monotonic()
    status, body = probe(client)

    assert time.monotonic() - started < 3
    assert status == 503
    assert body["checks"]["redis"] == {"ok": False, "required": True, "message": "Redis 无法连接"}
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.skipif(not WITH_REDIS, reason="Redis leg: only a real worker writes heartbeats")
def test_healthz_reports_the_heartbeat_a_real_worker_writes(client: Client, celery_worker: None) -> None:
    cache.delete(HEARTBEAT_KEY)
    status, body = probe(client, "?require=worker")
    assert status == 503
    assert body["checks"]["worker"] == {"ok": False, "required": True, "message": "尚未收到后台任务心跳"}
    # Without ?require=worker a dead worker does not take the node out of the balancer.
    assert probe(client)[0] == 200

    worker_heartbeat_task.delay()

    wait_until("the worker's heartbeat", lambda: probe(client, "?require=worker")[0] == 200, seconds=30)
    assert probe(client, "?require=worker")[1]["checks"]["worker"]["age_seconds"] <= 30


@pytest.mark.skipif(not WITH_REDIS, reason="Redis leg: heartbeats exist only with workers")
@pytest.mark.django_db
def test_healthz_names_how_long_the_heartbeat_has_been_silent(client: Client, settings: Any) -> None:
    worker_heartbeat_record(now=time.time() - settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS - 60)

    status, body = probe(client, "?require=worker")

    assert status == 503
    worker = body["checks"]["worker"]
    assert worker["ok"] is False and worker["age_seconds"] >= settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS + 60
    assert worker["message"].startswith("后台任务心跳已中断")


@pytest.mark.django_db
def test_the_balancer_probes_over_plain_http_while_every_page_redirects_to_https(
    client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    production = importlib.import_module("config.settings.prod")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = production.SECURE_REDIRECT_EXEMPT

    assert client.get("/healthz").status_code == 200
    page = client.get(reverse("login"))
    assert page.status_code == 301 and page["Location"].startswith("https://")
