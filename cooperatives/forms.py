"""Browser forms; every rule they show comes from the models and services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import construct_instance
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cooperatives.models import (
    Binding,
    EarningKind,
    Entity,
    EntityKind,
    EntityStatus,
    JoiningMethod,
    LinkageType,
    Membership,
    RichLeader,
    normalise_credit_code,
)
from cooperatives.selectors import household_find, village_member_by_id_number
from cooperatives.services import NO_RECORD, EarningEntry
from households.forms import STALE_PAGE, BootstrapMixin
from households.models import Household
from industries.models import Industry
from regions.models import Level, regions_visible_to

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def version_field() -> forms.IntegerField:
    return forms.IntegerField(
        widget=forms.HiddenInput, required=False, error_messages={"required": STALE_PAGE, "invalid": STALE_PAGE}
    )


class RegionChoiceField(forms.ModelChoiceField):
    """Regions labelled with their township, e.g. 金碧镇 大村村."""

    def label_from_instance(self, obj: Any) -> str:
        if obj.level == Level.VILLAGE and obj.parent is not None:
            return f"{obj.parent.name} {obj.name}"
        return str(obj.name)


class EntityChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.region.name}）"


class VersionedModelForm(BootstrapMixin, forms.ModelForm):
    """A form over a versioned row: the version it was read at travels with the page."""

    version = version_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            self.fields["version"].required = True
        for field in self.fields.values():
            if isinstance(field, forms.DateField):
                field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def finish(self) -> None:
        self.style_widgets()

    def _post_clean(self) -> None:
        # Only copy the values onto the instance: the service validates with full_clean once the
        # many-to-many choices are known, and the view shows the model's messages on these fields.
        opts = self._meta
        self.instance = construct_instance(self, self.instance, opts.fields, opts.exclude)


class EntityForm(VersionedModelForm):
    class Meta:
        model = Entity
        fields = [
            "kind",
            "name",
            "credit_code",
            "region",
            "level",
            "annual_sales",
            "founded_on",
            "industries",
            "legal_person",
            "contact_name",
            "contact_phone",
            "address",
        ]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"] = RegionChoiceField(
            queryset=regions_visible_to(user)
            .filter(level__gte=Level.COUNTY, level__lte=Level.VILLAGE)
            .select_related("parent")
            .order_by("code"),
            label=_("注册地"),
            help_text=_("合作社选到村；龙头企业、家庭农场选到其登记的县、乡镇或村"),
        )
        # Typed or pasted with spaces and in lower case; the model judges the compact code.
        self.fields["credit_code"] = forms.CharField(
            label=_("统一社会信用代码"),
            max_length=30,
            widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "18位，如 91532326MA6K…"}),
        )
        self.fields["industries"] = forms.ModelMultipleChoiceField(
            queryset=Industry.objects.visible_to(user).filter(is_active=True).order_by("name"),
            required=False,
            label=_("经营产业"),
            widget=forms.CheckboxSelectMultiple,
        )
        if self.instance.pk:
            self.fields["industries"].initial = list(self.instance.industries.values_list("pk", flat=True))
        self.finish()

    def clean_credit_code(self) -> str:
        return normalise_credit_code(self.cleaned_data["credit_code"])

    def clean_contact_phone(self) -> str:
        return "".join(self.cleaned_data["contact_phone"].split())


class EntityCancelForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    cancelled_on = forms.DateField(label=_("注销日期"), widget=DATE_WIDGET)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_widgets()


class BindingForm(VersionedModelForm):
    class Meta:
        model = Binding
        fields = [
            "enterprise",
            "cooperative",
            "contract_number",
            "started_on",
            "ended_on",
            "linkage_types",
            "order_volume",
            "order_amount",
        ]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enterprise"] = EntityChoiceField(
            queryset=Entity.objects.visible_to(user)
            .filter(kind=EntityKind.ENTERPRISE, status=EntityStatus.ACTIVE)
            .select_related("region")
            .order_by("name"),
            label=_("龙头企业"),
        )
        self.fields["cooperative"] = EntityChoiceField(
            queryset=Entity.objects.managed_by(user)
            .filter(kind=EntityKind.COOPERATIVE, status=EntityStatus.ACTIVE)
            .select_related("region")
            .order_by("name"),
            label=_("合作社"),
        )
        self.fields["linkage_types"] = forms.ModelMultipleChoiceField(
            queryset=LinkageType.objects.all(),
            label=_("利益联结方式"),
            widget=forms.CheckboxSelectMultiple,
            error_messages={"required": _("请至少选择一种利益联结方式")},
        )
        if self.instance.pk:
            self.fields["linkage_types"].initial = list(self.instance.linkage_types.values_list("pk", flat=True))
            # Who is bound to whom is fixed once recorded; a new partner is a new binding.
            for name in ("enterprise", "cooperative"):
                field = self.fields[name]
                field.disabled = True
                field.queryset = Entity.objects.filter(pk=getattr(self.instance, f"{name}_id")).select_related("region")  # type: ignore[attr-defined]
        self.finish()


class BindingEndForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    ended_on = forms.DateField(label=_("结束日期"), widget=DATE_WIDGET)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_widgets()


class MembershipAddForm(BootstrapMixin, forms.Form):
    """Find a household of the user's area by 户编号 or any member's 身份证号, and enter its membership."""

    household_key = forms.CharField(
        label=_("户编号或家庭成员身份证号"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "户编号 / 任一家庭成员身份证号"}),
    )
    joining_method = forms.ModelChoiceField(label=_("入社方式"), queryset=JoiningMethod.objects.all(), empty_label=None)
    shares = forms.DecimalField(
        label=_("入股金额（元）"), max_digits=14, decimal_places=2, min_value=0, required=False, initial=Decimal("0")
    )
    joined_on = forms.DateField(label=_("入社日期"), widget=DATE_WIDGET)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.household: Household | None = None
        if "joined_on" not in self.initial:
            self.initial["joined_on"] = timezone.localdate()
        self.style_widgets()

    def clean_household_key(self) -> str:
        key: str = self.cleaned_data["household_key"]
        self.household = household_find(user=self.user, key=key)
        if self.household is None:
            # The same words whether no such household exists or it lies outside the user's area.
            raise ValidationError(_("在您的管辖范围内没有找到该户，请核对户编号或身份证号"))
        return key

    def membership(self, cooperative: Entity) -> Membership:
        assert self.household is not None
        data = self.cleaned_data
        return Membership(
            cooperative=cooperative,
            household=self.household,
            joining_method=data["joining_method"],
            shares=data["shares"] or Decimal("0.00"),
            joined_on=data["joined_on"],
        )


class MembershipForm(VersionedModelForm):
    class Meta:
        model = Membership
        fields = ["joining_method", "shares", "joined_on", "left_on"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["joining_method"].empty_label = None  # type: ignore[attr-defined]
        self.finish()


class MembershipLeaveForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    left_on = forms.DateField(label=_("退社日期"), widget=DATE_WIDGET)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_widgets()


class RichLeaderForm(VersionedModelForm):
    member_id_number = forms.CharField(
        label=_("对应家庭成员身份证号"),
        max_length=24,
        required=False,
        help_text=_("带头人是本村农户家庭成员时填写，姓名以台账为准"),
    )

    class Meta:
        model = RichLeader
        fields = ["village", "name", "phone", "industry", "entity", "recognised_year", "ended_on"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["village"] = RegionChoiceField(
            queryset=regions_visible_to(user).villages().select_related("parent").order_by("code"), label=_("所在村")
        )
        self.fields["name"].required = False
        self.fields["industry"].queryset = Industry.objects.visible_to(user).filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["entity"] = EntityChoiceField(
            queryset=Entity.objects.visible_to(user).select_related("region").order_by("name"),
            label=_("所在经营主体"),
            required=False,
        )
        if "recognised_year" not in self.initial:
            self.initial["recognised_year"] = timezone.localdate().year
        if self.instance.member_id is not None:
            self.initial["member_id_number"] = self.instance.member.id_number
        self.finish()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        number = (cleaned.get("member_id_number") or "").strip()
        village = cleaned.get("village")
        self.instance.member = None
        if number and village is not None:
            member = village_member_by_id_number(village=village, id_number=number)
            if member is None:
                self.add_error("member_id_number", _("本村在户成员中没有该身份证号"))
            else:
                self.instance.member = member
                if not cleaned.get("name"):
                    cleaned["name"] = member.name
        if not cleaned.get("name") and not self.errors.get("member_id_number"):
            self.add_error("name", _("请填写姓名"))
        return cleaned

    def leader(self) -> RichLeader:
        leader: RichLeader = self.save(commit=False)
        leader.name = self.cleaned_data["name"]
        return leader


class EarningsForm(BootstrapMixin, forms.Form):
    """A household's earnings of one year: a cell per (cooperative, kind), each with the version read."""

    def __init__(
        self,
        *args: Any,
        cooperatives: list[Entity],
        kinds: list[EarningKind],
        stored: dict[tuple[int, int], Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.cooperatives, self.kinds = cooperatives, kinds
        self.rows: list[tuple[Entity, list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]]] = []
        for cooperative in cooperatives:
            cells = []
            for kind in kinds:
                earning = stored.get((cooperative.pk, kind.pk))
                key = f"{cooperative.pk}_{kind.pk}"
                self.fields[f"amount_{key}"] = forms.DecimalField(
                    label=f"{cooperative.name} {kind.name}",
                    max_digits=14,
                    decimal_places=2,
                    min_value=0,
                    required=False,
                    initial=earning.amount if earning else None,
                    widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
                )
                # What the page showed, so that only the cells the user changed are written.
                self.fields[f"shown_{key}"] = forms.DecimalField(
                    required=False, widget=forms.HiddenInput, initial=earning.amount if earning else None
                )
                self.fields[f"version_{key}"] = forms.IntegerField(
                    widget=forms.HiddenInput,
                    initial=earning.version if earning else NO_RECORD,
                    error_messages={"required": STALE_PAGE, "invalid": STALE_PAGE},
                )
                cells.append((self[f"amount_{key}"], self[f"shown_{key}"], self[f"version_{key}"]))
            self.rows.append((cooperative, cells))
        self.compact = True
        self.style_widgets()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if any(name.startswith(("shown_", "version_")) for name in self.errors):
            # The hidden cells of a tampered or outdated page: one message, not one per cell.
            raise ValidationError(STALE_PAGE)
        return cleaned

    def entries(self) -> list[EarningEntry]:
        entries = []
        for cooperative in self.cooperatives:
            for kind in self.kinds:
                key = f"{cooperative.pk}_{kind.pk}"
                amount = self.cleaned_data[f"amount_{key}"]
                if (amount or Decimal(0)) == (self.cleaned_data[f"shown_{key}"] or Decimal(0)):
                    continue
                entries.append(
                    EarningEntry(
                        cooperative=cooperative,
                        kind=kind,
                        amount=amount,
                        expected_version=self.cleaned_data[f"version_{key}"],
                    )
                )
        return entries


def year_choices(today: date | None = None) -> list[int]:
    this_year = (today or timezone.localdate()).year
    return list(range(this_year, 2015, -1))
