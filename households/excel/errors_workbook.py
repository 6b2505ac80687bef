"""The uploaded workbook handed back with a 错误说明 column and its bad cells highlighted."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from households.excel.columns import header_key
from households.excel.models import ImportBatch

BAD = PatternFill("solid", fgColor="FFC7CE")


def _sheet_from_csv(path: Path) -> tuple[Workbook, Worksheet]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in csv.reader(io.StringIO(text)):
        sheet.append(row)
    return workbook, sheet


def errors_workbook(batch: ImportBatch) -> bytes:
    """Every error of the batch, on its row and (where it names one) its cell."""
    path = Path(batch.file.path)
    if path.read_bytes()[:4] == b"PK\x03\x04":
        workbook = load_workbook(path)
        sheet = workbook[batch.sheet_name] if batch.sheet_name in workbook.sheetnames else workbook.worksheets[0]
    else:
        workbook, sheet = _sheet_from_csv(path)
    header_row = batch.header_row or 1
    columns = {
        header_key(str(cell.value)): cell.column
        for cell in sheet[header_row]
        if cell.value is not None and str(cell.value).strip()
    }
    messages: dict[int, list[str]] = defaultdict(list)
    for error in batch.errors:
        messages[error["row"]].append(f"{error['column']}：{error['message']}")
        column = columns.get(header_key(error["column"]))
        if column is not None:
            sheet.cell(row=error["row"], column=column).fill = BAD
    note_column = sheet.max_column + 1
    heading = sheet.cell(row=header_row, column=note_column, value="错误说明")
    heading.font = Font(bold=True, color="9C0006")
    for row, texts in messages.items():
        cell = sheet.cell(row=row, column=note_column, value="；".join(texts))
        cell.font = Font(color="9C0006")
    sheet.column_dimensions[heading.column_letter].width = 60
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
