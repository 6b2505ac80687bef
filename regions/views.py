"""Pages of the regions app: the login lockout answer (login itself is Django's LoginView)."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """The login form again, saying in Chinese why it refuses and for how long (HTTP 429)."""
    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else None
    context = {
        "locked_out": True,
        "lockout_minutes": minutes,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "next": request.POST.get("next", "") or request.GET.get("next", ""),
    }
    return render(request, "regions/login.html", context, status=429)
