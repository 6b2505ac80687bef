"""Forms of the account pages: the administrator's choices are limited to the roles and regions they keep."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.core.validators import RegexValidator

from regions import form_messages
from regions.models import ROLE_LEVEL, Level, Region, Role, User, regions_visible_to
from regions.selectors import regions_for_accounts

PHONE = RegexValidator(r"^[\d-]*$", "联系电话只能包含数字和“-”")


def bootstrap(form: forms.BaseForm) -> None:
    """Give every widget Bootstrap's class, as the other pages' forms have, and every field messages in
    the domain's words that name it (regions/form_messages.py)."""
    form_messages.apply_domain_messages(form.fields)
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class RegionChoiceField(forms.ModelChoiceField):
    """A region indented by level and named with it: 金碧镇（乡/镇）."""

    def label_from_instance(self, obj: Any) -> str:
        indent = "\u3000" * max(obj.level - Level.COUNTY, 0)
        return f"{indent}{obj.name}（{obj.get_level_display()}）"


def _role_choices(user: User) -> list[tuple[str, str]]:
    return [(role, str(Role(role).label)) for role in user.managed_roles()]


class AccountFilterForm(forms.Form):
    region = RegionChoiceField(label="所属区划", queryset=Region.objects.none(), required=False, empty_label="全部")
    role = forms.ChoiceField(label="角色", required=False)
    active = forms.ChoiceField(label="状态", required=False, choices=[("", "全部"), ("1", "启用"), ("0", "已停用")])

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any region of the subtree (a township lists its villages' accounts too).
        self.fields["region"].queryset = regions_visible_to(user).filter(level__lte=Level.VILLAGE).order_by("code")  # type: ignore[attr-defined]
        self.fields["role"].choices = [("", "全部"), *_role_choices(user)]  # type: ignore[attr-defined]
        bootstrap(self)

    def selector_filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        active = self.cleaned_data.get("active")
        return {
            "region": self.cleaned_data.get("region"),
            "role": self.cleaned_data.get("role") or "",
            "active": None if active in (None, "") else active == "1",
        }


class AccountForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150, help_text="登录用的名称，建成后不能修改。")
    full_name = forms.CharField(label="姓名", max_length=150)
    role = forms.ChoiceField(label="角色")
    region = RegionChoiceField(label="所属区划", queryset=Region.objects.none(), empty_label="请选择")
    phone = forms.CharField(label="联系电话", max_length=20, required=False, validators=[PHONE])

    def __init__(self, *args: Any, user: User, account: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", "请选择"), *_role_choices(user)]  # type: ignore[attr-defined]
        self.fields["region"].queryset = regions_for_accounts(user=user)  # type: ignore[attr-defined]
        self.fields["phone"].widget.attrs["inputmode"] = "tel"
        if account is not None:
            del self.fields["username"]
        bootstrap(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        role: str = cleaned.get("role") or ""
        region = cleaned.get("region")
        expected = ROLE_LEVEL.get(role) if role else None
        if region is not None and expected is not None and region.level != expected:
            self.add_error(
                "region", f"角色“{Role(role).label}”应属于{Level(expected).label}级区划，请选择{Level(expected).label}"
            )
        username = cleaned.get("username")
        # Nor one that differs only in capitals: "XIANADMIN" beside xianadmin reads in the audit as the same person.
        if username and User.objects.filter(username__iexact=username).exists():
            self.add_error("username", "该用户名已被使用")
        return cleaned


class OwnPasswordChangeForm(PasswordChangeForm):
    """Django's form (old password, the new one twice, the policy's validators) with Chinese labels."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "当前密码"
        self.fields["new_password1"].label = "新密码"
        self.fields["new_password2"].label = "再次输入新密码"
        self.fields["new_password2"].help_text = ""
        # Django's say 旧密码 and 两个密码字段, words this page does not use.
        self.error_messages = {
            **self.error_messages,
            "password_incorrect": "当前密码不正确，请重新输入",
            "password_mismatch": "两次输入的新密码不一致，请重新输入",
        }
        bootstrap(self)
