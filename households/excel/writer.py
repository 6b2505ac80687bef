"""Workbooks of the two kinds: the blank template, and the same template filled with rows.

openpyxl lays out the header, styles, drop-downs and the 说明 sheet. The data rows are then
streamed straight into the sheet's XML, because openpyxl's per-cell serialiser manages about
2,000 rows/s, far too slow for a county roster of 200,000 member rows.

Every text cell is written as an inline string, never as a formula, and a text that starts
with = + - @ tab or CR also gets the quotePrefix style, so that Excel keeps treating it as
text when someone edits the cell (formula injection), while the stored value is unchanged.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any, Literal

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from households.excel.columns import INCOME_COLUMNS, ROSTER_COLUMNS, Column, Kind

WorkbookKind = Literal["roster", "income"]

SHEET_TITLES: dict[str, str] = {"roster": "花名册", "income": "收入表"}
NOTES_TITLE = "说明"
OPTIONS_TITLE = "下拉选项"
# Drop-downs and the text format cover at least this many data rows of a template.
TEMPLATE_ROWS = 5000
TEXT_FORMAT = "@"
MONEY_FORMAT = "0.00"
# Excel and LibreOffice turn a typed text starting with one of these into a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Long digit strings Excel would otherwise turn into numbers (losing digits) or dates.
TEXT_KINDS = {Kind.ID_NUMBER, Kind.PHONE, Kind.REGION_CODE, Kind.MONTH}
TEXT_KEYS = {"household_number"}
NUMBER_KINDS = {Kind.INT, Kind.YEAR, Kind.QUARTER}
# Excel refuses a quoted list longer than this; longer lists go to a hidden sheet.
INLINE_LIST_LIMIT = 255

REQUIRED_FILL = PatternFill("solid", fgColor="FFE699")
OPTIONAL_FILL = PatternFill("solid", fgColor="DDEBF7")
DERIVED_FILL = PatternFill("solid", fgColor="D9D9D9")
SHEET_PATH = "xl/worksheets/sheet1.xml"
# Deflate level 3 compresses the sheet XML 2.5× faster than the default 6 for a 20% larger file.
COMPRESS_LEVEL = 3

GENERAL_NOTES: dict[str, tuple[str, ...]] = {
    "roster": (
        "每行填写一名家庭成员；同一户有几名成员就填几行，户信息（县至消除方式各列）在该户每一行中重复填写。",
        "同一户的各行户编号必须相同；户编号为空时，按户主身份证号匹配已登记的农户。",
        "非监测对象的监测对象类别、识别时间、风险类型、风险是否消除、消除时间、消除方式各列留空。",
    ),
    "income": (
        "每行填写一户一个季度的收入；同一户不同季度分行填写。",
        "金额单位为元，填写数字，保留两位小数；家庭纯收入、人均纯收入由系统计算，导入时忽略。",
    ),
}
COMMON_NOTES = (
    "加粗并以黄色底纹标示的列为必填列；灰色底纹的列由系统计算。",
    "身份证号、户编号、区划代码、联系电话请保持文本格式，否则 Excel 会把长数字改成科学计数法并丢失末位。",
    "月份按“2023-05”格式填写；是/否及各类选项请从下拉列表中选择。",
    "请勿修改表头文字和列名；表头上方可以有标题行。",
    "导出文件中带 * 号的身份证号、电话已作脱敏处理，不能直接用于导入。",
)


def columns_of(kind: WorkbookKind) -> tuple[Column, ...]:
    """The column specs of a workbook kind, in sheet order."""
    return ROSTER_COLUMNS if kind == "roster" else INCOME_COLUMNS


def choice_labels(column: Column, *, risk_type_names: list[str]) -> list[str]:
    """What a drop-down offers: the spec's labels, or the risk types for the 风险类型 columns."""
    if column.key.startswith("risk_type_"):
        return list(risk_type_names)
    return list(column.choices)


