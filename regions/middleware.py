"""An account given a one-time password reaches no page but the change-password page until it has chosen its own."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse


class PasswordChangeRequiredMiddleware:
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
