"""Authentication backends: django-axes' login throttling in front of the model backend."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
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
