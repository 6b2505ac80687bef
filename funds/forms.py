"""Browser forms of the funds pages; the rules they show come from the models and the services.

Money is typed in 万元 or 元 (the form's 金额单位) and converted to yuan exactly before any service
sees it: 1.2345 万元 = 12,345.00 元; an amount finer than a fen is refused, never rounded.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils import timezone

from funds import money
from funds.models import (
    INCOME_FIELDS,
    Allocation,
    Asset,
    AssetKind,
    Payment,
    Project,
    ProjectType,
)
from funds.selectors.registers import entities_for_projects, household_find
from households.models import Household
from industries import selectors as region_choices
from industries.filters import RegionChoiceField
from industries.forms import RowForm, model_field
from regions.models import Level

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MOST_YUAN = money.MOST_YUAN


def date_field(label: str, **kwargs: Any) -> forms.DateField:
    return forms.DateField(label=label, widget=DATE_WIDGET, **kwargs)


def money_input(label: str, *, required: bool = True) -> forms.DecimalField:
    """An amount as typed, in the unit the form's 金额单位 names (converted in clean)."""
    return forms.DecimalField(
        label=label,
        required=required,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "data-money": "1"}),
    )


class MoneyForm(RowForm):
    """A row form with amounts: `money_fields` are typed in the chosen unit and cleaned to yuan."""

    money_fields: tuple[str, ...] = ()
    default_unit = money.WAN
    unit = forms.ChoiceField(label="金额单位", choices=money.UNITS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].initial = self.initial.get("unit", self.default_unit)
        # The unit is chosen next to the amount; it is never missing.
        self.fields["unit"].widget.attrs.update(
            {"data-money-unit": "1", "class": "form-select unit-select", "aria-label": "金额单位"}
        )
        self.order_fields([name for name in self.fields if name != "unit"] + ["unit"])

    @classmethod
    def initial_amounts(cls, row: Any, unit: str | None = None) -> dict[str, Any]:
        """An edit form's amounts in the form's unit, exactly (12,345.00 元 → 1.2345 万元)."""
        unit = unit or cls.default_unit
        values = {name: money.from_yuan(getattr(row, name), unit) for name in cls.money_fields}
        return {**values, "unit": unit}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        unit = data.get("unit") or self.default_unit
        for name in self.money_fields:
            typed = data.get(name)
            if typed is None:
                continue
            label = self.fields[name].label
            try:
                yuan = money.to_yuan(typed, unit)
            except money.TooLarge:
                self.add_error(name, f"{label}数值过大")
                continue
            except money.NotWholeFen:
                places = "六位" if unit == money.WAN else "两位"
                self.add_error(name, f"{label}最多保留{places}小数（精确到分）")
                continue
            if yuan < 0:
                self.add_error(name, f"{label}不能为负数")
            elif yuan > MOST_YUAN:
                self.add_error(name, f"{label}数值过大")
            else:
                data[name] = yuan
        return data


# 资金下达 -----------------------------------------------------------------------------------------


class AllocationForm(MoneyForm):
    money_fields = ("amount",)
    county = RegionChoiceField(queryset=None, label="接收县")
    year = model_field(Allocation, "year", initial=timezone.localdate().year)
    level = model_field(Allocation, "level")
    document_number = model_field(Allocation, "document_number")
    issued_on = date_field("下达日期")
    amount = money_input("金额")
    note = model_field(Allocation, "note")

    def __init__(self, *args: Any, user: Any, editing: bool = False, split: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, editing=editing, **kwargs)
        self.fields["document_number"].help_text = "下达文件的文号，如 云财农〔2025〕12号"
        if editing or split:
            del self.fields["county"]
        else:
            counties = region_choices.regions_for_rows(user=user, lowest=Level.COUNTY, highest=Level.COUNTY)
            self.choices_from("county", counties)
            if len(counties) == 1:
                self.fields["county"].initial = counties[0].pk
        if split:
            # A split keeps the year and level of the county's allocation it comes from.
            del self.fields["year"], self.fields["level"]


class SplitForm(AllocationForm):
    """Part of a county's allocation, to one of its townships."""

    township = RegionChoiceField(queryset=None, label="分配到乡镇")

    def __init__(self, *args: Any, user: Any, parent: Allocation, **kwargs: Any) -> None:
        super().__init__(*args, user=user, split=True, **kwargs)
        townships = region_choices.regions_for_rows(user=user, lowest=Level.TOWNSHIP, highest=Level.TOWNSHIP)
        self.choices_from("township", townships.filter(parent=parent.region))
        self.fields["document_number"].help_text = "县级分配文件的文号"
        self.order_fields(["township", *[name for name in self.fields if name != "township"]])


# 项目库 ------------------------------------------------------------------------------------------


class ProjectTypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"\u3000{obj.name}" if obj.parent_id else str(obj.name)


class EntityChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.get_kind_display()}）"


