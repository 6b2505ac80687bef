"""The pages every later register's Excel offers, shared: the list of its registers (records the user
sees, template, export, import), a register's template, and its export (masked by role, recorded).

An app declares its registers (workbooks.records sheets) and gets the three views:

    pages = RegisterPages(SHEETS, "funds/excel.html", {"tab": "excel"})
    sheet_list, sheet_template, sheet_export = pages.views()

Imports go through the pipeline's own pages.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from households.excel.models import ExportRecord
from households.personal_data import may_view_personal_data
from workbooks.records import RecordSheet, record_rows, record_template, record_workbook_write

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\s]+')
View = Callable[..., HttpResponse]


def may_view(user: Any, sheet: RecordSheet) -> bool:
    """Whether the user may read the register's records (its model's view permission)."""
    options = sheet.record.model._meta
    return bool(user.has_perm(f"{options.app_label}.view_{options.model_name}"))


class RegisterPages:
    def __init__(self, sheets: Mapping[str, RecordSheet], template: str, context: Mapping[str, Any] | None = None):
        self.sheets = sheets
        self.template = template
        self.context = dict(context or {})

    def _sheet(self, name: str) -> RecordSheet:
        sheet = self.sheets.get(name)
        if sheet is None:
            raise Http404
        return sheet

    def sheet_list(self, request: HttpRequest) -> HttpResponse:
        """Each register: how many records the user sees, its template, its export and the import page."""
        user: Any = request.user
        rows = [
            {
                "sheet": sheet,
                "count": sheet.record.visible(user).count() if may_view(user, sheet) else None,
                "may_import": user.has_perm(sheet.permission),
            }
            for sheet in self.sheets.values()
        ]
        return render(request, self.template, {"rows": rows, **self.context})

    def sheet_template(self, request: HttpRequest, name: str) -> HttpResponse:
        sheet = self._sheet(name)
        response = HttpResponse(record_template(sheet.record), content_type=XLSX)
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'{sheet.label}模板.xlsx')}"
        return response

    def sheet_export(self, request: HttpRequest, name: str) -> FileResponse:
        """The register's records the user sees, as the template filled in (personal data masked by role); recorded."""
        sheet = self._sheet(name)
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

    def views(self) -> tuple[View, View, View]:
        """The list, template and export views, logged in and GET/HEAD only."""
        return tuple(  # type: ignore[return-value]
            login_required(require_safe(view)) for view in (self.sheet_list, self.sheet_template, self.sheet_export)
        )
