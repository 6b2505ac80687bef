"""A record register's workbook: the blank template, and the same template filled with the user's records.

The export reads the declaration's columns back (values() paths, many-to-many names joined by 、),
so an export imported again is 无变化. Text is always written as text, never as a formula; a text
that starts like one (= + - @) also gets Excel's quote prefix, so editing the cell keeps it text.
Registers hold hundreds to tens of thousands of rows: openpyxl's streaming writer is enough.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

from django.db.models import QuerySet
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from workbooks.records.declaration import Column, Record

NOTES_TITLE = "说明"
OPTIONS_TITLE = "下拉选项"
# Drop-downs cover at least this many data rows of a template.
TEMPLATE_ROWS = 2000
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Excel refuses a quoted list longer than this; longer lists go to a hidden sheet.
INLINE_LIST_LIMIT = 255
REQUIRED_FILL = PatternFill("solid", fgColor="FFE699")
OPTIONAL_FILL = PatternFill("solid", fgColor="DDEBF7")
CHUNK_ROWS = 2000

COMMON_NOTES = (
    "加粗并以黄色底纹标示的列为必填列。",
    "以统一社会信用代码、户编号、身份证号等找到已登记的记录：已有的记录按文件修改，没有的新增；文件中没有的记录不受影响。",
    "日期按“2024-03-01”填写；多个值之间用顿号“、”分隔；选项请从下拉列表中选择。",
    "请勿修改表头文字和列名；表头上方可以有标题行。",
    "导出文件中带 * 号的身份证号、电话已作脱敏处理，不能直接用于导入。",
)


def record_rows(
    record: Record, records: QuerySet[Any], *, reveal_personal_data: bool, chunk_size: int = CHUNK_ROWS
) -> Iterator[dict[str, Any]]:
    """One row per record (column key → exported value), in the declaration's order; personal data
    masked unless reveal_personal_data. `records` is already scoped to the user."""
    paths = {column.key: column.export_path for column in record.columns if column.export_path}
    many = {m.column: m for m in record.many}
    queryset = records.annotate(**record.annotations()).order_by(*record.ordering)
    values = queryset.values("pk", *dict.fromkeys(paths.values()))
    batch: list[dict[str, Any]] = []
    for row in values.iterator(chunk_size=chunk_size):
        batch.append(row)
        if len(batch) >= chunk_size:
            yield from _rows(record, batch, paths, many, reveal_personal_data)
            batch = []
    yield from _rows(record, batch, paths, many, reveal_personal_data)


def _rows(
    record: Record, batch: list[dict[str, Any]], paths: dict[str, str], many: dict[str, Any], reveal: bool
) -> Iterator[dict[str, Any]]:
    if not batch:
        return
    names: dict[str, dict[int, list[str]]] = {}
    for key, declared in many.items():
        field: Any = record.model._meta.get_field(declared.field)
        through = field.remote_field.through
        source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
        links = through.objects.filter(**{f"{source}__in": [row["pk"] for row in batch]})
        # The list's own order (sort order, then name), as the drop-down offers them.
        ordering = [f"{target}__{name}" for name in field.related_model._meta.ordering or [declared.path]]
        by_owner: dict[int, list[str]] = defaultdict(list)
        for owner, name in links.order_by(*ordering).values_list(f"{source}_id", f"{target}__{declared.path}"):
            by_owner[owner].append(str(name))
        names[key] = by_owner
    for row in batch:
        cells: dict[str, Any] = {}
        for column in record.columns:
            if column.key in names:
                cells[column.key] = "、".join(names[column.key].get(row["pk"], []))
                continue
            path = paths.get(column.key)
            value = row[path] if path else None
            if value is not None and not reveal and column.mask is not None:
                value = column.mask(value)
            cells[column.key] = None if value is None else column.render(value)
        yield cells


def record_template(record: Record) -> bytes:
    """The empty workbook users fill in: header, drop-downs, formats and the 说明 sheet."""
    target = io.BytesIO()
    record_workbook_write(target, record, ())
    return target.getvalue()


def record_workbook_write(target: IO[bytes], record: Record, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write the filled template to a binary file; returns the number of data rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(record.label)
    columns = record.columns
    options = {column.key: list(column.options()) for column in columns if column.options is not None}
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width or max(10, _display_width(column.header) + 4)
    sheet.freeze_panes = "A2"
    header = []
    for column in columns:
        cell = _text_cell(sheet, column.header)
        cell.font = Font(bold=column.required)
        cell.fill = REQUIRED_FILL if column.required else OPTIONAL_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        header.append(cell)
    sheet.append(header)
    count = 0
    for values in rows:
        sheet.append([_cell(sheet, column, values.get(column.key)) for column in columns])
        count += 1
    _add_drop_downs(workbook, sheet, columns, options, last_row=max(TEMPLATE_ROWS, count) + 1)
    _add_notes(workbook, record, options)
    workbook.save(target)
    return count


def _display_width(text: str) -> int:
    return sum(2 if ord(character) > 0x2E7F else 1 for character in text)


def _text_cell(sheet: Any, text: str, number_format: str = "") -> Any:
    """A cell holding text that can never be read as a formula."""
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", text))
    cell.data_type = "s"
    if text.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True
    if number_format:
        cell.number_format = number_format
    return cell


def _cell(sheet: Any, column: Column, value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return _text_cell(sheet, value, column.number_format)
    cell = WriteOnlyCell(sheet, value=value)
    if column.number_format and column.number_format != "@":
        cell.number_format = column.number_format
    return cell


def _add_drop_downs(
    workbook: Workbook, sheet: Any, columns: tuple[Column, ...], options: dict[str, list[str]], *, last_row: int
) -> None:
    listed: list[list[str]] = []
    for index, column in enumerate(columns, start=1):
        labels = options.get(column.key)
        if not labels:
            continue
        source = '"' + ",".join(labels) + '"'
        if len(source) > INLINE_LIST_LIMIT or any(mark in label for label in labels for mark in ',"'):
            listed.append(labels)
            letter = get_column_letter(len(listed))
            source = f"'{OPTIONS_TITLE}'!${letter}$1:${letter}${len(labels)}"
        validation = DataValidation(
            type="list",
            formula1=source,
            allow_blank=True,
            showErrorMessage=False,  # a list (产业、利益联结方式) may hold several values
            errorTitle="输入有误",
        )
        letter = get_column_letter(index)
        validation.add(f"{letter}2:{letter}{last_row}")
        sheet.data_validations.append(validation)
    if listed:
        hidden = workbook.create_sheet(OPTIONS_TITLE)
        hidden.sheet_state = "hidden"
        for position in range(max(len(labels) for labels in listed)):
            hidden.append(
                [_text_cell(hidden, labels[position]) if position < len(labels) else None for labels in listed]
            )


def _add_notes(workbook: Workbook, record: Record, options: dict[str, list[str]]) -> None:
    """The 说明 sheet: general rules, then one row per column."""
    notes = workbook.create_sheet(NOTES_TITLE)
    for letter, width in zip("ABCDE", (22, 10, 30, 60, 60), strict=True):
        notes.column_dimensions[letter].width = width
    title = _text_cell(notes, f"{record.label}填写说明")
    title.font = Font(bold=True, size=14)
    notes.append([title])
    for number, note in enumerate((*record.notes, *COMMON_NOTES), start=1):
        notes.append([_text_cell(notes, f"{number}. {note}")])
    notes.append([])
    headings = []
    for heading in ("列名", "是否必填", "可用别名", "填写说明", "可选值"):
        cell = _text_cell(notes, heading)
        cell.font = Font(bold=True)
        cell.fill = OPTIONAL_FILL
        headings.append(cell)
    notes.append(headings)
    for column in record.columns:
        texts = (
            column.header,
            "必填" if column.required else "选填",
            "、".join(column.aliases),
            column.help,
            "、".join(options.get(column.key, [])),
        )
        notes.append([_text_cell(notes, text) if text else None for text in texts])
