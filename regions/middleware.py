"""What every request of a signed-in user passes through: a forced password change, and no caching of what
the response shows."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control


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
