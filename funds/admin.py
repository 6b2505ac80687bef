"""Admin of the funds registers: scoped like every ledger admin and read-only for staff, who write
through the pages and services. Allocations, projects, funding lines and payments are read-only for
superusers too: their rules (remainders, the library gate, locks) live in the services. Assets,
village profiles and collective income may be corrected by a superuser, with the version claimed and
the change announced. A 户编号 made of a 身份证号 is masked for roles that may not see it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from funds.models import (
    Allocation,
    Asset,
    Beneficiary,
    CollectiveIncome,
    Funding,
    Payment,
    Project,
    ProjectStep,
    ProjectType,
    VillageProfile,
)
from households.admin import LedgerAdmin, PersonalDataAdminMixin
from households.models import Household
from households.personal_data import masked_text
from regions.admin import RegionScopedAdmin, SuperuserWritesAdmin
from regions.services import data_changed


class FundsLedgerAdmin(LedgerAdmin):
    """Tells the assessment engine which part of the county a superuser's edit changed."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        data_changed(codes=[self.region_code(obj)])

    def region_code(self, obj: Any) -> str:
        return str(obj.region.code)


class MoneyLedgerAdmin(FundsLedgerAdmin):
    """Read-only for everyone: a change here would skip the services' money rules and locks."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Allocation)
class AllocationAdmin(MoneyLedgerAdmin):
    list_display = ["document_number", "region", "year", "level", "amount", "issued_on", "parent"]
    list_filter = ["year", "level"]
    search_fields = ["document_number", "region__name"]
    list_select_related = ["region", "parent"]
    raw_id_fields = ["region", "parent"]


class BeneficiaryInline(admin.TabularInline):
    model = Beneficiary
    fields = ["masked_household"]
    readonly_fields = ["masked_household"]
    extra = 0
    can_delete = False

    @admin.display(description="农户")
    def masked_household(self, obj: Beneficiary) -> str:
        return masked_text(obj.household.number)

    def get_queryset(self, request: HttpRequest) -> Any:
        # Only households the user may see; a project may also link households of other areas.
        visible = Household.objects.visible_to(request.user).values("pk")
        return super().get_queryset(request).filter(household__in=visible).select_related("household")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ProjectStepInline(admin.TabularInline):
    model = ProjectStep
    fields = ["on", "from_status", "to_status", "by", "reason"]
    readonly_fields = ["on", "from_status", "to_status", "by", "reason"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Project)
class ProjectAdmin(MoneyLedgerAdmin):
    list_display = ["code", "name", "year", "region", "project_type", "status"]
    list_filter = ["year", "status", "project_type"]
    search_fields = ["code", "name"]
    list_select_related = ["region", "project_type"]
    raw_id_fields = ["region"]
    filter_horizontal = ["supported_entities"]
    inlines = [BeneficiaryInline, ProjectStepInline]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "supported_entities" and not request.user.is_superuser:
            from cooperatives.models import Entity

            kwargs["queryset"] = Entity.objects.visible_to(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(Funding)
class FundingAdmin(MoneyLedgerAdmin):
    list_display = ["project", "allocation", "amount"]
    list_filter = ["allocation__year", "allocation__level"]
    search_fields = ["project__code", "project__name", "allocation__document_number"]
    list_select_related = ["project", "allocation"]
    raw_id_fields = ["project", "allocation"]

    def region_code(self, obj: Any) -> str:
        return str(obj.project.region.code)


@admin.register(Payment)
class PaymentAdmin(MoneyLedgerAdmin):
    list_display = ["funding", "paid_on", "amount", "voucher"]
    list_filter = ["paid_on"]
    search_fields = ["funding__project__code", "voucher"]
    list_select_related = ["funding", "funding__project", "funding__allocation"]
    raw_id_fields = ["funding"]

    def region_code(self, obj: Any) -> str:
        return str(obj.funding.project.region.code)


@admin.register(Asset)
class AssetAdmin(PersonalDataAdminMixin, FundsLedgerAdmin):
    # A 户编号 made from a 身份证号 is masked for roles that may not see personal data.
    personal_fields = ("owner_household",)
    list_display = ["name", "project", "kind", "value", "owner_village", "owner_household", "custodian"]
    list_filter = ["kind"]
    search_fields = ["name", "project__code", "custodian"]
    list_select_related = ["project", "owner_village", "owner_household"]
    raw_id_fields = ["project", "owner_village", "owner_household"]

    @admin.display(description="所有权人（农户）")
    def masked_owner_household(self, obj: Asset) -> str:
        return masked_text(obj.owner_household.number) if obj.owner_household else "-"

    def region_code(self, obj: Any) -> str:
        return str(obj.project.region.code)


@admin.register(VillageProfile)
class VillageProfileAdmin(FundsLedgerAdmin):
    list_display = ["village", "year", "was_poverty_village", "has_party_complex"]
    list_filter = ["year", "was_poverty_village", "has_party_complex"]
    search_fields = ["village__name"]
    list_select_related = ["village"]
    raw_id_fields = ["village"]

    def region_code(self, obj: Any) -> str:
        return str(obj.village.code)


@admin.register(CollectiveIncome)
class CollectiveIncomeAdmin(FundsLedgerAdmin):
    list_display = ["village", "year", "quarter", "operating_income", "total_income", "review_status"]
    list_filter = ["year", "quarter", "review_status"]
    search_fields = ["village__name"]
    list_select_related = ["village"]
    raw_id_fields = ["village"]

    def region_code(self, obj: Any) -> str:
        return str(obj.village.code)


class ProjectPartAdmin(RegionScopedAdmin):
    """A project's households and steps, on their own: rows of projects the user may see, read-only."""

    def get_queryset(self, request: HttpRequest) -> Any:
        visible = Project.objects.visible_to(request.user).values("pk")
        return self.model._default_manager.filter(project__in=visible).select_related("project")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Beneficiary)
class BeneficiaryAdmin(ProjectPartAdmin):
    list_display = ["project", "masked_household"]
    fields = ["project", "masked_household"]
    readonly_fields = ["project", "masked_household"]
    search_fields = ["project__code", "project__name"]

    @admin.display(description="农户")
    def masked_household(self, obj: Beneficiary) -> str:
        return masked_text(obj.household.number)

    def get_queryset(self, request: HttpRequest) -> Any:
        # The household too must be the user's: a project may link households of other areas.
        households = Household.objects.visible_to(request.user).values("pk")
        return super().get_queryset(request).filter(household__in=households).select_related("household")


@admin.register(ProjectStep)
class ProjectStepAdmin(ProjectPartAdmin):
    list_display = ["project", "on", "from_status", "to_status", "by", "reason"]
    list_filter = ["to_status"]
    search_fields = ["project__code", "project__name"]


@admin.register(ProjectType)
class ProjectTypeAdmin(SuperuserWritesAdmin):
    list_display = ["code", "name", "parent", "is_industry", "sort_order"]
