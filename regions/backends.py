"""Authentication backends: django-axes' login throttling in front of the model backend."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses logins of a locked-out (username, address); checks no password itself.

    Every login over HTTP (the login page, the admin) passes its request. Code that checks a
    password without one — the test client's login(), the shell — has no address to throttle
    by, and django-axes would raise; it is passed on to the model backend instead.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        super().authenticate(request, username, password, **kwargs)
        return None


def login_client_address(request: HttpRequest) -> str | None:
    """The address a login came from, as the trusted reverse proxies (LOGIN_TRUSTED_PROXIES) saw it.

    Behind a proxy REMOTE_ADDR is the proxy itself; counting failures by it would lock a user
    out from every address at once. Each trusted proxy appends one entry to X-Forwarded-For, so
    the client is the entry that many places from the right; anything further left is forgeable.
    """
    proxies = settings.LOGIN_TRUSTED_PROXIES
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