def template_workbook(kind: WorkbookKind, *, risk_type_names: list[str]) -> bytes:
    """The empty workbook users fill in: header, drop-downs, text formats and the 说明 sheet."""
    return rows_workbook(kind, (), risk_type_names=risk_type_names)


def rows_workbook(kind: WorkbookKind, rows: Iterable[Mapping[str, Any]], *, risk_type_names: list[str]) -> bytes:
    """The template with one data row per mapping (column key → stored value)."""
    target = io.BytesIO()
    rows_workbook_write(target, kind, rows, risk_type_names=risk_type_names)
    return target.getvalue()


def rows_workbook_write(
    target: IO[bytes], kind: WorkbookKind, rows: Iterable[Mapping[str, Any]], *, risk_type_names: list[str]
) -> int:
    """Write the filled template to a binary file; returns the number of data rows."""
    columns = columns_of(kind)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLES[kind]
    row_writer = _RowWriter(columns, _Styles.register(sheet))
    with tempfile.TemporaryFile() as body:
        count = row_writer.write(body, rows)
        _lay_out_sheet(sheet, columns)
        _add_notes(workbook, kind, columns, risk_type_names)
        _add_drop_downs(workbook, sheet, columns, risk_type_names, last_row=max(TEMPLATE_ROWS, count) + 1)
        frame = io.BytesIO()
        workbook.save(frame)
        body.seek(0)
        _splice(frame, body, target, dimension=f"A1:{get_column_letter(len(columns))}{count + 1}")
    return count


@dataclass(frozen=True)
class _Styles:
    """Cell style ids (indexes into the workbook's cellXfs) used by the streamed rows."""

    text: int
    text_quoted: int
    quoted: int
    money: int

    @classmethod
    def register(cls, sheet: Worksheet) -> _Styles:
        def style_id(number_format: str | None = None, quoted: bool = False) -> int:
            cell = Cell(sheet)
            if number_format:
                cell.number_format = number_format
            if quoted:
                cell.quotePrefix = True
            return int(cell.style_id)

        return cls(
            text=style_id(TEXT_FORMAT),
            text_quoted=style_id(TEXT_FORMAT, quoted=True),
            quoted=style_id(quoted=True),
            money=style_id(MONEY_FORMAT),
        )


# Characters XML cannot carry literally (CR would be read back as LF), and text that looks like
# the _xHHHH_ escape Excel and calamine decode, which must itself be escaped to survive.
_UNSAFE_TEXT = re.compile(r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}


def _escape_one(match: re.Match[str]) -> str:
    found = match.group()
    if found in _ENTITIES:
        return _ENTITIES[found]
    if len(found) > 1:
        return "_x005F" + found
    return f"_x{ord(found):04X}_"


def _text_renderer(
    letter: str, style: int, quoted_style: int, to_text: Callable[[Any], str] = str
) -> Callable[[str, Any], str]:
    """A text cell: inline string, never a formula; quotePrefix when it starts like one."""
    plain = f'<c r="{letter}{{}}"' + (f' s="{style}"' if style else "") + ' t="inlineStr"><is><t{}>{}</t></is></c>'
    quoted = f'<c r="{letter}{{}}" s="{quoted_style}" t="inlineStr"><is><t{{}}>{{}}</t></is></c>'

    def render(row: str, value: Any) -> str:
        text = to_text(value)
        if not text:
            return ""
        space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
        template = quoted if text.startswith(FORMULA_TRIGGERS) else plain
        return template.format(row, space, _UNSAFE_TEXT.sub(_escape_one, text))

    return render


def _number_renderer(letter: str, style: int, quoted_style: int) -> Callable[[str, Any], str]:
    """A numeric cell for ints and finite Decimals/floats; anything else is kept as text."""
    opening = f'<c r="{letter}'
    closing = f'" s="{style}"><v>' if style else '"><v>'
    as_text = _text_renderer(letter, 0, quoted_style)

    def render(row: str, value: Any) -> str:
        kind = value.__class__
        if kind is int or (kind is Decimal and value.is_finite()):
            return f"{opening}{row}{closing}{value!s}</v></c>"
        if kind is float and math.isfinite(value):
            return f"{opening}{row}{closing}{value!r}</v></c>"
        return as_text(row, value)

    return render


