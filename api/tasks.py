"""Celery interfaces of the api app."""

from __future__ import annotations

from celery import shared_task

from api.services import api_calls_prune


@shared_task(acks_late=True)
def api_calls_prune_task() -> int:
    """Forget API calls older than the retention period (every refused call is logged too)."""
    return api_calls_prune()


@shared_task(acks_late=True)
def idempotency_keys_prune_task() -> int:
    """Forget idempotency keys older than API_IDEMPOTENCY_KEY_HOURS."""
    from api.idempotency import idempotency_keys_prune

    return idempotency_keys_prune()
