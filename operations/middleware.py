"""While the database cannot be reached, every page says so in Chinese with a 503 instead of a bare 500."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

# Seconds a browser or client is told to wait; a PostgreSQL restart takes a few.
RETRY_AFTER_SECONDS = 30


def database_unavailable_response() -> HttpResponse:
    """The Chinese 503 page; rendered without the request, so nothing in it touches the database."""
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turns a lost database connection in a view or its template into the 503 page.

    Django closes a connection that raised, and checks a kept one before reusing it
    (CONN_HEALTH_CHECKS), so the first request after the database is back is served normally.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Only connection-level failures: an IntegrityError or a bad query is a bug, and stays a 500.
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("Database unavailable for %s %s: %s", request.method, request.path, exception)
        return database_unavailable_response()
