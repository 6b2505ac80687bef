"""`Idempotency-Key` on POST: the same key with the same body gets the stored answer (status included);
the same key with another body is refused (422). Keys belong to one client and are kept
API_IDEMPOTENCY_KEY_HOURS (24) after their first use.

The key row is inserted in the write's own transaction, before the write: a second request with the
same key waits on the unique index until the first commits (PostgreSQL), then reads its answer — so
two concurrent requests apply the write once. An error answer is stored too (the write rolls back to
its savepoint, the key row stays with the answer).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from api.errors import error_body
from api.models import ApiClient, IdempotencyKey

HEADER = "Idempotency-Key"
MAX_LENGTH = 255
REPLAYED = "Idempotent-Replayed"
KEPT_HEADERS = ("ETag", "Location")


def request_digest(*, method: str, path: str, data: Any) -> str:
    body = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


def _hours() -> timedelta:
    return timedelta(hours=settings.API_IDEMPOTENCY_KEY_HOURS)


def key_error(key: str) -> Response | None:
    if not key.strip() or len(key) > MAX_LENGTH or not key.isprintable() or not key.isascii():
        return Response(
            error_body("invalid_idempotency_key", f"幂等键（{HEADER}）应为 1～{MAX_LENGTH} 个可见 ASCII 字符"),
            status=400,
        )
    return None


def replay(record: IdempotencyKey) -> Response:
    response = Response(record.body, status=record.status or 200, headers=dict(record.headers or {}))
    response[REPLAYED] = "true"
    return response


def idempotent(*, client: ApiClient, key: str, digest: str, work: Callable[[], Response]) -> Response:
    """Answer with `work()` once per (client, key); later the stored answer, or 422 for another body."""
    refused = key_error(key)
    if refused is not None:
        return refused
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                IdempotencyKey.objects.filter(client=client, key=key, expires_at__lte=now).delete()
                record = IdempotencyKey.objects.create(
                    client=client, key=key, request_digest=digest, created_at=now, expires_at=now + _hours()
                )
        except IntegrityError:
            record = IdempotencyKey.objects.get(client=client, key=key)
            if record.request_digest != digest:
                return Response(
                    error_body(
                        "idempotency_key_reused",
                        f"幂等键“{key[:40]}”已用于另一个不同内容的请求；同一幂等键只能重发完全相同的请求",
                    ),
                    status=422,
                )
            return replay(record)
        response = work()
        record.status = response.status_code
        record.body = response.data
        record.headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
        record.save(update_fields=["status", "body", "headers"])
        return response


def idempotency_keys_prune() -> int:
    """Forget keys past their time; how many were deleted."""
    return IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()[0]
