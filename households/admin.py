"""Admin: Chinese labels, scoped to the user's subtree; staff edit data through the pages.

Non-superusers get read-only views here, so every staff write goes through the services
(optimistic locking, the one-head rule, entry warnings). Superusers may correct records.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.http import HttpRequest
from import_export.admin import ExportMixin
from simple_history.admin import SimpleHistoryAdmin

from households.excel.models import ExportRecord, ImportBatch
from households.models import (
    AssistanceMeasure,
    Household,
    IncomeRecord,
    Member,
    MonitoringCase,
    MonitoringThreshold,
    RiskType,
    VersionedModel,
)
from households.resources import HouseholdResource, IncomeRecordResource, MemberResource, SafeXLSX
from households.services import claim_next_version
from regions.admin import RegionScopedAdmin, SuperuserWritesAdmin
from regions.models import User


class LedgerAdmin(RegionScopedAdmin, SimpleHistoryAdmin):
    """Scoped, history-aware; read-only for staff, who write through the pages and services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change and isinstance(obj, VersionedModel):
            claim_next_version(obj)
        super().save_model(request, obj, form, change)


class ExportingLedgerAdmin(ExportMixin, LedgerAdmin):
    """Adds the 导出 button (scoped rows, masked by role, formula-safe, recorded) and a link to 导入."""

    formats = [SafeXLSX]
    import_export_change_list_template = "admin/households/change_list_import_export.html"

    def get_export_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_export_resource_kwargs(request, **kwargs), "user": request.user}

    def get_export_data(self, file_format: Any, request: HttpRequest, queryset: Any, **kwargs: Any) -> Any:
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        user = cast(User, request.user)
        ExportRecord.objects.create(
            kind="income" if self.model is IncomeRecord else "roster",
            exported_by=user,
            region=getattr(user, "region", None),
            description=f"管理后台导出 {self.model._meta.verbose_name}",
            row_count=queryset.count(),
            masked=not user.has_perm("households.view_personal_data"),
        )
        return data


class MemberInline(admin.TabularInline):
    model = Member
    fields = ["name", "id_number", "relation", "labour", "health", "is_active"]
    extra = 0
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser


@admin.register(Household)
class HouseholdAdmin(ExportingLedgerAdmin):
    resource_classes = [HouseholdResource]
    list_display = ["number", "village", "household_type", "status", "trailing_per_capita", "updated_at"]
    list_filter = ["household_type", "status", "relocated"]
    search_fields = ["number", "members__name", "members__id_number"]
    list_select_related = ["village"]
    raw_id_fields = ["village"]
    inlines = [MemberInline]


@admin.register(Member)
class MemberAdmin(ExportingLedgerAdmin):
    resource_classes = [MemberResource]
    list_display = ["name", "relation", "household", "sex", "birth_date", "labour", "is_active"]
    list_filter = ["relation", "labour", "health", "is_active"]
    search_fields = ["name", "id_number", "household__number"]
    list_select_related = ["household"]
    raw_id_fields = ["household"]


@admin.register(MonitoringCase)
class MonitoringCaseAdmin(LedgerAdmin):
    list_display = ["household", "category", "identified_month", "eliminated_month", "elimination_method"]
    list_filter = ["category", "elimination_method"]
    search_fields = ["household__number"]
    list_select_related = ["household"]
    raw_id_fields = ["household"]
    filter_horizontal = ["risk_types", "measures"]


@admin.register(IncomeRecord)
class IncomeRecordAdmin(ExportingLedgerAdmin):
    resource_classes = [IncomeRecordResource]
    list_display = ["household", "year", "quarter", "household_size", "net_income", "per_capita_net_income"]
    list_filter = ["year", "quarter"]
    search_fields = ["household__number"]
    list_select_related = ["household"]
    raw_id_fields = ["household"]


@admin.register(MonitoringThreshold)
class MonitoringThresholdAdmin(SuperuserWritesAdmin):
    list_display = ["region", "year", "amount", "source"]
    list_filter = ["year"]
    raw_id_fields = ["region"]


@admin.register(RiskType)
class RiskTypeAdmin(SuperuserWritesAdmin):
    list_display = ["code", "name", "sort_order"]


@admin.register(AssistanceMeasure)
class AssistanceMeasureAdmin(SuperuserWritesAdmin):
    list_display = ["code", "name", "sort_order"]


@admin.register(ImportBatch)
class ImportBatchAdmin(RegionScopedAdmin):
    list_display = ["id", "file_name", "kind", "status", "uploaded_by", "created_at", "error_count"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in ImportBatch._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ExportRecord)
class ExportRecordAdmin(RegionScopedAdmin):
    list_display = ["exported_at", "exported_by", "kind", "row_count", "masked", "description"]
    list_filter = ["kind", "masked"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