def _month_text(value: Any) -> str:
    return f"{value.year:04d}-{value.month:02d}" if isinstance(value, date) else str(value)


def _renderer(column: Column, letter: str, styles: _Styles) -> Callable[[str, Any], str]:
    """How one column's stored value becomes a cell: labels, text formats, numbers."""
    if column.kind in (Kind.CHOICE, Kind.BOOL):
        labels: dict[Any, str] = {value: label for label, value in column.choices.items()}
        if column.kind == Kind.BOOL:
            labels.update({True: "是", False: "否"})
        return _text_renderer(letter, 0, styles.quoted, lambda value: labels.get(value) or str(value))
    if column.kind == Kind.MONEY:
        return _number_renderer(letter, styles.money, styles.quoted)
    if column.kind in NUMBER_KINDS:
        return _number_renderer(letter, 0, styles.quoted)
    if column.kind == Kind.MONTH:
        return _text_renderer(letter, styles.text, styles.text_quoted, _month_text)
    if column.kind in TEXT_KINDS or column.key in TEXT_KEYS:
        return _text_renderer(letter, styles.text, styles.text_quoted)
    return _text_renderer(letter, 0, styles.quoted)


class _RowWriter:
    """Turns row mappings into <row> elements of the data sheet, starting under the header."""

    BUFFER_ROWS = 500

    def __init__(self, columns: tuple[Column, ...], styles: _Styles) -> None:
        self.cells = [
            (column.key, _renderer(column, get_column_letter(index), styles))
            for index, column in enumerate(columns, start=1)
        ]

    def write(self, body: IO[bytes], rows: Iterable[Mapping[str, Any]]) -> int:
        buffer: list[str] = []
        count = 0
        for count, values in enumerate(rows, start=1):
            row = str(count + 1)
            get = values.get
            cells = "".join([render(row, value) for key, render in self.cells if (value := get(key)) is not None])
            buffer.append(f'<row r="{row}">{cells}</row>')
            if count % self.BUFFER_ROWS == 0:
                body.write("".join(buffer).encode())
                buffer.clear()
        body.write("".join(buffer).encode())
        return count


def _display_width(text: str) -> int:
    return sum(2 if ord(character) > 0x2E7F else 1 for character in text)


COLUMN_WIDTHS = {Kind.ID_NUMBER: 22, Kind.REGION_CODE: 15, Kind.PHONE: 14, Kind.MONTH: 10, Kind.MONEY: 12}


def _lay_out_sheet(sheet: Worksheet, columns: tuple[Column, ...]) -> None:
    """Header row, column widths, text-formatted columns and the frozen header."""
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        set_text(cell, column.header)
        cell.font = Font(bold=column.required)
        cell.fill = DERIVED_FILL if column.derived else REQUIRED_FILL if column.required else OPTIONAL_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        dimension = sheet.column_dimensions[get_column_letter(index)]
        width = COLUMN_WIDTHS.get(column.kind, 20 if column.key in TEXT_KEYS else 10)
        dimension.width = max(width, _display_width(column.header) + 2)
        if column.kind in TEXT_KINDS or column.key in TEXT_KEYS:
            # A column style: cells typed anywhere in the column start out as text.
            dimension.number_format = TEXT_FORMAT
    sheet.row_dimensions[1].height = 30
    sheet.freeze_panes = "A2"


def set_text(cell: Cell, text: str) -> None:
    """Put text in an openpyxl cell so that it can never be read as a formula."""
    cell.value = text
    cell.data_type = "s"
    if text.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True


