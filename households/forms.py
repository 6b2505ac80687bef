"""Browser forms; every rule they show comes from the models and services."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet, formset_factory
from django.utils.translation import gettext_lazy as _

from households.id_numbers import birth_date_of, id_number_error, normalise_id_number
from households.models import (
    AMOUNT_FIELDS,
    NON_NEGATIVE,
    AssistanceMeasure,
    EliminationMethod,
    Health,
    Household,
    HouseholdType,
    IncomeRecord,
    Labour,
    Member,
    MonitoringCategory,
    Relation,
    RiskType,
    Schooling,
    validate_quarter_has_begun,
)
from households.plausibility import WAGES_CONFIRM_LABEL
from households.quarter import Quarter
from households.services import VOID_REASON_MAX_LENGTH, MemberData
from regions import form_messages
from regions.models import Region
from workbooks.rules import validate_visible_text


class VillageChoiceField(forms.ModelChoiceField):
    """Villages labelled with their township, e.g. 金碧镇 大村村."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.parent.name if obj.parent else ''} {obj.name}"


class BootstrapMixin:
    """Give every widget the Bootstrap class its type needs and a phone the keyboard its value needs, every
    field messages that name it in the domain's words (regions/form_messages.py), and refuse numbers
    typed in scientific notation."""

    fields: dict[str, forms.Field]

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        form = cast(forms.BaseForm, self)
        for name, message in form_messages.scientific_notation_errors(form).items():
            if not form.errors.get(name):
                form.add_error(name, message)

    def style_widgets(self) -> None:
        form_messages.apply_domain_messages(self.fields)
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.NumberInput):
                # A text box with a number pad: the browser empties a number box whose text it cannot read
                # ("3000-"), and the form would take that empty box for 0. The server reads and refuses it.
                widget.input_type = "text"
                for attribute in ("min", "max", "step"):
                    widget.attrs.pop(attribute, None)
            if isinstance(field, forms.DecimalField):
                widget.attrs.setdefault("inputmode", "decimal")
            elif isinstance(field, forms.IntegerField) and not widget.is_hidden:
                widget.attrs.setdefault("inputmode", "numeric")
            elif name.endswith("phone") and isinstance(widget, forms.TextInput):
                widget.input_type = "tel"
                widget.attrs.setdefault("inputmode", "tel")
                widget.attrs.setdefault("autocomplete", "tel")
            if isinstance(widget, (forms.CheckboxSelectMultiple, forms.RadioSelect, forms.CheckboxInput)):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault(
                    "class", "form-select form-select-sm" if getattr(self, "compact", False) else "form-select"
                )
            elif not isinstance(widget, forms.HiddenInput):
                widget.attrs.setdefault(
                    "class", "form-control form-control-sm" if getattr(self, "compact", False) else "form-control"
                )


