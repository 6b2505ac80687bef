"""Per-client throttling at the rate the client's row sets."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from api.authentication import client_of


class ClientRateThrottle(SimpleRateThrottle):
    """DRF's fixed-window counter in the cache, keyed by client id, at `ApiClient.throttle_rate`."""

    scope = "api_client"

    def __init__(self) -> None:
        # The rate is known only once the request's client is: see allow_request.
        self.rate: str | None = None
        self.num_requests: int | None = None
        self.duration: int | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        client = client_of(request.user)
        if client is None:
            return True
        self.rate = client.throttle_rate
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        client = client_of(request.user)
        return None if client is None else self.cache_format % {"scope": self.scope, "ident": client.pk}
