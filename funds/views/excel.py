"""Pages for the funds registers in Excel: the list of registers, their templates and their exports
(imports go through the pipeline's own pages)."""

from __future__ import annotations

import re
import tempfile
from typing import Any
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from funds.sheets import SHEETS
from funds.sheets.base import FundSheet
from households.excel.models import ExportRecord
from households.personal_data import may_view_personal_data
from workbooks.records import record_rows, record_template, record_workbook_write

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\s]+')


def _sheet(name: str) -> FundSheet:
    sheet = SHEETS.get(name)
    if sheet is None:
        raise Http404
    return sheet


def may_view(user: Any, sheet: FundSheet) -> bool:
    options = sheet.record.model._meta
    return bool(user.has_perm(f"{options.app_label}.view_{options.model_name}"))


@login_required
@require_safe
def sheet_list(request: HttpRequest) -> HttpResponse:
    """Each register: how many records the user sees, its template, its export and the import page."""
    user: Any = request.user
    rows = [
        {
            "sheet": sheet,
            "count": sheet.record.visible(user).count() if may_view(user, sheet) else None,
            "may_import": user.has_perm(sheet.permission),
        }
        for sheet in SHEETS.values()
    ]
    return render(request, "funds/excel.html", {"rows": rows, "tab": "excel"})


@login_required
@require_safe
def sheet_template(request: HttpRequest, name: str) -> HttpResponse:
    sheet = _sheet(name)
    response = HttpResponse(record_template(sheet.record), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'{sheet.label}模板.xlsx')}"
    return response


@login_required
@require_safe
def sheet_export(request: HttpRequest, name: str) -> FileResponse:
    """The register's records the user sees, as the template filled in (身份证号 masked by role); recorded."""
    sheet = _sheet(name)
    user: Any = request.user
    if not may_view(user, sheet):
        raise PermissionDenied("您的角色不能查看该登记表")
    reveal = may_view_personal_data(user)
    rows = record_rows(sheet.record, sheet.record.visible(user), reveal_personal_data=reveal)
    target = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after sending
    count = record_workbook_write(target, sheet.record, rows)
    target.seek(0)
    region = user.region
    ExportRecord.objects.create(
        kind=sheet.name, exported_by=user, region=region, description="", row_count=count, masked=not reveal
    )
    where = _UNSAFE_FILENAME.sub("", region.name if region is not None else "") or "全部"
    filename = f"{sheet.label}_{where}_{timezone.localtime():%Y%m%d}.xlsx"
    return FileResponse(target, as_attachment=True, filename=filename, content_type=XLSX)
