"""Forms of the client pages; the rules they show come from the model (ApiClient.clean) and the services."""

from __future__ import annotations

from typing import Any

from django import forms

from api.models import ApiClient
from api.resources import RESOURCES
from api.selectors import client_regions
from households.forms import BootstrapMixin

RESOURCE_CHOICES = [(name, resource.title) for name, resource in RESOURCES.items()]


class RegionField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.code}）"


class ApiClientForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label="名称", max_length=100, help_text="如：云南省防返贫监测平台")
    region = RegionField(label="可访问区划", queryset=ApiClient.objects.none(), empty_label=None)
    readable = forms.MultipleChoiceField(
        label="可读资源", choices=RESOURCE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    writable = forms.MultipleChoiceField(
        label="可写资源", choices=RESOURCE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    may_view_personal_data = forms.BooleanField(
        label="可查看完整身份证号、电话和出生日期", required=False, help_text="不勾选时按页面规则脱敏"
    )
    throttle_rate = forms.CharField(
        label="限流频率", initial="600/min", help_text="每个时间单位最多的请求数，如 600/min"
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regions = client_regions(user=user)
        field = self.fields["region"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = regions
        if user.region is not None:
            field.initial = user.region.pk
        self.style_widgets()


class CallFilterForm(BootstrapMixin, forms.Form):
    compact = True
    client = forms.ModelChoiceField(
        label="客户端", queryset=ApiClient.objects.none(), required=False, empty_label="全部"
    )
    day_from = forms.DateField(label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    day_to = forms.DateField(label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, clients: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["client"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = clients
        self.style_widgets()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("day_from"), cleaned.get("day_to")
        if since and until and since > until:
            self.add_error(
                "day_to", f"截止日期（{until:%Y-%m-%d}）早于起始日期（{since:%Y-%m-%d}），请重新选择日期范围"
            )
        return cleaned
