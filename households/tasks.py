"""Celery interfaces for household work: thin, idempotent, primitives in."""

from __future__ import annotations

from celery import shared_task

from households.services import income_facts_refresh


@shared_task(acks_late=True)
def income_facts_refresh_task(household_ids: list[int] | None = None) -> int:
    """Recompute latest-quarter and trailing per-capita facts; safe to run twice."""
    return income_facts_refresh(household_ids=household_ids)
