"""Forms of the target editor: targets, scoring rules and parameters; the rules come from the models."""

from __future__ import annotations

from typing import Any

from django import forms

from assessment.models import ParameterValue, ScoringRule, Target
from figures import alerts, registry
from households.forms import BootstrapMixin
from regions.models import Level, Region


class RegionChoiceField(forms.ModelChoiceField):
    """Regions labelled with their level, e.g. 金碧镇（乡/镇）."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.get_level_display()}）"


def indicator_choices() -> list[tuple[str, str]]:
    return [(indicator.code, indicator.name) for indicator in registry.indicators()]


def parameter_choices() -> list[tuple[str, str]]:
    """Every parameter an indicator or alert rule declares, by key."""
    found: dict[str, str] = {}
    declared = [parameter for indicator in registry.indicators() for parameter in indicator.parameters]
    declared += [parameter for rule in alerts.rules() for parameter in rule.parameters]
    for parameter in declared:
        found.setdefault(parameter.key, f"{parameter.label}（默认 {parameter.default.normalize():f}）")
    return sorted(found.items(), key=lambda item: item[1])


class PolicyRowForm(BootstrapMixin, forms.ModelForm):
    """Shared: the region list is the user's editable regions; every widget gets its Bootstrap class
    and every field the ledger's messages (no 1e5 in a value)."""

    def __init__(self, *args: Any, regions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"] = RegionChoiceField(queryset=regions, label="设定区划", empty_label=None)
        if self.instance.pk:
            self.fields["region"].initial = self.instance.region_id
        self.style_widgets()


class TargetForm(PolicyRowForm):
    indicator = forms.ChoiceField(label="指标", choices=indicator_choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        quarter = self.fields["quarter"]
        if isinstance(quarter, forms.TypedChoiceField):
            quarter.choices = [("", "全年"), *[(n, f"第{n}季度") for n in range(1, 5)]]

    class Meta:
        model = Target
        fields = ["indicator", "region", "year", "quarter", "comparator", "value", "source_document", "clause"]
        help_texts = {
            "value": "比例类填小数，如 19.2% 填 0.192；金额填元；“应为0”“不低于上年同期”“不差于上级”不填",
            "quarter": "不选则全年各季度都按此目标考核",
        }


class ScoringRuleForm(PolicyRowForm):
    indicator = forms.ChoiceField(label="指标", choices=indicator_choices)

    class Meta:
        model = ScoringRule
        fields = [
            "indicator",
            "region",
            "year",
            "weight",
            "full_score",
            "deduction_per_point",
            "point",
            "floor",
            "source_document",
            "clause",
        ]


class ParameterValueForm(PolicyRowForm):
    key = forms.ChoiceField(label="参数", choices=parameter_choices)

    def __init__(self, *args: Any, regions: Any, **kwargs: Any) -> None:
        # The engine reads parameters once per county: a township's own value would be shown but not used.
        super().__init__(*args, regions=regions.filter(level__lte=Level.COUNTY), **kwargs)
        self.fields["region"].help_text = "参数在县及以上设定，乡镇、村沿用所在县的取值"

    class Meta:
        model = ParameterValue
        fields = ["key", "region", "year", "value", "source_document", "clause"]


FORMS: dict[str, tuple[type[PolicyRowForm], type[Target | ScoringRule | ParameterValue], str]] = {
    "target": (TargetForm, Target, "考核目标"),
    "rule": (ScoringRuleForm, ScoringRule, "计分规则"),
    "parameter": (ParameterValueForm, ParameterValue, "参数"),
}


def region_queryset(regions: Any) -> Any:
    return Region.objects.filter(pk__in=regions.values("pk")).order_by("code")
