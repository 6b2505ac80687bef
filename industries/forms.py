"""Browser forms; the rules they show come from the models (field validators) and the services."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db import models
from django.db.models import Model
from django.utils import timezone

from households.forms import STALE_PAGE, BootstrapMixin
from industries import selectors
from industries.filters import IndustryChoiceField, RegionChoiceField
from industries.models import Designation, Industry, IndustryCategory, Participation, ScalePlan, ScaleReport, ScaleUnit
from regions.models import Level


def model_field(model: type[Model], name: str, **kwargs: Any) -> Any:
    """The form field of a model field: its label, validators and limits, stated once in the model."""
    return cast("models.Field[Any, Any]", model._meta.get_field(name)).formfield(**kwargs)


class RowForm(BootstrapMixin, forms.Form):
    """A register row's form: a hidden version refuses a stale page; every message names its field."""

    version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, error_messages={"required": STALE_PAGE, "invalid": STALE_PAGE}
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].required = editing
        for field in self.fields.values():
            if field.widget.is_hidden:
                continue
            label = str(field.label)
            verb = "选择" if isinstance(field, forms.ModelChoiceField) else "填写"
            field.error_messages["required"] = f"请{verb}{label}"
            field.error_messages["invalid_choice"] = f"所选{label}不可用，请重新选择"
            if isinstance(field, (forms.DecimalField, forms.IntegerField)):
                field.error_messages["invalid"] = f"{label}应为数字"
                field.error_messages["max_digits"] = f"{label}数值过大"
                field.error_messages["max_decimal_places"] = f"{label}最多保留两位小数"
        self.style_widgets()

    def choices_from(self, name: str, queryset: Any) -> None:
        cast(forms.ModelChoiceField, self.fields[name]).queryset = queryset

    def error_summary(self) -> list[str]:
        """Every error as "字段：说明", for the box above the form."""
        summary = [str(message) for message in self.non_field_errors()]
        for name, errors in self.errors.items():
            if name == "__all__":
                continue
            label = self.fields[name].label if name in self.fields else ""
            summary += [f"{label}：{message}" if label else str(message) for message in errors]
        return summary


def _year_field(model: type[Model]) -> Any:
    return model_field(model, "year", initial=timezone.localdate().year)


class IndustryForm(RowForm):
    county = RegionChoiceField(queryset=None, label="所属县")
    name = model_field(Industry, "name")
    category = model_field(Industry, "category", queryset=IndustryCategory.objects.all())
    unit = model_field(Industry, "unit", queryset=ScaleUnit.objects.all())
    note = model_field(Industry, "note")
    is_active = model_field(Industry, "is_active")

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, editing=editing, **kwargs)
        if editing:
            del self.fields["county"]
        else:
            counties = selectors.regions_for_rows(user=user, lowest=Level.COUNTY, highest=Level.COUNTY)
            self.choices_from("county", counties)
            if len(counties) == 1:
                self.fields["county"].initial = counties[0].pk


class DesignationForm(RowForm):
    region = RegionChoiceField(queryset=None, label="区划")
    year = _year_field(Designation)
    industry = IndustryChoiceField(queryset=None, label="产业")
    is_signature = model_field(Designation, "is_signature")

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, editing=editing, **kwargs)
        self.choices_from("industry", selectors.industries_for_choice(user=user))
        if editing:
            del self.fields["region"]
        else:
            self.choices_from("region", selectors.regions_for_rows(user=user))


class ScalePlanForm(RowForm):
    region = RegionChoiceField(queryset=None, label="区划")
    year = _year_field(ScalePlan)
    industry = IndustryChoiceField(queryset=None, label="产业")
    scale = model_field(ScalePlan, "scale")
    source_document = model_field(ScalePlan, "source_document")

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, editing=editing, **kwargs)
        self.choices_from("industry", selectors.industries_for_choice(user=user))
        if editing:
            del self.fields["region"]
        else:
            self.choices_from("region", selectors.regions_for_rows(user=user))


class ScaleReportForm(RowForm):
    village = RegionChoiceField(queryset=None, label="村")
    year = _year_field(ScaleReport)
    industry = IndustryChoiceField(queryset=None, label="产业")
    scale = model_field(ScaleReport, "scale")

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, editing=editing, **kwargs)
        self.choices_from("industry", selectors.industries_for_choice(user=user))
        if editing:
            del self.fields["village"]
        else:
            villages = selectors.regions_for_rows(user=user, highest=Level.VILLAGE)
            self.choices_from("village", villages)
            if len(villages) == 1:
                self.fields["village"].initial = villages[0].pk


class ParticipationForm(RowForm):
    year = _year_field(Participation)
    industry = IndustryChoiceField(queryset=None, label="产业")
    scale = model_field(Participation, "scale")
    note = model_field(Participation, "note")

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, editing=editing, **kwargs)
        self.choices_from("industry", selectors.industries_for_choice(user=user))
        self.fields["scale"].help_text = "按所选产业的计量单位填写，如 3 亩、12 只"


class DeleteForm(forms.Form):
    version = forms.IntegerField(
        widget=forms.HiddenInput, error_messages={"required": STALE_PAGE, "invalid": STALE_PAGE}
    )
