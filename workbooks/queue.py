"""Handing pipeline work to Celery without ever letting a down broker take a page down with it."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)


def send_task(task: Any, *args: Any) -> bool:
    """Send a task once, without kombu's retries; False when the broker cannot be reached.

    The work's own record stays queued, and a sweeper (beat) sends it again later. In the
    embedded default (tasks run in process) errors are the task's own and propagate.
    """
    try:
        task.apply_async(args=list(args), retry=False)
    except Exception as error:  # kombu raises its own OperationalError, and socket errors
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        logger.warning("Task %s%r not sent: %s", getattr(task, "name", task), args, error)
        return False
    return True
