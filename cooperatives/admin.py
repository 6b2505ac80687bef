"""Admin: scoped like the pages (an entity as the user may see it, members of their area only),
personal data masked by role, read-only for staff, who write through the pages and services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from cooperatives.models import (
    Binding,
    Earning,
    EarningKind,
    Entity,
    JoiningMethod,
    LinkageType,
    Membership,
    RichLeader,
)
from households.admin import LedgerAdmin, PersonalDataAdminMixin
from households.personal_data import masked_text, shown
from regions.admin import SuperuserWritesAdmin


class MaskedHouseholdMixin(PersonalDataAdminMixin):
    """The household shown by its 户编号, masked for roles without the permission (old local numbers
    were built from a 身份证号)."""

    personal_fields = ("household",)

    @admin.display(description="农户", ordering="household__number")
    def masked_household(self, obj: Any) -> str:
        return masked_text(obj.household.number)


@admin.register(Entity)
class EntityAdmin(PersonalDataAdminMixin, LedgerAdmin):
    personal_fields = ("contact_phone",)
    list_display = ["name", "kind", "level", "region", "credit_code", "status", "contact_phone"]
    list_filter = ["kind", "level", "status"]
    search_fields = ["name", "credit_code"]
    list_select_related = ["region"]
    raw_id_fields = ["region"]
    filter_horizontal = ["industries"]

    @admin.display(description="联系电话")
    def masked_contact_phone(self, obj: Entity) -> str:
        return shown("contact_phone", obj.contact_phone, reveal=False)


@admin.register(RichLeader)
class RichLeaderAdmin(PersonalDataAdminMixin, LedgerAdmin):
    personal_fields = ("phone",)
    list_display = ["name", "village", "phone", "industry", "entity", "recognised_year", "ended_on"]
    list_filter = ["recognised_year"]
    search_fields = ["name"]
    list_select_related = ["village", "industry", "entity"]
    raw_id_fields = ["village", "member", "entity"]


@admin.register(Binding)
class BindingAdmin(LedgerAdmin):
    list_display = ["enterprise", "cooperative", "contract_number", "started_on", "ended_on", "order_amount"]
    list_filter = ["linkage_types"]
    search_fields = ["enterprise__name", "cooperative__name", "contract_number"]
    list_select_related = ["enterprise", "cooperative"]
    raw_id_fields = ["enterprise", "cooperative"]
    filter_horizontal = ["linkage_types"]


@admin.register(Membership)
class MembershipAdmin(MaskedHouseholdMixin, LedgerAdmin):
    list_display = ["cooperative", "household", "joining_method", "shares", "joined_on", "left_on"]
    list_filter = ["joining_method"]
    search_fields = ["cooperative__name", "household__number"]
    list_select_related = ["cooperative", "household"]
    raw_id_fields = ["cooperative", "household"]


@admin.register(Earning)
class EarningAdmin(MaskedHouseholdMixin, LedgerAdmin):
    list_display = ["household", "cooperative", "year", "kind", "amount"]
    list_filter = ["year", "kind"]
    search_fields = ["cooperative__name", "household__number"]
    list_select_related = ["cooperative", "household", "kind"]
    raw_id_fields = ["cooperative", "household"]


@admin.register(LinkageType, JoiningMethod)
class ReferenceListAdmin(SuperuserWritesAdmin):
    list_display = ["code", "name", "sort_order"]


@admin.register(EarningKind)
class EarningKindAdmin(SuperuserWritesAdmin):
    list_display = ["code", "name", "is_property_income", "sort_order"]
