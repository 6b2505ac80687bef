"""The checks behind /healthz: the database, Redis and the worker's heartbeat, each cheap and bounded in time."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection

HEARTBEAT_KEY = "operations:worker-heartbeat"
# Redis must answer within this long, or the node is reported unhealthy (a balancer probes every few seconds).
REDIS_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class Check:
    """One part's state: ok, whether the node's status depends on it, and a message for the operator."""

    ok: bool
    required: bool
    message: str
    age_seconds: int | None = None

    def as_json(self) -> dict[str, object]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def database_check() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return Check(ok=False, required=True, message="数据库无法连接")
    return Check(ok=True, required=True, message="正常")


def redis_check() -> Check:
    if not settings.REDIS_URL:
        # The embedded default runs tasks in process and caches in memory: nothing to reach.
        return Check(ok=True, required=False, message="未配置（任务在 Web 进程内执行）")
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError:
        return Check(ok=False, required=True, message="Redis 无法连接")
    finally:
        client.close()
    return Check(ok=True, required=True, message="正常")


def worker_heartbeat_record(*, now: float | None = None) -> None:
    """Remember when a worker last ran a task (the beat sends one every minute)."""
    cache.set(HEARTBEAT_KEY, time.time() if now is None else now, timeout=None)


def worker_check(*, required: bool) -> Check:
    """The age of the last heartbeat; a dead worker does not stop this node serving pages, so it is
    required only when the caller asks (a monitor, not the load balancer)."""
    if not settings.REDIS_URL:
        return Check(ok=True, required=False, message="不适用（未配置后台任务进程）")
    try:
        beat_at = cache.get(HEARTBEAT_KEY)
    except redis.RedisError:  # the Redis check names the cause
        return Check(ok=False, required=required, message="无法读取后台任务心跳")
    if beat_at is None:
        return Check(ok=False, required=required, message="尚未收到后台任务心跳")
    age = max(0, int(time.time() - float(beat_at)))
    if age > settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS:
        return Check(ok=False, required=required, message=f"后台任务心跳已中断 {age} 秒", age_seconds=age)
    return Check(ok=True, required=required, message="正常", age_seconds=age)


def health_report(*, worker_required: bool = False) -> tuple[bool, dict[str, Check]]:
    """Every check, and whether the node is healthy (every required check passed)."""
    checks = {
        "database": database_check(),
        "redis": redis_check(),
        "worker": worker_check(required=worker_required),
    }
    return all(check.ok for check in checks.values() if check.required), checks
