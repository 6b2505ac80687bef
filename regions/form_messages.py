"""Form messages in the domain's words, naming the field, instead of Django's defaults.

Every form that styles its widgets through `BootstrapMixin` gets these: "请填写户编号" rather than
"这个字段是必填项。", "务工收入数值过大：整数部分最多 12 位" rather than "确认总共不超过 14 个数字。".
A message a form or validator sets on purpose is kept.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core import validators

# 1e5, 1.5E3: what a spreadsheet shows for a long number, never what a clerk means to type.
SCIENTIFIC_NOTATION = re.compile(r"\d\s*[eE]\s*[+-]?\d")
# The import's wording for an unreadable amount (households/excel/cell_parsers.py), with the field named.
SCIENTIFIC_NOTATION_MESSAGE = "%(label)s金额格式不正确：“%(value)s”是科学计数法，请直接填写数字，如 100000"

# Keys whose message Django formats with parameters; a "%" in a label must not disturb that.
_FORMATTED = {
    "invalid_choice",
    "invalid_pk_value",
    "max_length",
    "min_length",
    "max_value",
    "min_value",
    "max_digits",
    "max_decimal_places",
    "max_whole_digits",
}
# Validator codes and the validator classes whose own (default) message a form may replace.
_VALIDATOR_CODES: dict[str, type[validators.BaseValidator]] = {
    "max_length": validators.MaxLengthValidator,
    "min_length": validators.MinLengthValidator,
    "max_value": validators.MaxValueValidator,
    "min_value": validators.MinValueValidator,
}


def _messages_for(field: forms.Field, label: str) -> dict[str, str]:
    messages: dict[str, str] = {}
    choosing = isinstance(field, (forms.ChoiceField, forms.ModelChoiceField, forms.BooleanField))
    messages["required"] = f"请选择{label}" if choosing else f"请填写{label}"
    if isinstance(field, forms.BooleanField):
        messages["required"] = f"请勾选“{label}”"
    if isinstance(field, (forms.ChoiceField, forms.ModelChoiceField)):
        messages["invalid_choice"] = f"{label}的选项“%(value)s”不在可选范围内，请重新选择"
        messages["invalid_pk_value"] = f"{label}的选项“%(pk)s”不在可选范围内，请重新选择"
    if isinstance(field, forms.CharField):
        messages["max_length"] = f"{label}最多 %(limit_value)d 个字（现在 %(show_value)d 个）"
        messages["min_length"] = f"{label}至少 %(limit_value)d 个字（现在 %(show_value)d 个）"
    if isinstance(field, forms.IntegerField) and not isinstance(field, forms.DecimalField | forms.FloatField):
        messages["invalid"] = f"{label}请填写整数，如 3"
    if isinstance(field, forms.DecimalField | forms.FloatField):
        messages["invalid"] = f"{label}请填写数字，如 1200 或 1200.50"
    if label.endswith(("年度", "年份")) and isinstance(field, forms.IntegerField | forms.DecimalField):
        messages["invalid"] = f"{label}请填写四位数的年份，如 2025"
    if isinstance(field, forms.IntegerField):
        messages["max_value"] = f"{label}不能大于 %(limit_value)s"
        messages["min_value"] = f"{label}不能小于 %(limit_value)s"
    if isinstance(field, forms.DecimalField) and field.max_digits is not None and field.decimal_places is not None:
        whole = field.max_digits - field.decimal_places
        too_large = f"{label}数值过大：整数部分最多 {whole} 位，请核对是否多输了数字"
        messages["max_digits"] = too_large
        messages["max_whole_digits"] = too_large
        messages["max_decimal_places"] = f"{label}最多保留 %(max)s 位小数"
    if isinstance(field, forms.DateField):
        month = getattr(field.widget, "input_type", "") == "month"
        messages["invalid"] = f"{label}请填写有效的{'月份，如 2025-03' if month else '日期，如 2025-03-01'}"
    return messages


def _set_on_purpose(field: forms.Field, key: str, default_messages: dict[str, Any]) -> bool:
    """Whether the form (or a validator) chose this message itself, so it must be kept."""
    if key in _VALIDATOR_CODES:
        if key in field.error_messages and key not in default_messages:
            return True  # the form named the message itself (Django uses it for the validator's error)
        return any(
            getattr(validator, "code", None) == key
            and getattr(validator, "message", None) != getattr(type(validator), "message", None)
            for validator in field.validators
        )
    current = field.error_messages.get(key)
    return current is not None and key in default_messages and str(current) != str(default_messages[key])


def _default_messages(field: forms.Field) -> dict[str, Any]:
    messages: dict[str, Any] = {}
    for cls in reversed(type(field).__mro__):
        messages.update(getattr(cls, "default_error_messages", {}))
    return messages


# Django refuses a NUL in a text or choice with "不允许是用空字符串。", a validator's message no
# error_messages key reaches; say it as the invisible-character check does (workbooks/rules.py).
NULL_CHARACTER_MESSAGE = "%(label)s含有不可见字符（空字符NUL U+0000），请删除后重新填写"
# Set on a validator that refuses a NUL itself, in these words: the field then needs no second check.
REFUSES_NULL_CHARACTERS = "refuses_null_characters"


def _refuse_null_characters(field: forms.Field, label: str) -> None:
    ours = validators.ProhibitNullCharactersValidator(message=NULL_CHARACTER_MESSAGE % {"label": label})
    if isinstance(field, forms.ModelChoiceField):
        # Django checks a chosen key for a NUL in this method, with its own validator and message.
        field.validate_no_null_characters = ours  # type: ignore[method-assign]
    others = [v for v in field.validators if not isinstance(v, validators.ProhibitNullCharactersValidator)]
    if len(others) < len(field.validators) and not any(getattr(v, REFUSES_NULL_CHARACTERS, False) for v in others):
        others.append(ours)
    field.validators = others


def apply_domain_messages(fields: dict[str, forms.Field]) -> None:
    """Replace Django's default messages on these fields by ones that name the field."""
    for field in fields.values():
        label = str(field.label or "")
        _refuse_null_characters(field, label)
        if not label:
            continue
        defaults = _default_messages(field)
        for key, message in _messages_for(field, label).items():
            if _set_on_purpose(field, key, defaults):
                continue
            field.error_messages[key] = message if key not in _FORMATTED else message.replace(label, _escape(label))


