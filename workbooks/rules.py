"""Field rules of a model applied to staged values: the checks full_clean() makes of each field.

An import validates hundreds of thousands of values; most columns repeat a handful of them, so
each (field, value) is judged once. Uniqueness and constraints across rows are the register's
to check in bulk; the model's clean() is the register's to call.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from workbooks.characters import invisible_character_error


def validate_visible_text(value: str) -> None:
    """Refuse text holding a control, zero-width or bidi character; forms, the admin, imports and the API apply it."""
    message = invisible_character_error(value)
    if message is not None:
        raise ValidationError(message, code="invisible_character")


# Django's own wording ("确保该变量包含不超过 32 字符 (目前字符数 40)。") said the way a clerk reads a cell.
PLAIN_MESSAGES = {
    "max_length": "不能超过{limit_value}个字（现有{show_value}个）",
    "max_value": "不能大于{limit_value}",
    "min_value": "不能小于{limit_value}",
    "blank": "必填项为空",
    "null": "必填项为空",
    "invalid_choice": "“{value}”不是可选的值",
    "max_digits": "数字位数过多（最多{max}位）",
    "max_decimal_places": "最多保留{max}位小数",
    "max_whole_digits": "整数部分位数过多（最多{max}位）",
}


def _plain(error: ValidationError) -> str:
    template = PLAIN_MESSAGES.get(error.code or "")
    # A model's own message (no %(…)s placeholders, e.g. "务工月数不能超过12") is already in the domain's words.
    own = str(error.message)
    if template is None or (own and "%(" not in own):
        return "；".join(error.messages)
    try:
        return template.format(**(error.params or {}))
    except (KeyError, IndexError):
        return "；".join(error.messages)


MEMO_VALUES_PER_FIELD = 4096


class FieldRules:
    """The per-field rules of one model: validators, choices, blank/null, max_length, digits."""

    def __init__(self, model: type[models.Model]) -> None:
        self.fields = {
            f.attname: f for f in model._meta.concrete_fields if not f.primary_key and not f.is_relation and f.editable
        }
        self.memo: dict[tuple[str, Any], str | None] = {}
        self.remembered: dict[str, int] = dict.fromkeys(self.fields, 0)

    def error(self, name: str, value: Any) -> str | None:
        """The Chinese message for one field's value, or None when the field accepts it."""
        field = self.fields.get(name)
        if field is None:
            return None
        key = (name, value if value.__class__ is not bool else ("bool", value))
        try:
            return self.memo[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable value: judged every time
            return self._judge(field, value)
        message = self._judge(field, value)
        # Names and amounts rarely repeat: past a few thousand values a field's answers are not kept.
        if self.remembered[name] < MEMO_VALUES_PER_FIELD:
            self.memo[key] = message
            self.remembered[name] += 1
        return message

    @staticmethod
    def _judge(field: models.Field[Any, Any], value: Any) -> str | None:
        if isinstance(value, str) and (invisible := invisible_character_error(value)) is not None:
            # Every register's text, with or without the model validator: a NUL would not even reach the database.
            return invisible
        try:
            if value is not None and value.__class__ is Decimal and isinstance(field, models.DecimalField):
                # Already a Decimal (amounts rarely repeat): its digits, places and bounds are what remain.
                field.run_validators(value)
                return None
            field.clean(value, None)
        except ValidationError as error:
            return "；".join(_plain(item) for item in error.error_list)
        return None

    def errors(self, values: dict[str, Any]) -> dict[str, str]:
        """Messages by field name for the values that break a rule."""
        found = {}
        for name, value in values.items():
            message = self.error(name, value)
            if message is not None:
                found[name] = message
        return found
