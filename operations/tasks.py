"""Celery interfaces of operations."""

from __future__ import annotations

from celery import shared_task

from operations.health import worker_heartbeat_record


@shared_task(ignore_result=True)
def worker_heartbeat_task() -> None:
    """Write the time a worker ran this (beat, every minute); /healthz reports its age."""
    worker_heartbeat_record()
