"""Field rules of a model applied to staged values: the checks full_clean() makes of each field.

An import validates hundreds of thousands of values; most columns repeat a handful of them, so
each (field, value) is judged once. Uniqueness and constraints across rows are the register's
to check in bulk; the model's clean() is the register's to call.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from decimal import Decimal
from typing import Any

from django.core import validators
from django.core.exceptions import ValidationError
from django.db import models

from workbooks.characters import INVISIBLE_CHARACTERS, invisible_character_error


def validate_visible_text(value: str) -> None:
    """Refuse text holding a control, zero-width or bidi character; forms, the admin, imports and the API apply it."""
    message = invisible_character_error(value)
    if message is not None:
        raise ValidationError(message, code="invisible_character")


# A NUL is among the characters it refuses: forms drop Django's own NUL check beside it (regions/form_messages.py).
validate_visible_text.refuses_null_characters = True  # type: ignore[attr-defined]


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
    # A model's own message (no %(…)s placeholders, e.g. "务工月数不能超过12") is already in the domain's words;
    # Django's own for a blank or null field ("这个值不能为 null。") is not.
    own = str(error.message)
    if template is None or (own and "%(" not in own and error.code not in ("blank", "null")):
        return "；".join(error.messages)
    try:
        return template.format(**(error.params or {}))
    except (KeyError, IndexError):
        return "；".join(error.messages)


def plain_message(error: ValidationError) -> str:
    """A model's ValidationError (one field's) in the words a clerk reads beside a cell."""
    return "；".join(_plain(item) for item in error.error_list)


MEMO_VALUES_PER_FIELD = 4096


class FieldRules:
    """The per-field rules of one model: validators, choices, blank/null, max_length, digits."""

    def __init__(self, model: type[models.Model]) -> None:
        self.fields = {
            f.attname: f for f in model._meta.concrete_fields if not f.primary_key and not f.is_relation and f.editable
        }
        self.memo: dict[tuple[str, Any], str | None] = {}
        self.remembered: dict[str, int] = dict.fromkeys(self.fields, 0)
        self.quick = {name: _quick_test(field) for name, field in self.fields.items()}

    def error(self, name: str, value: Any) -> str | None:
        """The Chinese message for one field's value, or None when the field accepts it."""
        field = self.fields.get(name)
        if field is None:
            return None
        kind = value.__class__
        # 1, True and 1.0 are equal keys, and so are Decimal("1.0") and Decimal("1.000"): not judged alike.
        key = (name, value if kind is str or kind is int else (kind, str(value) if kind is Decimal else value))
        try:
            return self.memo[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable value: judged every time
            return self._judge(field, value)
        quick = self.quick[name]
        message = None if quick is not None and quick(value) else self._judge(field, value)
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

    def failing(self, name: str, values: Sequence[Any], *, skip: Collection[Any] = (None,)) -> set[int]:
        """The indexes of a column's values that break one of the field's rules; the skipped ones are not judged.

        Each distinct value is judged once, most by a quick test that only ever says "passes" when
        the field's own validation would (anything else is judged as error() judges it), so a
        planner checks a column in one pass and calls error() only for the rows that fail.
        """
        field = self.fields.get(name)
        if field is None:
            return set()
        classes = set(map(type, values))
        if Decimal in classes or float in classes:
            # Equal numbers may differ in what is judged (1.0 and 1.00 in digits): each object apart.
            distinct: dict[Any, Any] = {id(value): value for value in values}
            key_of: Callable[[Any], Any] = id
        elif len(classes - {type(None)}) <= 1:
            distinct = {value: value for value in dict.fromkeys(values)}
            key_of = _same
        else:  # 1, True and 1.0 are equal keys that do not judge alike
            distinct = {(value.__class__, value): value for value in values}
            key_of = _typed
        passes = self.quick[name]
        bad = set()
        for key, value in distinct.items():
            if value in skip or (passes is not None and passes(value)):
                continue
            if self.error(name, value) is not None:
                bad.add(key)
        if not bad:
            return set()
        return {index for index, value in enumerate(values) if key_of(value) in bad}

    def errors(self, values: dict[str, Any]) -> dict[str, str]:
        """Messages by field name for the values that break a rule."""
        found = {}
        for name, value in values.items():
            message = self.error(name, value)
            if message is not None:
                found[name] = message
        return found


def _same(value: Any) -> Any:
    return value


def _typed(value: Any) -> Any:
    return (value.__class__, value)


def _quick_test(field: models.Field[Any, Any]) -> Callable[[Any], bool] | None:
    """A test that a value surely passes the field's rules (False: judge it in full), for the kinds of
    field whose values rarely repeat (names, 身份证号, phones, amounts); None for the others."""
    if field.choices:
        return None
    if isinstance(field, models.CharField | models.TextField):
        max_length = field.max_length
        blank = field.blank
        # (No invisible character is part of the test below: validate_visible_text need not run again.)
        extra = [
            v
            for v in field.validators
            if not isinstance(v, validators.MaxLengthValidator | validators.ProhibitNullCharactersValidator)
            and v is not validate_visible_text
        ]
        search = INVISIBLE_CHARACTERS.search

        def text_passes(value: Any) -> bool:
            if value.__class__ is not str:
                return False
            if value == "":
                return blank
            if (max_length is not None and len(value) > max_length) or search(value):
                return False
            try:
                for validator in extra:
                    validator(value)
            except ValidationError:
                return False
            return True

        return text_passes
    if isinstance(field, models.DecimalField) and field.max_digits is not None and field.decimal_places is not None:
        places = field.decimal_places
        below = Decimal(10) ** (field.max_digits - places)
        low, high = -below, below
        for validator in field.validators:
            limit = getattr(validator, "limit_value", None)
            if isinstance(validator, validators.DecimalValidator):
                continue
            if callable(limit) or not isinstance(limit, int | Decimal):
                return None
            if isinstance(validator, validators.MinValueValidator):
                low = max(low, Decimal(limit))
            elif isinstance(validator, validators.MaxValueValidator):
                high = min(high, Decimal(limit))
            else:
                return None

        def amount_passes(value: Any) -> bool:
            # Within the bounds, no more places than allowed, fewer whole digits than max_digits - places.
            return (
                value.__class__ is Decimal
                and value.is_finite()
                and low <= value <= high
                and -below < value < below
                and value.as_tuple().exponent >= -places
            )

        return amount_passes
    return None
