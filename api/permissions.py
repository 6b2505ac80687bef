"""Which resources a client may read and write, as its row says."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from api.authentication import client_of


class ClientResourcePermission(BasePermission):
    """Reads need the view's resource among the client's readable ones, writes among its writable ones."""

    message = "该接口客户端无权访问此资源"

    def has_permission(self, request: Request, view: Any) -> bool:
        client = client_of(request.user)
        if client is None:
            return False
        resource = getattr(view, "resource_name", None)
        if resource is None:
            return False
        if request.method in SAFE_METHODS:
            return bool(client.may_read(resource))
        self.message = "该接口客户端无权修改此资源"
        return bool(client.may_write(resource))
