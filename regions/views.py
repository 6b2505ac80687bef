"""Pages of the regions app: the login lockout answer (login itself is Django's LoginView), the
session keep-alive, and the answer to a stale CSRF token."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from regions.session_expiry import session_left, session_renew


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


@require_http_methods(["GET", "POST"])
def session_keep_alive(request: HttpRequest) -> HttpResponse:
    """GET: what the session has left and which limit ends it (not activity: the warning asks it by itself);
    POST (the warning's 继续): restart the idle limit first. 401 once the session has ended."""
    if not request.user.is_authenticated:
        return JsonResponse({"seconds_left": 0}, status=401)
    now = time.time()
    if request.method == "POST":
        session_renew(session=request.session, now=now)
    left = session_left(session=request.session, now=now)
    if left is None:
        return JsonResponse({"seconds_left": settings.SESSION_COOKIE_AGE, "limit": "absolute"})
    return JsonResponse({"seconds_left": left.seconds, "limit": left.limit})


def _page_to_reopen(request: HttpRequest) -> str:
    """The page of this site the refused form was on (its Referer), or else the address it was posted to.

    A form posted to an action (退出, 停用, 作废…) must not lead to the action's address, which answers only POST."""
    referer = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        parts = urlsplit(referer)
        if parts.path.startswith("/"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.path if request.path.startswith("/") else "/"


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a page opened before a new login (or long ago) was submitted; say what to do."""
    return render(
        request,
        "regions/csrf_failure.html",
        {"again": _page_to_reopen(request), "signed_in": request.user.is_authenticated},
        status=403,
    )
