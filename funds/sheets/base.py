"""What the funds registers share: amounts in the unit their header states, status columns that are
only read back, and the register class that links their pages and checks the written rows again."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from funds import money
from funds.forms import MOST_YUAN
from households.excel import record_columns as cells
from households.excel.access import PersonalDataSheet
from households.excel.cell_parsers import fold, parse_text
from workbooks.apply import StaleBatch
from workbooks.cells import CellError
from workbooks.characters import invisible_character_error
from workbooks.headers import CellValue
from workbooks.models import StagedAction
from workbooks.records import Column, Planned, Record, RecordSheet
from workbooks.records.planner import chunked
from workbooks.staging import staged_ids

# A check across rows yields (row number, column key or field name, message).
RowErrors = Iterable[tuple[int, str, str]]
_PLAIN_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)")
_UNIT_WORDS = {money.WAN: ("万元", "万"), money.YUAN: ("元", "¥", "￥")}


def _blank(value: CellValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: CellValue) -> Decimal:
    """The number a cell holds, exactly as typed (an Excel number by its shortest text, never a float)."""
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError
        return Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    if not isinstance(value, str):
        raise ValueError
    text = fold(value).replace(" ", "").replace(",", "")
    if not _PLAIN_NUMBER.fullmatch(text):
        raise ValueError
    try:
        return Decimal(text)
    except InvalidOperation as error:
        raise ValueError from error


def amount(key: str, header: str, field: str, unit: str, *, required: bool = True, **options: Any) -> Column:
    """An amount in the unit the header states (万元 or 元), converted to yuan exactly; finer than a fen is refused.

    A blank cell is None (必填项为空 when required), or 0.00 when not required.
    """
    places = "六位" if unit == money.WAN else "两位"
    words = _UNIT_WORDS[unit]

    def parse(value: CellValue) -> Decimal | None:
        if _blank(value):
            return None if required else Decimal("0.00")
        typed = value
        if isinstance(typed, str):
            for word in words:
                typed = typed.replace(word, "")
        try:
            number = _number(typed)
        except ValueError:
            raise CellError(f"金额格式不正确：{str(value)[:30]}") from None
        if number < 0:
            raise CellError(f"{header}不能为负数")
        try:
            yuan = money.to_yuan(number, unit)
        except money.TooLarge:
            raise CellError(f"{header}数值过大") from None
        except money.NotWholeFen:
            raise CellError(f"{header}最多保留{places}小数（精确到分）") from None
        if yuan > MOST_YUAN:
            raise CellError(f"{header}数值过大")
        return yuan

    return Column(
        key,
        header,
        parse,
        field=field,
        render=lambda yuan: money.from_yuan(yuan, unit),
        required=required,
        number_format="0.00####" if unit == money.WAN else "0.00",
        width=16,
        **options,
    )


def shown_status(key: str, header: str, model: type[models.Model], field: str, *, help: str, **options: Any) -> Column:
    """A status the export writes and the import only compares (it moves through the pages' own steps)."""
    model_field: Any = model._meta.get_field(field)
    labels = {str(label): str(value) for value, label in model_field.flatchoices}
    by_value = {value: label for label, value in labels.items()}

    def parse(value: CellValue) -> str | None:
        if _blank(value):
            return None
        text = fold(value).strip() if isinstance(value, str) else str(value)
        if text in labels:
            return labels[text]
        if text in by_value:
            return text
        raise CellError(f"“{text[:30]}”不是有效选项，可选：{'、'.join(labels)}")

    return Column(
        key,
        header,
        parse,
        export=field,
        render=lambda value: by_value.get(value, value),
        help=help,
        options=lambda: list(labels),
        **options,
    )


def status_unchanged(rows: Sequence[Planned], key: str, field: str, *, new: str, changed: str) -> RowErrors:
    """A status cell that differs from the record's: `new` for a new record (unless it states the default),
    `changed` (with {status}: the recorded one) for a recorded record."""
    for row in rows:
        stated = row.values.get(key)
        if stated is None:
            continue
        current = getattr(row.record, field)
        if stated != current:
            label = dict(type(row.record)._meta.get_field(field).flatchoices).get(current, current)
            yield row.number, key, new if row.before is None else changed.format(status=label)


def written_ids(model: type[models.Model], batch_id: int, created: dict[str, list[int]]) -> list[int]:
    """The records of `model` a confirmation has just created or changed."""
    return [*created.get(model._meta.label_lower, []), *staged_ids(batch_id, model, StagedAction.UPDATE)]


def refuse_unless(holds: bool, what: str) -> None:
    """At the confirmation: a rule the preview checked no longer holds for the data as now written."""
    if not holds:
        raise StaleBatch(what)


def locked(model: type[models.Model], ids: Iterable[int]) -> list[Any]:
    """The rows, locked until the confirmation ends, in id order (as the services lock them)."""
    rows: list[Any] = []
    for chunk in chunked(sorted(set(ids))):
        rows.extend(model._default_manager.select_for_update().filter(pk__in=chunk).order_by("pk"))
    return rows


class FundSheet(PersonalDataSheet, RecordSheet):
    """A funds register: previews masked like the households' own, its pages linked, and its gates
    (sums within a limit) checked again on the data as written, under the services' row locks, and on
    the data as an undo leaves it (a later form may have used what the undo takes back)."""

    def __init__(
        self,
        record: Record,
        *,
        recheck: Callable[[list[int]], None] | None = None,
        undone: Callable[[int], None] | None = None,
        undo_refused: str = "",
    ) -> None:
        super().__init__(record)
        # The gates on the records written (raising StaleBatch), after a confirmation and after an undo.
        self.recheck = recheck
        # The gates on what an undo removed (the batch id; raising StaleBatch).
        self.undone = undone
        self.undo_refused = undo_refused

    def template_url(self) -> str | None:
        return reverse("fund_sheet_template", args=[self.name])

    def export_url(self) -> str | None:
        return reverse("fund_sheet_export", args=[self.name])

    def records_link(self) -> tuple[str, str] | None:
        return ("返回衔接资金 Excel 导入导出", reverse("fund_sheets"))

    def after_apply(self, *, batch_id: int, created: dict[str, list[int]]) -> None:
        super().after_apply(batch_id=batch_id, created=created)
        if self.recheck is not None:
            self.recheck(written_ids(self.record.model, batch_id, created))

    def after_undo(self, *, batch_id: int, deleted: dict[str, list[int]]) -> None:
        super().after_undo(batch_id=batch_id, deleted=deleted)
        try:
            if self.recheck is not None:
                self.recheck(staged_ids(batch_id, self.record.model, StagedAction.UPDATE))
            if self.undone is not None:
                self.undone(batch_id)
        except StaleBatch as refusal:
            # Raised inside the undo's transaction: nothing of it is kept.
            raise ValidationError(self.undo_refused) from refusal


def choice_of(key: str, header: str, model: type[models.Model], field: str, *, export: str, **options: Any) -> Column:
    """A choice (资金级次) that names a related record rather than filling a field: its labels, read and written."""
    return replace(cells.choice(key, header, model, field, **options), field=None, export=export)


def parse_verbatim(value: CellValue) -> str:
    """Free text as the pages store it (Chinese punctuation and inner spaces kept), trimmed, lines ending in \\n."""
    if isinstance(value, str):
        invisible = invisible_character_error(value)
        if invisible is not None:
            raise CellError(invisible)
        return value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return parse_text(value)


def text(key: str, header: str, field: str | None = None, **options: Any) -> Column:
    """Free text read verbatim (names, 文号, 联农带农机制, 凭证号): what the export wrote reads back the same."""
    return cells.text(key, header, field, parse=parse_verbatim, **options)