class MonthField(forms.DateField):
    """A month picker (<input type=month>) that yields the first day of the month."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    input_formats = ["%Y-%m", "%Y-%m-%d", "%Y%m"]


STALE_PAGE = _("页面已过期，请刷新后重新编辑")


class HouseholdForm(BootstrapMixin, forms.ModelForm):
    # Required when editing: without it the service could not tell a stale page from a fresh one.
    version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, error_messages={"required": STALE_PAGE, "invalid": STALE_PAGE}
    )

    class Meta:
        model = Household
        fields = [
            "number",
            "village",
            "household_type",
            "lifted_year",
            "relocated",
            "phone",
            "address",
            "helper_name",
            "helper_unit",
            "helper_phone",
        ]

    def __init__(self, *args: Any, villages: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["village"] = VillageChoiceField(queryset=villages, label=_("所属村"))
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            self.fields["version"].required = True
        self.style_widgets()

    # Spaces are dropped, as the importer drops them, before the model's phone rule applies.
    def clean_phone(self) -> str:
        return "".join(self.cleaned_data["phone"].split())

    def clean_helper_phone(self) -> str:
        return "".join(self.cleaned_data["helper_phone"].split())


class MemberForm(BootstrapMixin, forms.Form):
    pk = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("姓名"), max_length=32, validators=[validate_visible_text])
    id_number = forms.CharField(label=_("身份证号"), max_length=24)
    # A new row starts with nothing chosen: a default of 户主 / 技能劳动力 was saved unread.
    relation = forms.ChoiceField(label=_("与户主关系"), choices=[("", "请选择"), *Relation.choices])
    labour = forms.ChoiceField(label=_("劳动技能"), choices=[("", "请选择"), *Labour.choices])
    health = forms.ChoiceField(label=_("健康状况"), choices=Health.choices)
    schooling = forms.ChoiceField(label=_("在校生状况"), choices=Schooling.choices)
    work_place = forms.CharField(
        label=_("务工地点"), max_length=100, required=False, validators=[validate_visible_text]
    )
    work_months = forms.IntegerField(label=_("务工月数"), min_value=0, max_value=12, initial=0)
    medical_insurance = forms.BooleanField(label=_("参加医保"), required=False, initial=True)
    remove = forms.BooleanField(label=_("减员"), required=False)
    left_reason = forms.CharField(
        label=_("减员原因"),
        max_length=100,
        required=False,
        validators=[validate_visible_text],
        widget=forms.TextInput(attrs={"placeholder": "减员原因，如迁出", "aria-label": "减员原因"}),
    )
    left_on = forms.DateField(
        label=_("减员日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "aria-label": "减员日期"}, format="%Y-%m-%d"),
    )
    compact = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_widgets()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("remove") and cleaned.get("pk"):
            if not cleaned.get("left_reason", "").strip() and "left_reason" not in self.errors:
                self.add_error("left_reason", _("减员须填写减员原因（如死亡、外嫁、迁出）"))
            left_on = cleaned.get("left_on")
            if left_on is None and "left_on" not in self.errors:
                self.add_error("left_on", _("减员须填写减员日期"))
            elif left_on is not None and left_on > date.today():
                self.add_error("left_on", _("减员日期不能晚于今天"))
            elif left_on is not None and "id_number" not in self.errors:
                born = birth_date_of(cleaned["id_number"])
                if left_on < born:
                    self.add_error("left_on", _("减员日期不能早于出生日期（%(born)s）") % {"born": f"{born:%Y-%m-%d}"})
        return cleaned

    def clean_id_number(self) -> str:
        number = normalise_id_number(self.cleaned_data["id_number"])
        message = id_number_error(number)
        if message:
            raise ValidationError(message)
        existing = Member.objects.filter(id_number=number)
        if self.cleaned_data.get("pk"):
            existing = existing.exclude(pk=self.cleaned_data["pk"])
        if existing.exists():
            raise ValidationError(_("该身份证号已登记在其他成员名下"))
        return number

    def to_data(self) -> MemberData:
        data = {k: v for k, v in self.cleaned_data.items() if k != "DELETE"}
        return MemberData(**data)


class BaseMemberFormSet(BaseFormSet):
    def clean(self) -> None:
        # Rows with errors still have their valid fields in cleaned_data, so the 户主 rule and
        # duplicates are reported in the same round as a bad 身份证号.
        rows = [f for f in self.forms if f.has_changed() or f.cleaned_data.get("pk")]
        kept = [f for f in rows if not f.cleaned_data.get("remove")]
        heads = [f for f in kept if f.cleaned_data.get("relation") == Relation.HEAD]
        if not heads:
            raise ValidationError(_("请指定一名户主"))
        if len(heads) > 1:
            raise ValidationError(_("一户只能有一名户主，当前有%(n)d名") % {"n": len(heads)})
        seen: dict[str, int] = {}
        for index, form in enumerate(rows, start=1):
            number = form.cleaned_data.get("id_number")
            if number and number in seen:
                form.add_error("id_number", _("与第%(n)d行身份证号重复") % {"n": seen[number]})
            seen[number] = index
        if any(self.errors):
            raise ValidationError(_("成员信息有误，请检查标红的行"))

    def member_data(self) -> list[MemberData]:
        return [f.to_data() for f in self.forms if f.has_changed() or f.cleaned_data.get("pk")]


MemberFormSet = formset_factory(MemberForm, formset=BaseMemberFormSet, extra=0, min_num=1, validate_min=True)


def member_initial(household: Household) -> list[dict[str, Any]]:
    return [
        {
            "pk": m.pk,
            "name": m.name,
            "id_number": m.id_number,
            "relation": m.relation,
            "labour": m.labour,
            "health": m.health,
            "schooling": m.schooling,
            "work_place": m.work_place,
            "work_months": m.work_months,
            "medical_insurance": m.medical_insurance,
        }
        for m in household.members.filter(is_active=True).in_family_order()
    ]


class IncomeForm(BootstrapMixin, forms.ModelForm):
    version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, error_messages={"required": STALE_PAGE, "invalid": STALE_PAGE}
    )
    # Shown once wages above the local 核实上限 were refused (households/plausibility.py).
    wages_confirmed = forms.BooleanField(label=WAGES_CONFIRM_LABEL, required=False)

    class Meta:
        model = IncomeRecord
        fields = AMOUNT_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in AMOUNT_FIELDS:
            field = self.fields[name]
            field.widget.attrs["inputmode"] = "decimal"
            field.required = False
            # The model's rule, checked here too so that a negative amount is listed with the form's other errors.
            field.validators = [*field.validators, *NON_NEGATIVE]
            # Zero shows as an empty box with a 0.00 placeholder: a clerk who clicks and types
            # must not append to a pre-filled "0.00".
            if not self.initial.get(name):
                self.initial[name] = None
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            self.fields["version"].required = True
        self.style_widgets()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in AMOUNT_FIELDS:
            if cleaned.get(name) is None:
                cleaned[name] = 0
        return cleaned

    def _post_clean(self) -> None:
        # The service saves; the model's full_clean runs there with the household attached.
        pass

    def amounts(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in AMOUNT_FIELDS}


FIRST_INCOME_YEAR = 2016


class QuarterChoiceForm(BootstrapMixin, forms.Form):
    """The quarter of a new income record: years up to this one, and never a quarter not yet begun."""

    year = forms.TypedChoiceField(label=_("年度"), coerce=int)
    quarter = forms.TypedChoiceField(label=_("季度"), coerce=int, choices=[(n, f"第{n}季度") for n in range(1, 5)])

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        year = cast(forms.TypedChoiceField, self.fields["year"])
        year.choices = [(y, f"{y}年") for y in range(today.year, FIRST_INCOME_YEAR - 1, -1)]
        # The page disables this year's quarters that have not begun (see income_form.html).
        current = Quarter.containing(today)
        self.fields["quarter"].widget.attrs.update(
            {"data-current-year": str(current.year), "data-current-quarter": str(current.number)}
        )
        self.style_widgets()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("year") and cleaned.get("quarter"):
            validate_quarter_has_begun(Quarter(cleaned["year"], cleaned["quarter"]), self.today)
        return cleaned


class IncomeVoidForm(forms.Form):
    """作废 one quarter's income (posted from the household page's income table)."""

    version = forms.IntegerField(error_messages={"required": STALE_PAGE, "invalid": STALE_PAGE})
    reason = forms.CharField(
        label=_("作废原因"), max_length=VOID_REASON_MAX_LENGTH, error_messages={"required": _("作废须填写原因")}
    )


class MonitoringCaseForm(BootstrapMixin, forms.Form):
    category = forms.ChoiceField(label=_("监测对象类别"), choices=MonitoringCategory.choices)
    identified_month = MonthField(label=_("识别时间"))
    risk_types = forms.ModelMultipleChoiceField(
        label=_("风险类型（1-5项）"), queryset=RiskType.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    measures = forms.ModelMultipleChoiceField(
        label=_("帮扶措施"),
        queryset=AssistanceMeasure.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    note = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}), validators=[validate_visible_text]
    )

    def __init__(self, *args: Any, household: Household, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What the household's county offers: the province's entries and its own, 停用 ones left out.
        village_code = household.village.code
        for name, model in (("risk_types", RiskType), ("measures", AssistanceMeasure)):
            field = cast(forms.ModelMultipleChoiceField, self.fields[name])
            field.queryset = model.objects.for_county(village_code).active()
        self.style_widgets()

    def clean_identified_month(self) -> date:
        month: date = self.cleaned_data["identified_month"]
        if month > date.today():
            raise ValidationError(_("识别时间不能晚于当前月份"))
        return month.replace(day=1)

    def clean_risk_types(self) -> Any:
        risks = self.cleaned_data["risk_types"]
        if len(risks) > 5:
            raise ValidationError(_("风险类型最多选择5项"))
        return risks


class EliminationForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    eliminated_month = MonthField(label=_("风险消除时间"))
    elimination_method = forms.ChoiceField(label=_("消除方式"), choices=EliminationMethod.choices)
    note = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}), validators=[validate_visible_text]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_widgets()

    def clean_eliminated_month(self) -> date:
        month: date = self.cleaned_data["eliminated_month"]
        if month > date.today():
            raise ValidationError(_("消除时间不能晚于当前月份"))
        return month.replace(day=1)


class CancelForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("注销原因"), max_length=200, validators=[validate_visible_text])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_widgets()


class HouseholdFilterForm(forms.Form):
    q = forms.CharField(
        label=_("搜索"), required=False, widget=forms.TextInput(attrs={"placeholder": "户主姓名 / 身份证号 / 户编号"})
    )
    village = forms.ModelChoiceField(
        label=_("村"), queryset=Region.objects.none(), required=False, empty_label="全部村"
    )
    household_type = forms.ChoiceField(
        label=_("户类型"),
        required=False,
        choices=[("", "全部户类型"), *HouseholdType.choices],
    )
    category = forms.ChoiceField(
        label=_("监测类别"), required=False, choices=[("", "全部监测类别"), *MonitoringCategory.choices]
    )
    risk = forms.ChoiceField(
        label=_("风险"), required=False, choices=[("", "风险不限"), ("open", "风险未消除"), ("none", "无未消除风险")]
    )
    below = forms.BooleanField(label=_("低于监测标准"), required=False)
    cancelled = forms.BooleanField(label=_("含已注销"), required=False)
    township = forms.ModelChoiceField(
        label=_("乡镇"), queryset=Region.objects.none(), required=False, empty_label="全部乡镇"
    )
    risk_type = forms.ModelChoiceField(
        label=_("风险类型"), queryset=RiskType.objects.none(), required=False, empty_label="全部风险类型"
    )
    helper = forms.CharField(label=_("帮扶责任人"), required=False, max_length=32)
    band = forms.ChoiceField(
        label=_("距监测标准"),
        required=False,
        choices=[
            ("", "不限"),
            ("below", "低于监测标准"),
            ("below_near", "低于标准10%以内"),
            ("above_near", "高于标准不足10%"),
        ],
    )
    fell = forms.BooleanField(label=_("同比下降"), required=False)
    review = forms.BooleanField(label=_("识别已满6个月"), required=False)
    missing = forms.CharField(label=_("未录入收入的季度"), required=False, widget=forms.HiddenInput)
    sort = forms.CharField(label=_("排序"), required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        villages: Any,
        townships: Any = None,
        today: date | None = None,
        choice_lists: dict[str, list[tuple[int, str]]] | None = None,
        risk_types: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # The risk types the user sees (selectors.risk_types_for_filter); none where no risk filter is asked.
        if risk_types is not None:
            cast(forms.ModelChoiceField, self.fields["risk_type"]).queryset = risk_types
        self.today = today or date.today()
        # The list page's choices of villages, townships and risk types from the reference cache;
        # the querysets still check what is submitted.
        self.choice_lists = choice_lists or {}
        self.fields["village"] = VillageChoiceField(
            queryset=villages, label=_("村"), required=False, empty_label="全部村"
        )
        township = cast(forms.ModelChoiceField, self.fields["township"])
        # Exports rebuild this form from the list's query: the townships of the villages the user sees.
        township.queryset = (
            townships
            if townships is not None
            else Region.objects.filter(pk__in=villages.values("parent_id")).order_by("code")
        )
        form_messages.apply_domain_messages(self.fields)

    # The select boxes the list page draws from `options`.
    SELECTS = ("township", "village", "household_type", "category", "risk", "risk_type", "band")

    def options(self, name: str) -> list[tuple[str, str, bool]]:
        """(value, label, selected) of a select box: the chosen value is read once, not once per option."""
        chosen = self[name].value()
        chosen = "" if chosen is None else str(chosen)
        field: Any = self.fields[name]
        choices: Iterable[tuple[Any, Any]] = field.choices
        if name in self.choice_lists:
            choices = [("", field.empty_label), *self.choice_lists[name]]
        return [(str(value), str(label), str(value) == chosen) for value, label in choices]

    def clean_missing(self) -> Quarter | None:
        text = self.cleaned_data["missing"].strip()
        if not text:
            return None
        try:
            return Quarter.parse(text)
        except ValueError as error:
            raise ValidationError(_("季度格式错误，应如 2026Q3")) from error

    def selector_filters(self) -> dict[str, Any]:
        """The keyword arguments of selectors.household_list for what the user picked."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "search": data["q"],
            "village": data["village"],
            "household_type": data["household_type"],
            "category": data["category"],
            "open_risk": {"open": True, "none": False}.get(data["risk"]),
            "below_threshold": data["below"],
            "include_cancelled": data["cancelled"],
            "township": data["township"],
            "risk_type": data["risk_type"],
            "helper": data["helper"],
            "income_fell": data["fell"],
            "threshold_band": data["band"],
            "review_due_on": self.today if data["review"] else None,
            "missing_income_for": data["missing"],
            "ordering": data["sort"] or "number",
        }
