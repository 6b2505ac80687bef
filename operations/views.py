"""/healthz: for load balancers and monitors; no login, no personal data, a handful of cheap calls."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from operations.health import health_report


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
