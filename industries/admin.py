"""Admin of the industries register: scoped like every ledger admin, read-only for staff (they write
through the pages and services), written by superusers with the version claimed and the change announced."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from households.admin import LedgerAdmin, PersonalDataAdminMixin
from households.personal_data import masked_text
from industries.models import (
    Designation,
    Industry,
    IndustryCategory,
    Participation,
    ScalePlan,
    ScaleReport,
    ScaleUnit,
)
from industries.selectors import industries_for_choice
from regions.admin import SuperuserWritesAdmin
from regions.services import data_changed


class IndustryLedgerAdmin(LedgerAdmin):
    """Offers only the user's catalogue, and tells the assessment engine what a superuser's edit changed."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is Industry and not request.user.is_superuser:
            kwargs["queryset"] = industries_for_choice(user=request.user, active_only=False)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        data_changed(codes=[self.region_code(obj)])

    def region_code(self, obj: Any) -> str:
        return str(obj.region.code)


@admin.register(Industry)
class IndustryAdmin(IndustryLedgerAdmin):
    list_display = ["name", "county", "category", "unit", "is_active"]
    list_filter = ["category", "unit", "is_active"]
    search_fields = ["name"]
    list_select_related = ["county", "category", "unit"]
    raw_id_fields = ["county"]

    def region_code(self, obj: Any) -> str:
        return str(obj.county.code)


@admin.register(Designation)
class DesignationAdmin(IndustryLedgerAdmin):
    list_display = ["region", "year", "industry", "is_signature"]
    list_filter = ["year", "is_signature", "region__level"]
    search_fields = ["region__name", "industry__name"]
    list_select_related = ["region", "industry"]
    raw_id_fields = ["region"]


@admin.register(ScalePlan)
class ScalePlanAdmin(IndustryLedgerAdmin):
    list_display = ["region", "year", "industry", "scale", "source_document"]
    list_filter = ["year", "region__level"]
    search_fields = ["region__name", "industry__name"]
    list_select_related = ["region", "industry"]
    raw_id_fields = ["region"]


@admin.register(ScaleReport)
class ScaleReportAdmin(IndustryLedgerAdmin):
    list_display = ["village", "year", "industry", "scale"]
    list_filter = ["year"]
    search_fields = ["village__name", "industry__name"]
    list_select_related = ["village", "industry"]
    raw_id_fields = ["village"]

    def region_code(self, obj: Any) -> str:
        return str(obj.village.code)


@admin.register(Participation)
class ParticipationAdmin(PersonalDataAdminMixin, IndustryLedgerAdmin):
    # A 户编号 made from a 身份证号 is masked for roles that may not see personal data.
    personal_fields = ("household",)
    list_display = ["household", "year", "industry", "scale"]
    list_filter = ["year"]
    search_fields = ["industry__name"]
    list_select_related = ["household", "industry"]
    raw_id_fields = ["household"]

    @admin.display(description="农户")
    def masked_household(self, obj: Participation) -> str:
        return masked_text(obj.household.number)

    def region_code(self, obj: Any) -> str:
        return str(obj.household.village.code)


@admin.register(IndustryCategory)
class IndustryCategoryAdmin(SuperuserWritesAdmin):
    list_display = ["code", "name", "sort_order"]


@admin.register(ScaleUnit)
class ScaleUnitAdmin(SuperuserWritesAdmin):
    list_display = ["code", "name", "sort_order"]
