"""Celery interfaces for household work: thin, idempotent, primitives in."""

from __future__ import annotations

from celery import shared_task

from households.services import income_facts_refresh


@shared_task(acks_late=True)
def income_facts_refresh_task(household_ids: list[int] | None = None) -> int:
    """Recompute latest-quarter and trailing per-capita facts; safe to run twice."""
    return income_facts_refresh(household_ids=household_ids)


@shared_task(acks_late=True)
def import_batch_check_task(batch_id: int) -> str:
    """Parse and validate an uploaded workbook; the batch page shows the preview."""
    from households.excel.batches import import_batch_check

    return import_batch_check(batch_id=batch_id).status


@shared_task(acks_late=True)
def import_batch_confirm_task(batch_id: int, by_id: int) -> str:
    """Write a checked workbook, all or nothing."""
    from households.excel.batches import import_batch_confirm

    return import_batch_confirm(batch_id=batch_id, by_id=by_id).status


@shared_task(acks_late=True)
def import_files_purge_task() -> int:
    """Delete uploads past the retention period (beat runs it daily); returns the batches purged."""
    from households.excel.retention import import_files_purge

    return import_files_purge().batches
