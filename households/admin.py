"""Admin: Chinese labels, scoped to the user's subtree; staff edit data through the pages.

Non-superusers get read-only views here, so every staff write goes through the services
(optimistic locking, the one-head rule, entry warnings). Superusers may correct records.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, cast

from csp.decorators import csp_update
from django.contrib import admin
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.utils.safestring import SafeData, mark_safe
from import_export.admin import ExportMixin
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from households.excel.models import ExportRecord
from households.models import (
    AssistanceMeasure,
    Household,
    IncomeCheckBound,
    IncomeRecord,
    Member,
    MonitoringCase,
    MonitoringThreshold,
    RiskType,
    VersionedModel,
)
from households.personal_data import PERSONAL_FIELDS, masked_text, may_view_personal_data, shown
from households.resources import HouseholdResource, IncomeRecordResource, MemberResource, SafeXLSX
from households.services import claim_next_version
from regions.admin import RegionScopedAdmin, SuperuserWritesAdmin
from regions.models import User
from workbooks.models import ImportBatch


class PersonalDataAdminMixin:
    """For roles without `households.view_personal_data`: personal fields read-only and masked.

    Each name in `personal_fields` is left out of the form and shown through its `masked_<name>`
    display instead, in the list columns, on the change page, the inline and simple-history's
    version page alike; the history list masks the same fields in its old → new column, and
    search never matches a 身份证号, phone or birth date.
    """

    personal_fields: tuple[str, ...] = ()

    def _masks(self, request: HttpRequest) -> bool:
        return not may_view_personal_data(request.user)

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        exclude = list(super().get_exclude(request, obj) or [])  # type: ignore[misc]
        return [*exclude, *self.personal_fields] if self._masks(request) else exclude or None

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        if self._masks(request):
            readonly = [name for name in readonly if name not in self.personal_fields]
            readonly += [f"masked_{name}" for name in self.personal_fields]
        return readonly

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))  # type: ignore[misc]
        if not self._masks(request):
            return fields
        fields = list(dict.fromkeys(f"masked_{name}" if name in self.personal_fields else name for name in fields))
        if getattr(self, "fields", None):
            return fields
        # Undeclared fields come in model order with the read-only ones last; put each masked one back in its place.
        order = {model_field.name: index for index, model_field in enumerate(self.model._meta.get_fields())}  # type: ignore[attr-defined]
        return sorted(fields, key=lambda name: order.get(name.removeprefix("masked_"), len(order)))

    def get_list_display(self, request: HttpRequest) -> Any:
        list_display = super().get_list_display(request)  # type: ignore[misc]
        if not self._masks(request):
            return list_display
        return [f"masked_{name}" if name in self.personal_fields else name for name in list_display]

    def get_search_fields(self, request: HttpRequest) -> Any:
        search_fields = super().get_search_fields(request)  # type: ignore[misc]
        if not self._masks(request):
            return search_fields
        return [name for name in search_fields if name.rsplit("__", 1)[-1] not in PERSONAL_FIELD_NAMES]

    def lookup_allowed(self, lookup: str, value: str, request: Any = None) -> bool:
        # ?id_number__startswith=5323… would answer digit by digit what the masked pages hide.
        masked = request is None or self._masks(request)
        if masked and any(part in PERSONAL_FIELD_NAMES for part in lookup.split("__")):
            return False
        return bool(super().lookup_allowed(lookup, value, request))  # type: ignore[misc]

    def get_historical_record_context_helper(self, request: HttpRequest, historical_record: Any) -> Any:
        helper = super().get_historical_record_context_helper(request, historical_record)  # type: ignore[misc]
        if self._masks(request):
            return MaskedHistoryContextHelper(helper.model, historical_record)
        return helper

    @admin.display(description="户编号", ordering="number")
    def masked_number(self, obj: Any) -> str:
        # Local 户编号 made before issue 7 were L + the 户主's 身份证号: masked like any number in text.
        return masked_text(obj.number)

    @admin.display(description="身份证号")
    def masked_id_number(self, obj: Any) -> str:
        return shown("id_number", obj.id_number, reveal=False)

    @admin.display(description="联系电话")
    def masked_phone(self, obj: Any) -> str:
        return shown("phone", obj.phone, reveal=False)

    @admin.display(description="帮扶责任人电话")
    def masked_helper_phone(self, obj: Any) -> str:
        return shown("helper_phone", obj.helper_phone, reveal=False)

    @admin.display(description="年龄", ordering="birth_date")
    def masked_birth_date(self, obj: Any) -> str:
        return shown("birth_date", obj.birth_date, reveal=False)


PERSONAL_FIELD_NAMES = set(PERSONAL_FIELDS)


class MaskedHistoryContextHelper(HistoricalRecordContextHelper):
    """simple-history's old → new column with personal values masked (an age for a birth date)."""

    def format_delta_change(self, change: Any) -> Any:
        formatted = super().format_delta_change(change)
        if change.field in PERSONAL_FIELD_NAMES:
            return dataclasses.replace(
                formatted,
                old=shown(change.field, change.old, reveal=False),
                new=shown(change.field, change.new, reveal=False),
            )
        return dataclasses.replace(formatted, old=_masked_markup(formatted.old), new=_masked_markup(formatted.new))


