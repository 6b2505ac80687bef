"""Celery interfaces for household work: thin, idempotent, primitives in."""

from __future__ import annotations

from celery import shared_task

from households.excel.queue import send_task
from households.services import income_facts_refresh


@shared_task(acks_late=True)
def income_facts_refresh_task(household_ids: list[int] | None = None) -> int:
    """Recompute latest-quarter and trailing per-capita facts; safe to run twice."""
    return income_facts_refresh(household_ids=household_ids)


# Import tasks keep their state on the batch, never in a result backend: sending one must not
# need anything from Redis but the broker (batches._send falls back to the sweeper without it).
@shared_task(acks_late=True, ignore_result=True)
def import_batch_check_task(batch_id: int) -> str:
    """Parse and validate an uploaded workbook; the batch page shows the preview."""
    from households.excel.batches import import_batch_check

    return import_batch_check(batch_id=batch_id).status


@shared_task(acks_late=True, ignore_result=True)
def import_batch_confirm_task(batch_id: int, by_id: int) -> str:
    """Write a claimed batch, all or nothing; a repeated delivery finds it done and does nothing."""
    from households.excel.batches import import_batch_confirm

    return import_batch_confirm(batch_id=batch_id, by_id=by_id).status


@shared_task(ignore_result=True)
def import_batches_sweep_task() -> dict[str, int]:
    """Re-send lost import work and end dead work (beat, every minute)."""
    from households.excel.batches import import_batches_sweep

    return import_batches_sweep()


@shared_task(acks_late=True)
def export_job_run_task(job_id: int) -> str:
    """Write a queued export's workbook (once, whoever else delivers it), then start the next waiting ones."""
    from households.excel.export_jobs import export_job_run, export_jobs_waiting

    status = export_job_run(job_id=job_id).status
    for waiting_id in export_jobs_waiting():
        send_task(export_job_run_task, waiting_id)
    return status


@shared_task(acks_late=True)
def export_jobs_sweep_task() -> int:
    """Fail exports whose worker died and start queued ones a slot is free for (beat, every minute)."""
    from households.excel.export_jobs import export_jobs_sweep

    waiting = export_jobs_sweep()
    for job_id in waiting:
        send_task(export_job_run_task, job_id)
    return len(waiting)


@shared_task(acks_late=True)
def export_jobs_purge_expired_task() -> int:
    """Delete export files past the retention period (beat, hourly)."""
    from households.excel.export_jobs import export_jobs_purge_expired

    return export_jobs_purge_expired()


@shared_task(acks_late=True)
def import_files_purge_task() -> int:
    """Delete uploads past the retention period (beat runs it daily); returns the batches purged."""
    from households.excel.retention import import_files_purge

    return import_files_purge().batches
