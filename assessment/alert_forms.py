"""Forms of the alert inbox: its filters, one alert's action, and bulk 排除."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from assessment.alerts import REASON_MAX
from assessment.models import AlertStatus
from figures import alerts as alert_registry
from figures.periods import Quarter
from regions import form_messages
from regions.models import Level, Region

MAX_ID = 2**63 - 1  # the largest primary key PostgreSQL and SQLite can store

STATUS_CHOICES = [
    ("open", "待处理（待核实、已核实）"),
    *[(status.value, status.label) for status in AlertStatus],
    ("all", "全部状态"),
]


class RegionChoiceField(forms.ModelChoiceField):
    """Counties and townships by name, villages under their township (金碧镇 / 大村村)."""

    def label_from_instance(self, obj: Any) -> str:
        if obj.level == Level.VILLAGE and obj.parent is not None:
            return f"{obj.parent.name} / {obj.name}"
        return str(obj.name)


class AlertFilterForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=32)
    rule = forms.ChoiceField(label="预警规则", required=False)
    status = forms.ChoiceField(label="状态", required=False, choices=STATUS_CHOICES)
    quarter = forms.ChoiceField(label="季度", required=False)
    region = RegionChoiceField(label="区划", queryset=Region.objects.none(), required=False, empty_label="全部")

    def __init__(self, *args: Any, regions: Any, quarters: list[Quarter], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rule_field = self.fields["rule"]
        quarter_field = self.fields["quarter"]
        assert isinstance(rule_field, forms.ChoiceField) and isinstance(quarter_field, forms.ChoiceField)
        rule_field.choices = [("", "全部规则")] + [(rule.code, rule.name) for rule in alert_registry.rules()]
        quarter_field.choices = [("", "全部季度")] + [(str(q), q.label) for q in quarters]
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]
        form_messages.apply_domain_messages(self.fields)

    def selector_filters(self) -> dict[str, Any]:
        """Keyword arguments of alert_selectors.alert_list for what the user picked (the defaults when invalid)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "search": data["q"],
            "rule": data["rule"],
            "status": data["status"] or "open",
            "period": Quarter.parse(data["quarter"]) if data["quarter"] else None,
            "region": data["region"],
        }


class AlertActionForm(forms.Form):
    """核实 / 排除 / 处置 one alert: the version the page showed, and the reason or note."""

    version = forms.IntegerField(widget=forms.HiddenInput, error_messages={"required": "页面已过期，请刷新后重试"})
    reason = forms.CharField(label="说明", required=False, max_length=REASON_MAX)


class BulkDismissForm(forms.Form):
    """Bulk 排除: the ticked alerts (several `ids` values) and the one reason."""

    reason = forms.CharField(label="排除原因", max_length=REASON_MAX, error_messages={"required": "批量排除须填写原因"})

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        try:
            cleaned["ids"] = sorted({int(value) for value in raw})
        except ValueError as error:
            raise ValidationError("所选预警无效") from error
        # A tampered id outside what a primary key can hold would fail in the database, not here.
        if any(not 0 < pk <= MAX_ID for pk in cleaned["ids"]):
            raise ValidationError("所选预警无效")
        if not cleaned["ids"]:
            raise ValidationError("请先勾选要排除的预警")
        return cleaned