def _masked_markup(value: Any) -> Any:
    """Numbers masked in already-escaped markup: masking swaps digits for asterisks, so it stays safe."""
    text = masked_text(str(value))
    return mark_safe(text) if isinstance(value, SafeData) else text


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
        elif isinstance(obj, Member):
            # A member's household moves on with it: open forms and previewed imports must see the edit.
            Household.objects.filter(pk=obj.household_id).update(version=F("version") + 1)
        super().save_model(request, obj, form, change)


# django-import-export's 导出 page has one inline handler (the "select all" box) and two style attributes,
# which the Content-Security-Policy refuses: that page allows exactly these three, by their hashes.
EXPORT_PAGE_CSP = {
    "script-src-attr": ["'unsafe-hashes'", "'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='"],
    "style-src-attr": [
        "'unsafe-hashes'",
        "'sha256-mHgUAqxc8GPXM/QhzkHrHujcrQTU9fd6ZjWz+icxKcA='",
        "'sha256-+YWRMZ88jMyO7jVlBA52tZADiPobPIUA8LAWee68Fvs='",
    ],
}


class ExportingLedgerAdmin(ExportMixin, LedgerAdmin):
    """Adds the 导出 button (scoped rows, masked by role, formula-safe, recorded) and a link to 导入."""

    formats = [SafeXLSX]
    import_export_change_list_template = "admin/households/change_list_import_export.html"

    @method_decorator(csp_update(EXPORT_PAGE_CSP))
    def export_action(self, request: HttpRequest) -> HttpResponse:
        return super().export_action(request)

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


class MemberInline(PersonalDataAdminMixin, admin.TabularInline):
    model = Member
    personal_fields = ("id_number",)
    fields = ["name", "id_number", "relation", "labour", "health", "is_active"]
    extra = 0
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser


@admin.register(Household)
class HouseholdAdmin(PersonalDataAdminMixin, ExportingLedgerAdmin):
    resource_classes = [HouseholdResource]
    personal_fields = ("number", "phone", "helper_phone")
    list_display = ["number", "village", "household_type", "status", "trailing_per_capita", "updated_at"]
    list_filter = ["household_type", "status", "relocated"]
    search_fields = ["number", "members__name", "members__id_number"]
    list_select_related = ["village"]
    raw_id_fields = ["village"]
    inlines = [MemberInline]


@admin.register(Member)
class MemberAdmin(PersonalDataAdminMixin, ExportingLedgerAdmin):
    resource_classes = [MemberResource]
    personal_fields = ("id_number", "birth_date")
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


@admin.register(IncomeCheckBound)
class IncomeCheckBoundAdmin(SuperuserWritesAdmin):
    list_display = ["region", "year", "quarterly_wages", "source"]
    list_filter = ["year"]
    raw_id_fields = ["region"]


class CountyReferenceAdmin(SuperuserWritesAdmin, SimpleHistoryAdmin):
    """The province's entries are kept here by the system administrator (a county keeps its own on its page);
    each staff role reads the province's and its counties' own. An entry a case has is never deleted: 停用 it."""

    list_display = ["code", "name", "region", "is_active", "sort_order"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    raw_id_fields = ["region"]
    list_select_related = ["region"]
    # The case field that holds the entries, to tell whether one is in use.
    case_field = ""

    def get_queryset(self, request: HttpRequest) -> Any:
        return self.model.objects.visible_to(request.user).select_related("region")

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None or not super().has_delete_permission(request, obj):
            return False
        return not MonitoringCase.objects.filter(**{self.case_field: obj}).exists()


@admin.register(RiskType)
class RiskTypeAdmin(CountyReferenceAdmin):
    case_field = "risk_types"


@admin.register(AssistanceMeasure)
class AssistanceMeasureAdmin(CountyReferenceAdmin):
    case_field = "measures"


@admin.register(ImportBatch)
class ImportBatchAdmin(RegionScopedAdmin):
    list_display = ["id", "file_name", "kind", "status", "uploaded_by", "created_at", "error_count"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in ImportBatch._meta.fields]
    # What a batch stores from its file: numbers are masked for roles without the permission,
    # and the file itself is downloaded from the batch page, where only those allowed may.
    masked_batch_fields = {"changes": "masked_changes", "errors": "masked_errors", "refusal": "masked_refusal"}

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        reveal = may_view_personal_data(request.user)
        masked = set(self.masked_batch_fields.values())
        fields = [str(name) for name in super().get_fields(request, obj)]
        return [
            name if reveal else self.masked_batch_fields.get(name, name)
            for name in fields
            if name not in ("file", "undo") and name not in masked
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*super().get_readonly_fields(request, obj), *self.masked_batch_fields.values()]

    @admin.display(description="变更明细")
    def masked_changes(self, obj: ImportBatch) -> str:
        return masked_text(json.dumps(obj.changes, ensure_ascii=False))

    @admin.display(description="错误")
    def masked_errors(self, obj: ImportBatch) -> str:
        return masked_text(json.dumps(obj.errors, ensure_ascii=False))

    @admin.display(description="拒绝原因")
    def masked_refusal(self, obj: ImportBatch) -> str:
        return masked_text(obj.refusal)

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
