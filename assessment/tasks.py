"""Celery interfaces of the assessment: thin, idempotent, primitives in."""

from __future__ import annotations

from celery import shared_task

from assessment import services
from figures.periods import Quarter


@shared_task(acks_late=True)
def compute_run_task(run_id: int) -> str:
    """Compute one requested run (a redelivery of a finished run does nothing)."""
    return services.compute_run_execute(run_id=run_id).status


@shared_task(acks_late=True)
def recompute_due_task() -> int:
    """Recompute the counties whose data changed and whose debounce delay has passed; re-queue
    runs whose worker died."""
    services.compute_runs_sweep()
    return services.recompute_due()


@shared_task(acks_late=True)
def compute_all_task(period: str | None = None) -> int:
    """Compute every county for a quarter ("2026Q3"; the current quarter when empty): the beat's job."""
    quarter = Quarter.parse(period) if period else services.current_quarter()
    return services.compute_run_request(scope=None, period=quarter, reason="schedule").pk


@shared_task(acks_late=True)
def compute_quarter_just_ended_task() -> int:
    """At a quarter's start, compute the quarter that has just ended."""
    return services.compute_run_request(scope=None, period=services.current_quarter().previous(), reason="schedule").pk