def _add_drop_downs(
    workbook: Workbook, sheet: Worksheet, columns: tuple[Column, ...], risk_type_names: list[str], *, last_row: int
) -> None:
    options: Worksheet | None = None
    listed: dict[tuple[str, ...], str] = {}
    for index, column in enumerate(columns, start=1):
        if column.kind not in (Kind.CHOICE, Kind.BOOL):
            continue
        labels = tuple(choice_labels(column, risk_type_names=risk_type_names))
        if not labels:
            continue
        source = '"' + ",".join(labels) + '"'
        if len(source) > INLINE_LIST_LIMIT or any(mark in label for label in labels for mark in ',"'):
            # Too long, or a label that would break the quoted list: list the labels on a hidden sheet.
            if options is None:
                options = workbook.create_sheet(OPTIONS_TITLE)
                options.sheet_state = "hidden"
            if labels not in listed:
                options_column = len(listed) + 1
                for row, label in enumerate(labels, start=1):
                    set_text(options.cell(row=row, column=options_column), label)
                letter = get_column_letter(options_column)
                listed[labels] = f"'{OPTIONS_TITLE}'!${letter}$1:${letter}${len(labels)}"
            source = listed[labels]
        validation = DataValidation(
            type="list",
            formula1=source,
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="输入有误",
            error=f"请从下拉列表中选择{column.header}",
        )
        letter = get_column_letter(index)
        validation.add(f"{letter}2:{letter}{last_row}")
        sheet.add_data_validation(validation)


def _allowed_values(column: Column, risk_type_names: list[str]) -> str:
    if column.kind in (Kind.CHOICE, Kind.BOOL):
        return "、".join(choice_labels(column, risk_type_names=risk_type_names))
    return ""


def _add_notes(workbook: Workbook, kind: WorkbookKind, columns: tuple[Column, ...], risk_type_names: list[str]) -> None:
    """The 说明 sheet: general rules, then one row per column."""
    notes = workbook.create_sheet(NOTES_TITLE)
    title = notes.cell(row=1, column=1)
    set_text(title, f"{SHEET_TITLES[kind]}填写说明")
    title.font = Font(bold=True, size=14)
    row = 2
    for number, note in enumerate((*GENERAL_NOTES[kind], *COMMON_NOTES), start=1):
        set_text(notes.cell(row=row, column=1), f"{number}. {note}")
        row += 1
    row += 1
    for index, heading in enumerate(("列名", "是否必填", "可用别名", "填写说明", "可选值"), start=1):
        cell = notes.cell(row=row, column=index)
        set_text(cell, heading)
        cell.font = Font(bold=True)
        cell.fill = OPTIONAL_FILL
    for column in columns:
        row += 1
        requirement = "系统计算，导入时忽略" if column.derived else "必填" if column.required else "选填"
        values = (column.header, requirement, "、".join(column.aliases), column.help)
        for index, text in enumerate((*values, _allowed_values(column, risk_type_names)), start=1):
            cell = notes.cell(row=row, column=index)
            if text:
                set_text(cell, text)
            cell.alignment = Alignment(vertical="top", wrap_text=index > 2)
    for letter, width in zip("ABCDE", (18, 20, 36, 50, 60), strict=True):
        notes.column_dimensions[letter].width = width


def _splice(frame: IO[bytes], body: IO[bytes], target: IO[bytes], *, dimension: str) -> None:
    """Copy openpyxl's workbook to target, inserting the streamed rows after the header row."""
    with (
        zipfile.ZipFile(frame) as source,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as result,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename != SHEET_PATH:
                result.writestr(info, data)
                continue
            head, separator, tail = data.decode().partition("</sheetData>")
            if not separator:
                raise RuntimeError("openpyxl wrote a data sheet without rows")
            head = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"', head, count=1)
            with result.open(SHEET_PATH, "w") as stream:
                stream.write(head.encode())
                shutil.copyfileobj(body, stream, 1 << 20)
                stream.write((separator + tail).encode())
