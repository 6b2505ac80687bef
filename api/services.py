"""Writes for API clients and tokens: create, issue, rotate, revoke, deactivate, and the call log."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api.models import ApiCall, ApiClient, ApiToken
from regions.models import Region

TOKEN_PREFIX = "zx_"


def token_digest(token: str) -> str:
    """The SHA-256 (hex) stored for a token; a token has 256 random bits, so no salt or slow hash is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: `secret` exists only in this object and on the page that shows it once."""

    token: ApiToken
    secret: str


def _grace() -> timedelta:
    return timedelta(hours=settings.API_TOKEN_ROTATION_GRACE_HOURS)


def api_token_issue(*, client: ApiClient, by: Any, now: datetime | None = None) -> IssuedToken:
    """A new token for the client, valid for API_TOKEN_LIFETIME_DAYS."""
    now = now or timezone.now()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        client=client,
        token_hash=token_digest(secret),
        hint=secret[:8],
        created_at=now,
        created_by=by if getattr(by, "pk", None) else None,
        expires_at=now + timedelta(days=settings.API_TOKEN_LIFETIME_DAYS),
    )
    token.full_clean()
    token.save()
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def api_client_create(
    *,
    name: str,
    region: Region,
    readable: list[str],
    writable: list[str],
    may_view_personal_data: bool,
    throttle_rate: str,
    by: Any,
) -> IssuedToken:
    """A new active client with its first token."""
    client = ApiClient(
        name=name,
        region=region,
        readable=sorted(set(readable)),
        writable=sorted(set(writable)),
        may_view_personal_data=may_view_personal_data,
        throttle_rate=throttle_rate,
        created_by=by,
    )
    client.full_clean()
    client.save()
    return api_token_issue(client=client, by=by)


@transaction.atomic
def api_token_rotate(*, client: ApiClient, by: Any, now: datetime | None = None) -> IssuedToken:
    """A new token; every other live token of the client keeps working until the grace period ends."""
    now = now or timezone.now()
    # Locks the client row: two rotations at once each shorten the other's old tokens, never extend them.
    ApiClient.objects.select_for_update().filter(pk=client.pk).first()
    grace_end = now + _grace()
    ApiToken.objects.filter(client=client, revoked_at__isnull=True, expires_at__gt=grace_end).update(
        expires_at=grace_end
    )
    return api_token_issue(client=client, by=by, now=now)


def api_token_revoke(*, token: ApiToken, now: datetime | None = None) -> bool:
    """Refuse the token from now on; False when it was already revoked (a second click changes nothing)."""
    return bool(ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now or timezone.now()))


def api_client_deactivate(*, client: ApiClient, now: datetime | None = None) -> bool:
    """Refuse every token of the client from now on; False when it was already inactive."""
    return bool(
        ApiClient.objects.filter(pk=client.pk, is_active=True).update(
            is_active=False, deactivated_at=now or timezone.now()
        )
    )


def api_call_record(
    *, client_id: int | None, method: str, path: str, status: int, records: int, duration_ms: int
) -> ApiCall:
    return ApiCall.objects.create(
        client_id=client_id,
        method=method[:10],
        path=path[:500],
        status=status,
        records=records,
        duration_ms=duration_ms,
    )


def api_calls_prune(*, older_than_days: int | None = None) -> int:
    """Forget calls older than API_CALL_RETENTION_DAYS; how many were deleted."""
    days = settings.API_CALL_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    return ApiCall.objects.filter(at__lt=cutoff).delete()[0]
