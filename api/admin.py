"""Admin: clients, tokens and calls, read-only and scoped; clients are managed on the /api-clients/ pages."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from api.models import ApiCall, ApiClient, ApiToken
from regions.admin import RegionScopedAdmin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Readable here, written only through the pages' services (a token is never entered by hand)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiClient)
class ApiClientAdmin(ReadOnlyAdmin, RegionScopedAdmin):
    list_display = ["name", "region", "may_view_personal_data", "throttle_rate", "is_active", "created_at"]
    list_filter = ["is_active", "may_view_personal_data"]
    search_fields = ["name"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["hint", "client", "created_at", "expires_at", "revoked_at"]
    exclude = ["token_hash"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        return ApiToken.objects.filter(client__in=ApiClient.objects.visible_to(request.user)).select_related("client")


@admin.register(ApiCall)
class ApiCallAdmin(ReadOnlyAdmin):
    list_display = ["at", "client", "method", "path", "status", "records", "duration_ms"]
    list_filter = ["status", "method"]
    date_hierarchy = "at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiCall]:
        calls = ApiCall.objects.select_related("client")
        if request.user.scope_prefix() == "":  # type: ignore[union-attr]
            return calls
        return calls.filter(client__in=ApiClient.objects.visible_to(request.user))
