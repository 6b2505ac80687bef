"""Bearer tokens only: no session and no basic authentication on the API, so a cookie is never accepted."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from api.models import ApiToken
from api.principal import ApiPrincipal
from api.services import token_digest


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer zx_…`: the token's SHA-256 names one live token of one active client."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiPrincipal, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("访问令牌格式错误，应为“Authorization: Bearer <令牌>”")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed("访问令牌无效") from error
        token = (
            ApiToken.objects.select_related("client", "client__region").filter(token_hash=token_digest(secret)).first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("访问令牌无效")
        # Known from here on, so the call log names the client even when the token is refused below.
        request._request.api_client_id = token.client_id  # type: ignore[attr-defined]
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("访问令牌已吊销")
        if token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("访问令牌已过期")
        if not token.client.is_active:
            raise exceptions.AuthenticationFailed("接口客户端已停用")
        return ApiPrincipal(token.client), token

    def authenticate_header(self, request: Request) -> str:
        # Present, so DRF answers a missing or refused token with 401 rather than 403.
        return f'{self.keyword} realm="api"'


def client_of(user: Any) -> Any:
    """The ApiClient behind a request's user, or None for anything else."""
    return user.client if isinstance(user, ApiPrincipal) else None
