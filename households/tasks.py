"""Celery interfaces for household work: thin, idempotent, primitives in."""

from __future__ import annotations

from celery import shared_task

from households.services import income_facts_refresh
from workbooks.queue import send_task


@shared_task(acks_late=True)
def income_facts_refresh_task(household_ids: list[int] | None = None) -> int:
    """Recompute latest-quarter and trailing per-capita facts; safe to run twice."""
    return income_facts_refresh(household_ids=household_ids)


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
