"""Handing pipeline work to Celery without ever letting a down broker take a page down with it."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)


def send_task(task: Any, *args: Any, countdown: float | None = None) -> bool:
    """Send a task once, without kombu's retries; False when the broker cannot be reached.

    The work's own record stays queued, and a sweeper (beat) sends it again later. In the
    embedded default (tasks run in process) errors are the task's own and propagate.
    """
    try:
        # A connection of its own that gives up at the first refusal: through the shared pool kombu
        # keeps reconnecting for broker_connection_timeout in 2 s steps, 6 s per send (and per
        # batch the sweeper re-sends) while the broker is down.
        with task.app.connection_for_write(transport_options={"max_retries": 0}) as connection:
            task.apply_async(args=list(args), retry=False, connection=connection, countdown=countdown)
    except Exception as error:  # kombu raises its own OperationalError, and socket errors
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        logger.warning("Task %s%r not sent: %s", getattr(task, "name", task), args, error)
        return False
    return True
