"""Real files for the reader tests: workbooks written by openpyxl, CSV files, and hostile archives."""

from __future__ import annotations

import copy
import csv
import datetime
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.styles import Border, PatternFill, Side

from households.id_numbers import id_number_with_check_digit

ROSTER_HEADER = [
    "县",
    "乡镇",
    "村",
    "区划代码",
    "户编号",
    "户主姓名",
    "户类型",
    "脱贫年度",
    "易地搬迁",
    "联系电话",
    "监测对象类别",
    "识别时间",
    "风险类型1",
    "风险类型2",
    "风险类型3",
    "风险类型4",
    "风险类型5",
    "风险是否消除",
    "消除时间",
    "消除方式",
    "成员姓名",
    "身份证号",
    "与户主关系",
    "劳动技能",
    "健康状况",
    "在校生状况",
    "务工地点",
    "务工月数",
    "参加基本医疗保险",
    "备注",
]
INCOME_HEADER = ["户编号", "户主姓名", "年度", "季度", "务工收入", "公益性岗位收入", "种植业收入", "低保金"]
RELATIONS = ["户主", "配偶", "之子", "之女"]


def id_number_for(sequence: int) -> str:
    """A valid 身份证号, distinct for every sequence number below 1,000,000."""
    birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=sequence % 20000)
    return id_number_with_check_digit(f"532326{birth:%Y%m%d}{sequence % 1000:03d}")


def roster_row(sequence: int) -> list[Any]:
    """One member row matching ROSTER_HEADER; four members per household."""
    household = sequence // 4
    lifted = household % 3 == 0
    return [
        "大姚县",
        "金碧镇",
        "大村村",
        "532326101001",
        f"5323261010010{household:06d}",
        f"户主{household}",
        "脱贫户" if lifted else "一般农户",
        2019 if lifted else None,
        "否",
        "13812345678",
        "边缘易致贫户" if household % 10 == 1 else None,
        datetime.date(2023, 5, 1) if household % 10 == 1 else None,
        "因病" if household % 10 == 1 else None,
        None,
        None,
        None,
        None,
        "否",
        None,
        None,
        f"成员{sequence}",
        id_number_for(sequence),
        RELATIONS[sequence % 4],
        "普通劳动力",
        "健康",
        "非在校生",
        "昆明市" if sequence % 2 else None,
        6 if sequence % 2 else 0,
        "是",
        None,
    ]


def write_xlsx(
    path: Path,
    rows: Iterable[Sequence[Any]],
    *,
    title: str = "Sheet1",
    merges: Sequence[str] = (),
    extra_sheets: Sequence[tuple[str, Sequence[Sequence[Any]]]] = (),
    formatted_empty_rows: int = 0,
) -> Path:
    """A workbook whose first sheet holds rows from A1, optionally followed by formatted empty rows."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    for cell_range in merges:
        sheet.merge_cells(cell_range)
    if formatted_empty_rows:
        format_empty_rows(sheet, first_row=sheet.max_row + 1, count=formatted_empty_rows, width=sheet.max_column)
    for name, sheet_rows in extra_sheets:
        extra = book.create_sheet(name)
        for row in sheet_rows:
            extra.append(list(row))
    book.save(path)
    return path


def format_empty_rows(sheet: Any, *, first_row: int, count: int, width: int) -> None:
    """Give `count` empty rows a fill and a border, as a clerk's template does below the data."""
    thin = Side(style="thin")
    first = sheet.cell(first_row, 1)
    first.fill = PatternFill("solid", fgColor="FFF2CC")
    first.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    # Sharing the first cell's style record is what openpyxl does for equal styles, only faster.
    for row in sheet.iter_rows(min_row=first_row, max_row=first_row + count - 1, max_col=width):
        for cell in row:
            cell._style = copy.copy(first._style)


def write_csv(path: Path, rows: Iterable[Sequence[Any]], *, encoding: str = "utf-8-sig", delimiter: str = ",") -> Path:
    """A text table as Excel saves one: "CSV UTF-8" by default; "utf-16" with "\t" is its "Unicode 文本"."""
    with path.open("w", encoding=encoding, newline="") as file:
        csv.writer(file, delimiter=delimiter).writerows(rows)
    return path


def write_large_roster(path: Path, count: int) -> Path:
    """A roster of `count` member rows in openpyxl's streaming mode (for benchmarks, not tests)."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("花名册")
    sheet.append(["大姚县金碧镇2024年花名册"])
    sheet.append(ROSTER_HEADER)
    for sequence in range(count):
        sheet.append(roster_row(sequence))
    book.save(path)
    return path


def replace_member(source: Path, target: Path, name: str, content: bytes | None = None, *, size: int = 0) -> Path:
    """A copy of the source archive with one member replaced by content, or by `size` zero bytes.

    The zeros are streamed in 1 MiB pieces through the fastest deflate level, so a 200 MB member
    costs under a megabyte on disk, half a second and no memory to build.
    """
    with (
        zipfile.ZipFile(source) as original,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as copy,
    ):
        for item in original.infolist():
            if item.filename != name:
                copy.writestr(item, original.read(item.filename))
                continue
            if content is not None:
                copy.writestr(name, content)
                continue
            piece = b"0" * 2**20
            with copy.open(name, "w", force_zip64=True) as member:
                for _ in range(size // len(piece)):
                    member.write(piece)
    return target


def billion_laughs_sheet() -> bytes:
    """sheet1.xml whose only cell is an entity that would expand to ~3 GB if a parser expanded it."""
    entities = ['<!ENTITY lol0 "lololololololololololololololololololololololololololololololololol">']
    entities += [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 9)]
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<!DOCTYPE worksheet [{''.join(entities)}"
        '<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>户编号</t></is></c><c r="B1" t="inlineStr"><is><t>年度</t></is></c>'
        '<c r="C1" t="inlineStr"><is><t>季度</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol8;</t></is></c><c r="B2" t="inlineStr"><is><t>&xxe;</t></is></c>'
        '<c r="C2"><v>3</v></c></row>'
        "</sheetData></worksheet>"
    ).encode()


def far_cell_sheet(cell: str = "XFD1048576") -> bytes:
    """sheet1.xml with an income header in row 1 and one more cell far away, stretching the used range.

    At XFD1048576 the range has 17 billion cells: calamine asks for 512 GB at once and aborts.
    """
    row = int("".join(ch for ch in cell if ch.isdigit()))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>户编号</t></is></c><c r="B1" t="inlineStr"><is><t>年度</t></is></c>'
        '<c r="C1" t="inlineStr"><is><t>季度</t></is></c></row>'
        f'<row r="{row}"><c r="{cell}"><v>1</v></c></row>'
        "</sheetData></worksheet>"
    ).encode()
