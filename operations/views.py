"""/healthz for load balancers and monitors, and the 503 page while the database cannot be reached."""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from operations.health import health_report

logger = logging.getLogger(__name__)

# Seconds a browser or client is told to wait; a PostgreSQL restart takes a few.
RETRY_AFTER_SECONDS = 30


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when every required part works, 503 otherwise; ?require=worker makes the worker required."""
    healthy, checks = health_report(worker_required=request.GET.get("require") == "worker")
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": {name: check.as_json() for name, check in checks.items()},
    }
    return JsonResponse(body, status=200 if healthy else 503, json_dumps_params={"ensure_ascii": False})


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a lost database connection (OperationalError/InterfaceError) is the Chinese 503
    with Retry-After; anything else, an IntegrityError or a bad query included, stays a 500.

    Django closes a connection that raised and checks a kept one before reusing it
    (CONN_HEALTH_CHECKS), so the first request after the database is back is served normally.
    """
    error = sys.exc_info()[1]
    if not isinstance(error, OperationalError | InterfaceError):
        return defaults.server_error(request)
    logger.warning("Database unavailable for %s %s: %s", request.method, request.path, error)
    # Rendered without the request: nothing on the page may touch the database.
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
