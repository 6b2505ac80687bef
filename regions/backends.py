"""Authentication backends: django-axes' login throttling in front of the model backend."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.http import HttpRequest

from regions.reference import reference_get


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


class StaffBackend(ModelBackend):
    """Django's model backend, with the user's region read in the user's own query and their
    permissions taken from the reference cache (regions/reference.py): every request reads both,
    the menu and the pages ask for permissions, and they change only with a role or a group."""

    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("region").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):

            def build() -> list[str]:
                return sorted(BaseBackend.get_all_permissions(self, user_obj))

            user_obj._perm_cache = set(reference_get("permissions", str(user_obj.pk), build))
        return user_obj._perm_cache