class ProjectForm(RowForm):
    code = model_field(Project, "code")
    name = model_field(Project, "name")
    year = model_field(Project, "year", initial=timezone.localdate().year)
    region = RegionChoiceField(queryset=None, label="实施区划")
    project_type = ProjectTypeChoiceField(queryset=ProjectType.objects.order_by("sort_order", "code"), label="项目类型")
    linkage_mechanism = model_field(Project, "linkage_mechanism", widget=forms.Textarea(attrs={"rows": 3}))
    supported_entities = EntityChoiceField(
        queryset=None, label="扶持的经营主体（双绑）", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, editing=editing, **kwargs)
        self.choices_from("region", region_choices.regions_for_rows(user=user))
        self.choices_from("supported_entities", entities_for_projects(user=user))
        self.fields[
            "linkage_mechanism"
        ].help_text = "写明农户如何受益（如土地流转、务工就业、入股分红）；产业发展项目没有联农带农机制不能入库"
        self.fields["supported_entities"].help_text = "只列出有企业绑定合作社（双绑）记录的龙头企业和合作社"


class BeneficiaryAddForm(RowForm):
    """Households of the user's area by 户编号 or any member's 身份证号, one a line."""

    households = forms.CharField(
        label="户编号或家庭成员身份证号",
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "placeholder": "每行一个户编号或身份证号"}),
        help_text="每行一个，可一次添加多户；只能添加您管辖范围内的农户",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, editing=True, **kwargs)
        self.user = user
        self.found: list[Household] = []

    def clean_households(self) -> str:
        text: str = self.cleaned_data["households"]
        keys = [key for key in re.split(r"[\s,，;；、]+", text) if key]
        if len(keys) > 500:
            raise forms.ValidationError("一次最多添加500户")
        self.found, missing = household_find(user=self.user, keys=keys)
        if missing:
            # The same words whether no such household exists or it lies outside the user's area.
            shown = "、".join(missing[:10]) + ("等" if len(missing) > 10 else "")
            raise forms.ValidationError(f"在您的管辖范围内没有找到：{shown}（请核对户编号或身份证号）")
        return text


class StepForm(RowForm):
    on = date_field("日期")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, editing=True, **kwargs)
        self.fields["on"].initial = timezone.localdate()


class SendBackForm(StepForm):
    reason = forms.CharField(label="退回原因", max_length=200)


# 资金安排 and 支付 --------------------------------------------------------------------------------


class AllocationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        left = money.wan_text(getattr(obj, "remainder", None))
        return f"{obj.year}年 {obj.get_level_display()} {obj.region.name} {obj.document_number}（剩余 {left} 万元）"


class FundingForm(MoneyForm):
    money_fields = ("amount",)
    allocation = AllocationChoiceField(queryset=None, label="资金来源")
    amount = money_input("安排金额")

    def __init__(self, *args: Any, allocations: Any = None, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, editing=editing, **kwargs)
        if editing:
            del self.fields["allocation"]
        else:
            self.choices_from("allocation", allocations)


class PaymentForm(MoneyForm):
    money_fields = ("amount",)
    default_unit = money.YUAN
    paid_on = date_field("支付日期")
    amount = money_input("支付金额")
    voucher = model_field(Payment, "voucher")


class AssetForm(MoneyForm):
    money_fields = ("value",)
    kind = forms.ChoiceField(label="资产类别", choices=AssetKind.choices)
    name = model_field(Asset, "name")
    value = money_input("资产价值")
    owner_village = RegionChoiceField(queryset=None, label="所有权人（村集体）", required=False)
    owner_household = forms.CharField(
        label="所有权人（农户）",
        required=False,
        help_text="到户类资产填写户编号或任一家庭成员身份证号",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    custodian = model_field(Asset, "custodian")

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, editing=editing, **kwargs)
        self.user = user
        self.choices_from("owner_village", region_choices.regions_for_rows(user=user, highest=Level.VILLAGE))
        self.household: Household | None = None

    def clean_owner_household(self) -> str:
        key: str = self.cleaned_data["owner_household"].strip()
        if key:
            found, _missing = household_find(user=self.user, keys=[key])
            if not found:
                raise forms.ValidationError("在您的管辖范围内没有找到该户，请核对户编号或身份证号")
            self.household = found[0]
        return key


# 村情况 and 村集体经济收入 ------------------------------------------------------------------------


class VillageProfileForm(RowForm):
    was_poverty_village = forms.BooleanField(label="脱贫村", required=False)
    has_party_complex = forms.BooleanField(label="建有党建综合体", required=False, help_text="适用经营性收入8万元目标")


class CollectiveIncomeForm(MoneyForm):
    money_fields = INCOME_FIELDS
    default_unit = money.YUAN
    business_income = money_input("经营收入", required=False)
    contracting_income = money_input("发包及上交收入", required=False)
    investment_income = money_input("投资收益", required=False)
    asset_income = money_input("资产租赁及项目资产收益", required=False)
    subsidy_income = money_input("补助收入", required=False)
    other_income = money_input("其他收入", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(["unit", *INCOME_FIELDS])
        self.fields["unit"].help_text = "六项收入均按所选单位填写，填报自1月1日至本季度末的累计数"


class ReturnForm(RowForm):
    review_note = forms.CharField(label="退回意见", max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, editing=True, **kwargs)
