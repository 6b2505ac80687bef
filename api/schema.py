"""What drf-spectacular needs to know beyond the views: how the bearer tokens work."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "访问令牌（zx_ 开头），由县级或系统管理员在“接口客户端”页面签发，仅显示一次",
        }


def order_tags(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """The documentation lists the resources in the registry's order (regions, households, …), not by name."""
    from api.resources import RESOURCES

    result["tags"] = [{"name": resource.title} for resource in RESOURCES.values()]
    return result
