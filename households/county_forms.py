"""Forms of the county administrator's pages: a threshold, a reference-list entry, and the audit's filters."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from households.forms import STALE_PAGE
from households.models import MonitoringThreshold
from households.thresholds import threshold_digest
from regions.forms import RegionChoiceField, bootstrap
from regions.models import Region
from workbooks.rules import validate_visible_text


class ThresholdForm(forms.ModelForm):
    region = RegionChoiceField(label="区划", queryset=Region.objects.none(), empty_label="请选择")
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    amount = forms.DecimalField(
        label="监测标准（元/人·年）",
        max_digits=10,
        decimal_places=2,
        min_value=1,
        error_messages={"max_digits": "数值过大", "max_decimal_places": "最多保留两位小数"},
    )
    source = forms.CharField(
        label="依据文件", max_length=200, help_text="如：云南省乡村振兴局关于调整防返贫监测范围的通知"
    )
    # The threshold as the page showed it: a save over a later change is refused (thresholds.threshold_save).
    shown = forms.CharField(widget=forms.HiddenInput, required=False, error_messages={"required": STALE_PAGE})

    class Meta:
        model = MonitoringThreshold
        fields = ["region", "year", "amount", "source"]

    def __init__(self, *args: Any, regions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]
        if self.instance.pk:
            self.fields["shown"].initial = threshold_digest(self.instance)
            self.fields["shown"].required = True
        self.fields["amount"].widget.attrs["inputmode"] = "decimal"
        bootstrap(self)

    def validate_unique(self) -> None:
        # Django would say "具有 区划 和 年度 的 防返贫监测标准 已存在"; say it in the domain's words.
        region, year = self.cleaned_data.get("region"), self.cleaned_data.get("year")
        if region is None or year is None:
            return
        duplicates = MonitoringThreshold.objects.filter(region=region, year=year).exclude(pk=self.instance.pk)
        if duplicates.exists():
            self.add_error("year", f"{region.name}{year}年的监测标准已存在，请修改那一条")


class ReferenceItemForm(forms.Form):
    """A county's own 风险类型 or 帮扶措施: its name (the code is given when it is added)."""

    name = forms.CharField(label="名称", max_length=32, error_messages={"required": "请填写名称"})
    # The entry's version as the page showed it: a rename over a later change is refused.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, error_messages={"invalid": STALE_PAGE})

    def __init__(self, *args: Any, label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].label = f"{label}名称"
        self.fields["name"].error_messages["required"] = f"请填写{label}名称"
        self.fields["name"].error_messages["max_length"] = f"{label}名称不能超过32个字"
        self.fields["name"].validators.append(validate_visible_text)
        bootstrap(self)


AUDIT_TABS = [
    ("access", "登录"),
    ("accounts", "账号与标准变更"),
    ("personal", "个人信息查看"),
    ("exports", "导出"),
    ("imports", "导入"),
]


class AuditFilterForm(forms.Form):
    tab = forms.ChoiceField(label="栏目", choices=AUDIT_TABS, required=False, widget=forms.HiddenInput)
    username = forms.ChoiceField(label="用户", required=False)
    since = forms.DateField(label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, accounts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].choices = [  # type: ignore[attr-defined]
            ("", "全部"),
            *((account.username, f"{account.username}（{account.first_name}）") for account in accounts),
        ]
        bootstrap(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", f"截止日期（{until:%Y-%m-%d}）早于起始日期（{since:%Y-%m-%d}），请重新选择日期范围")
        return cleaned

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {"tab": "access", "username": "", "since": None, "until": None}
        data = self.cleaned_data
        since: date | None = data.get("since")
        return {
            "tab": data.get("tab") or "access",
            "username": data.get("username") or "",
            "since": since,
            "until": data.get("until"),
        }
