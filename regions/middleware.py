"""What every request of a signed-in user passes through: the session's limits, a forced password change,
and no caching of what the response shows."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme

from regions.session_expiry import ended_message, is_activity, session_adopt, session_left, session_touch


class SessionTimeoutMiddleware:
    """A session past its idle or absolute limit (regions/session_expiry.py) is logged out on its next request,
    which goes to the login page with a message that says why (and comes back to the page after the login);
    otherwise a request the user made, not one a page made by itself, counts as activity."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            session_adopt(session=request.session, now=now)
            left = session_left(session=request.session, now=now)
            if left is not None and left.seconds == 0:
                # regions.signals.record_logout writes the reason into the audit.
                request.session_ended_by = left.limit  # type: ignore[attr-defined]
                logout(request)
                messages.warning(request, ended_message(left.limit))
                return self._to_login(request)
            if is_activity(request):
                session_touch(session=request.session, now=now)
        return self.get_response(request)

    def _to_login(self, request: HttpRequest) -> HttpResponse:
        if request.path == reverse("session_keep_alive"):
            # The warning asked for the time left: it answers 401 and shows 登录已过期 itself.
            return self.get_response(request)
        if request.headers.get("HX-Request"):
            # A fragment's request: the whole page goes to the login, and comes back to itself after it.
            back = _same_site_path(request, request.headers.get("HX-Current-URL", "")) or "/"
            response = HttpResponse(status=204)
            response["HX-Redirect"] = f"{reverse('login')}?{urlencode({'next': back})}"
            return response
        if request.method == "GET":
            back = request.get_full_path()
        else:
            # A form's POST is not repeated after the login: the page the form was on opens again, and
            # session.js restores what was typed from the draft.
            back = _same_site_path(request, request.headers.get("Referer", "")) or "/"
        if request.path == reverse("logout"):
            back = "/"
        return redirect(f"{reverse('login')}?{urlencode({'next': back})}")


def _same_site_path(request: HttpRequest, url: str) -> str:
    """The path and query of a URL of this site; empty for anything else."""
    if not url or not url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return ""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class SignedInNoStoreMiddleware:
    """`Cache-Control: no-store, private` on every response to a signed-in user (a session or an API token):
    personal data stays out of shared caches and out of a shared computer's back button and disk cache.
    Static files never reach it (WhiteNoise answers them first); a response that already says no-store
    (/healthz, the 503 page, a one-time password) keeps its own header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "no-store" in response.get("Cache-Control", "") or request.path.startswith(settings.STATIC_URL):
            return response
        user = getattr(request, "user", None)
        if "HTTP_AUTHORIZATION" in request.META or (user is not None and user.is_authenticated):
            patch_cache_control(response, no_store=True, private=True)
        return response


class PasswordChangeRequiredMiddleware:
    """An account given a one-time password reaches no page but the change-password page until it has chosen its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.must_change_password:
            allowed = (reverse("password_change"), reverse("logout"), settings.STATIC_URL)
            if not request.path.startswith(tuple(f"/{path.lstrip('/')}" for path in allowed)):
                response = redirect("password_change")
                if request.headers.get("HX-Request"):
                    # htmx would swap the change-password page into a fragment; send the whole page there.
                    response["HX-Redirect"] = response["Location"]
                return response
        return self.get_response(request)
