"""The Excel report of a dashboard: one sheet per indicator group, the sub-regions as rows, each tile
indicator's value, target, status and score, laid out to print on A4 landscape. Every text cell is
written so that it can never be read as a formula; the export is recorded like the ledger's."""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from assessment.dashboard_selectors import Dashboard, GroupTiles
from assessment.models import IndicatorValue, Status
from assessment.templatetags.assessment_tags import figure, target_text
from figures.registry import Unit
from households.excel.models import ExportKind, ExportRecord
from households.excel.writer import set_text
from regions.models import Region

HEADER_FILL = PatternFill("solid", fgColor="E2EFDA")
MISSED_FONT = Font(color="C00000", bold=True)
THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FIELDS = ("指标值", "目标", "状态", "得分")
NUMBER_FORMATS: dict[str, str] = {
    Unit.YUAN_PER_PERSON: '#,##0.00"元/人"',
    Unit.YUAN: '#,##0.00"元"',
    Unit.PERCENT: "0.0%",
    Unit.HOUSEHOLDS: '#,##0"户"',
    Unit.VILLAGES: '#,##0"个村"',
    Unit.PEOPLE: '#,##0"人"',
}
TITLE_ROWS = 3  # title, place and time, 数据已过期 (or blank); the two header rows follow


def report_write(*, board: Dashboard, by: Any, query: str) -> bytes:
    """The report's file (a few sheets of figures, small enough to hold in memory), and its ExportRecord."""
    target = io.BytesIO()
    report_workbook(board=board).save(target)
    ExportRecord.objects.create(
        kind=ExportKind.DASHBOARD,
        exported_by=by,
        region=board.region,
        description=query[:500],
        row_count=len(board.bars),
        masked=True,  # figures only: no personal data
    )
    return target.getvalue()


def report_workbook(*, board: Dashboard) -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])
    for group in board.groups:
        _group_sheet(workbook.create_sheet(title=group.group.title[:31]), board, group)
    if not board.groups:
        workbook.create_sheet(title="看板")
    return workbook


def _group_sheet(sheet: Worksheet, board: Dashboard, group: GroupTiles) -> None:
    indicators = [tile.indicator for tile in group.tiles]
    computed = timezone.localtime(board.computed_at).strftime("%Y-%m-%d %H:%M") if board.computed_at else "—"
    set_text(sheet.cell(1, 1), f"{board.region.name} {group.group.title} 考核看板")
    sheet.cell(1, 1).font = Font(size=14, bold=True)
    set_text(
        sheet.cell(2, 1),
        f"区划：{board.region.name}（{board.region.code}）  季度：{board.period.label}  计算时间：{computed}",
    )
    stale = [place.name for place in [board.region, *board.children] if place.pk in board.stale_regions]
    if stale:
        # The dashboard marks these tiles 数据已过期; a printed report must not pass them off as current.
        set_text(sheet.cell(3, 1), f"数据已过期：{'、'.join(stale)}的指标值早于其数据的最近一次变动，请重新计算后再用")
        sheet.cell(3, 1).font = MISSED_FONT
    header, fields = TITLE_ROWS + 1, TITLE_ROWS + 2
    fixed = ("区划", "总得分", "排名")
    for column, label in enumerate(fixed, start=1):
        set_text(sheet.cell(header, column), label)
        sheet.merge_cells(start_row=header, start_column=column, end_row=fields, end_column=column)
    for position, indicator in enumerate(indicators):
        first = len(fixed) + 1 + position * len(FIELDS)
        set_text(sheet.cell(header, first), indicator.name)
        sheet.merge_cells(start_row=header, start_column=first, end_row=header, end_column=first + len(FIELDS) - 1)
        for offset, label in enumerate(FIELDS):
            set_text(sheet.cell(fields, first + offset), label)
    last_column = len(fixed) + len(indicators) * len(FIELDS)
    for row in (header, fields):
        for column in range(1, last_column + 1):
            cell = sheet.cell(row, column)
            cell.font, cell.fill, cell.border = Font(bold=True), HEADER_FILL, BORDER
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    scores = {row.region.pk: row.score for row in board.ranking}
    places: list[tuple[Region, bool]] = [(place, False) for place in board.bars] + (
        [(board.region, True)] if board.children else []
    )
    for index, (place, total) in enumerate(places, start=fields + 1):
        score = scores.get(place.pk)
        set_text(sheet.cell(index, 1), f"{place.name}（合计）" if total else place.name)
        if score is not None:
            sheet.cell(index, 2, float(score.score)).number_format = "0.00"
            sheet.cell(index, 3, score.rank)
        for position, indicator in enumerate(indicators):
            first = len(fixed) + 1 + position * len(FIELDS)
            _value_cells(sheet, index, first, board.value(place, indicator.code), indicator.unit)
        for column in range(1, last_column + 1):
            sheet.cell(index, column).border = BORDER
    _layout(sheet, last_column, fields)


def _value_cells(sheet: Worksheet, row: int, first: int, value: IndicatorValue | None, unit: str) -> None:
    if value is None:
        set_text(sheet.cell(row, first + 2), "未计算")
        return
    figure_cell = sheet.cell(row, first)
    if value.value is None or unit not in NUMBER_FORMATS:
        set_text(figure_cell, figure(value.value, unit))
    else:
        # A number (its unit in the format), so that a reader can sort, sum or chart the column.
        figure_cell.value = value.value
        figure_cell.number_format = NUMBER_FORMATS[unit]
    set_text(sheet.cell(row, first + 1), target_text(value.comparator, value.target, unit))
    status = sheet.cell(row, first + 2)
    set_text(status, str(Status(value.status).label))
    if value.status == Status.MISSED:
        status.font = MISSED_FONT
    if value.score is not None:
        sheet.cell(row, first + 3, float(value.score)).number_format = "0.00"
    for offset in (0, 1):
        sheet.cell(row, first + offset).alignment = Alignment(horizontal="right")


def _layout(sheet: Worksheet, last_column: int, header_end: int) -> None:
    """A4 landscape, fit to one page wide, the header rows repeated on every printed page."""
    sheet.column_dimensions["A"].width = 16
    for column in range(2, last_column + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 12
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{TITLE_ROWS + 1}:{header_end}"
    sheet.print_options.horizontalCentered = True
    sheet.freeze_panes = sheet.cell(header_end + 1, 2)
