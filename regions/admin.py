"""Admin for regions and staff accounts, plus the scoping mixin every data admin uses."""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.decorators import method_decorator

from regions.models import Region, User, regions_visible_to

# django-simple-history's history page has one style attribute (style="border-top: 0"), which the
# Content-Security-Policy refuses: that page allows exactly this one, by its hash, and nothing else.
HISTORY_PAGE_CSP = {"style-src-attr": ["'unsafe-hashes'", "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='"]}


class RegionScopedAdmin(admin.ModelAdmin):
    """Non-superusers see only rows in their subtree, and may pick only regions in it.

    The model's default manager must offer `visible_to(user)` (regions.models.ScopedQuerySet).
    """

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.model._default_manager.visible_to(request.user)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is Region and not request.user.is_superuser:
            kwargs["queryset"] = regions_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _require_visible(self, request: HttpRequest, object_id: str) -> None:
        if not self.get_queryset(request).filter(pk=object_id).exists():
            raise Http404

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        # Django's own answer for an unseen id is a redirect with a message naming the id; say 404.
        self._require_visible(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    @method_decorator(csp_update(HISTORY_PAGE_CSP))
    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        self._require_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        self._require_visible(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)  # type: ignore[misc]


class SuperuserWritesAdmin(admin.ModelAdmin):
    """Readable by every staff role that may view the model; written only by superusers."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser


@admin.register(Region)
class RegionAdmin(SuperuserWritesAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Region]:
        return regions_visible_to(request.user).select_related("parent")


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "role", "region", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("所属区划与角色", {"fields": ("region", "role", "phone")}),
    )
    add_fieldsets = (
        *(UserAdmin.add_fieldsets or ()),
        ("所属区划与角色", {"fields": ("first_name", "region", "role")}),
    )
    raw_id_fields = ["region"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        users = super().get_queryset(request).select_related("region")
        if request.user.is_superuser:
            return users
        return users.filter(region__in=regions_visible_to(request.user))


def _usernames_visible_to(user: Any) -> Any:
    return User.objects.filter(region__in=regions_visible_to(user)).values("username")


class ScopedByUsernameAdmin(admin.ModelAdmin):
    """Login records of the accounts in the user's subtree; all of them (and unknown names) for the top."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        records = super().get_queryset(request)
        if request.user.scope_prefix() == "":  # type: ignore[union-attr]
            return records
        return records.filter(username__in=_usernames_visible_to(request.user))


admin.site.unregister(AccessAttempt)
admin.site.unregister(AccessLog)
admin.site.unregister(AccessFailureLog)


@admin.register(AccessAttempt)
class LoginLockoutAdmin(ScopedByUsernameAdmin, AccessAttemptAdmin):
    """Failed logins per (username, address); deleting a row (解锁) lifts the lockout, logged as a deletion."""

    actions = ["unlock"]

    @admin.action(description="解锁所选账号（清除失败记录）", permissions=["delete"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        self.log_deletions(request, queryset)
        count, _ = queryset.delete()
        self.message_user(request, f"已解锁 {count} 条登录锁定记录")


@admin.register(AccessLog)
class LoginLogAdmin(ScopedByUsernameAdmin, AccessLogAdmin):
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AccessFailureLog)
class LoginFailureLogAdmin(ScopedByUsernameAdmin, AccessFailureLogAdmin):
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