def _escape(text: str) -> str:
    return text.replace("%", "%%")


def scientific_notation_errors(form: forms.BaseForm) -> dict[str, str]:
    """Number fields whose typed text is in scientific notation, with the message for each."""
    errors: dict[str, str] = {}
    if not form.is_bound:
        return errors
    for name, field in form.fields.items():
        if not isinstance(field, forms.DecimalField | forms.FloatField):
            continue
        raw = field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
        if isinstance(raw, str) and SCIENTIFIC_NOTATION.search(raw):
            errors[name] = SCIENTIFIC_NOTATION_MESSAGE % {"label": field.label or "金额", "value": raw.strip()[:20]}
    return errors


def _named(label: str, message: str) -> str:
    return message if label and label in message else f"{label}：{message}" if label else message


def error_summary(form: forms.BaseForm, *, members: Any = None) -> list[str]:
    """Every error of a form and of its member rows at once, each naming its field; rows as 第N位成员."""
    lines = [str(message) for message in form.non_field_errors()]
    for name, field in form.fields.items():
        for message in form.errors.get(name, []):
            lines.append(_named(str(field.label or ""), str(message)))
    if members is not None:
        lines += [str(message) for message in members.non_form_errors()]
        for number, row in enumerate(members.forms, start=1):
            row_messages = [str(message) for message in row.non_field_errors()]
            for name, field in row.fields.items():
                row_messages += [_named(str(field.label or ""), str(m)) for m in row.errors.get(name, [])]
            if row_messages:
                lines.append(f"第{number}位成员：{'；'.join(row_messages)}")
    return lines
