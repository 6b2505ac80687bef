"""Celery interfaces of the import pipeline: thin, idempotent, primitives in."""

from __future__ import annotations

from celery import shared_task


# Import tasks keep their state on the batch, never in a result backend: sending one must not
# need anything from Redis but the broker (batches._send falls back to the sweeper without it).
@shared_task(acks_late=True, ignore_result=True)
def import_batch_check_task(batch_id: int) -> str:
    """Parse and validate an uploaded workbook; the batch page shows the preview."""
    from workbooks.batches import import_batch_check

    return import_batch_check(batch_id=batch_id).status


@shared_task(acks_late=True, ignore_result=True)
def import_batch_confirm_task(batch_id: int, by_id: int) -> str:
    """Write a claimed batch, all or nothing; a repeated delivery finds it done and does nothing."""
    from workbooks.batches import import_batch_confirm

    return import_batch_confirm(batch_id=batch_id, by_id=by_id).status


@shared_task(ignore_result=True)
def import_batches_sweep_task() -> dict[str, int]:
    """Re-send lost import work and end dead work (beat, every minute)."""
    from workbooks.batches import import_batches_sweep

    return import_batches_sweep()


@shared_task(acks_late=True)
def import_files_purge_task() -> int:
    """Delete uploads past the retention period (beat runs it daily); returns the batches purged."""
    from workbooks.retention import import_files_purge

    return import_files_purge().batches
