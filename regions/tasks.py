"""Celery interfaces of the regions app."""

from __future__ import annotations

from celery import shared_task

from regions.services import data_changes_prune


@shared_task(acks_late=True)
def data_changes_prune_task() -> int:
    """Forget change records older than 30 days (facts older than what is left are rebuilt whole)."""
    return data_changes_prune()
