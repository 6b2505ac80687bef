"""Pages for Excel: templates, exports of the filtered list, uploads, previews, confirm, roll back."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from households import selectors
from households.excel import export as excel_export
from households.excel.access import batch_files_downloadable, batch_preview
from households.excel.batches import import_batch_create, import_batch_rollback
from households.excel.models import ExportRecord, ImportBatch, ImportKind, ImportStatus
from households.excel.writer import WorkbookKind, rows_workbook_write, template_workbook
from households.forms import HouseholdFilterForm
from households.models import IncomeRecord, RiskType
from households.tasks import import_batch_check_task, import_batch_confirm_task
from regions.models import User

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="文件类型", choices=ImportKind.choices, widget=forms.RadioSelect)
    file = forms.FileField(label="选择文件（.xlsx 或 .csv）")


def _risk_names() -> list[str]:
    return list(RiskType.objects.values_list("name", flat=True))


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(filename)}"
    return response


def _quote(filename: str) -> str:
    from urllib.parse import quote

    return quote(filename)


@login_required
def template_download(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in ImportKind.values:
        raise Http404
    name = f"{ImportKind(kind).label}模板.xlsx"
    return _xlsx(template_workbook(cast(WorkbookKind, kind), risk_type_names=_risk_names()), name)


@login_required
def export_download(request: HttpRequest, kind: str) -> HttpResponse | FileResponse:
    """The household list as filtered on its page, as a roster or an income table."""
    if kind not in ImportKind.values:
        raise Http404
    villages = selectors.villages_for_filter(user=request.user)
    form = HouseholdFilterForm(request.GET or None, villages=villages)
    filters = form.selector_filters()
    households = selectors.household_list(user=request.user, **filters)
    reveal = request.user.has_perm("households.view_personal_data")
    rows: Iterable[dict[str, Any]]
    if kind == ImportKind.ROSTER:
        rows = excel_export.roster_rows(households=households, reveal_personal_data=reveal)
    else:
        records = IncomeRecord.objects.filter(household__in=households.values("pk")).order_by(
            "household__number", "year", "quarter"
        )
        rows = excel_export.income_rows(records=records)
    workbook_kind = cast(WorkbookKind, kind)
    # Streamed through a temporary file: a county's roster never sits in memory as one list.
    target = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after sending
    count = rows_workbook_write(target, workbook_kind, rows, risk_type_names=_risk_names())
    target.seek(0)
    user = cast(User, request.user)
    region = user.region
    ExportRecord.objects.create(
        kind=kind,
        exported_by=user,
        region=region,
        description=request.GET.urlencode()[:500],
        row_count=count,
        masked=not reveal,
    )
    filename = excel_export.export_filename(workbook_kind, region.name if region else "全部", timezone.localtime())
    return FileResponse(target, as_attachment=True, filename=filename, content_type=XLSX)


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, initial={"kind": ImportKind.ROSTER})
    if request.method == "POST" and form.is_valid():
        try:
            batch = import_batch_create(
                by=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"]
            )
        except ValidationError as error:
            form.add_error("file", error.messages)
        else:
            transaction.on_commit(lambda: import_batch_check_task.delay(batch.pk))
            return redirect("import_batch", pk=batch.pk)
    batches = ImportBatch.objects.visible_to(request.user).select_related("uploaded_by")[:20]
    return render(request, "households/import_upload.html", {"form": form, "batches": batches})


def _batch(request: HttpRequest, pk: int) -> ImportBatch:
    return get_object_or_404(ImportBatch.objects.visible_to(request.user).select_related("uploaded_by"), pk=pk)


def _downloadable_batch(request: HttpRequest, pk: int) -> ImportBatch:
    """A batch whose files the user may download; 404 (not 403) for everyone else, and once purged."""
    batch = _batch(request, pk)
    if not batch_files_downloadable(batch=batch, user=request.user):
        raise Http404
    return batch


@login_required
def import_batch(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    if request.htmx:  # type: ignore[attr-defined]
        if not batch.in_progress:
            # Finished: reload the whole page, which then shows the preview or the result.
            return HttpResponse(headers={"HX-Refresh": "true"})
        return render(request, "households/_import_progress.html", {"batch": batch})
    preview = batch_preview(batch=batch, user=request.user)
    return render(request, "households/import_batch.html", {"batch": batch, **preview})


@login_required
@require_POST
def import_batch_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    if batch.uploaded_by_id != request.user.pk and not request.user.is_superuser:
        raise PermissionDenied("只有上传人可以确认导入")
    if batch.status != ImportStatus.READY:
        messages.error(request, "该批次当前状态不能导入")
        return redirect("import_batch", pk=batch.pk)
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.APPLYING, progress=0, progress_message="排队导入"
    )
    user_pk = request.user.pk
    transaction.on_commit(lambda: import_batch_confirm_task.delay(batch.pk, user_pk))
    return redirect("import_batch", pk=batch.pk)


@login_required
@require_POST
def import_batch_undo(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    try:
        import_batch_rollback(batch=batch, by=request.user)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, f"已撤销导入批次#{batch.pk}")
    return redirect("import_batch", pk=batch.pk)


@login_required
def import_batch_errors(request: HttpRequest, pk: int) -> HttpResponse:
    """The uploaded workbook with a 错误说明 column and the bad cells highlighted."""
    from households.excel.errors_workbook import errors_workbook

    batch = _downloadable_batch(request, pk)
    if not batch.error_count:
        raise Http404
    stem = batch.file_name.rsplit(".", 1)[0]
    return _xlsx(errors_workbook(batch), f"{stem}_错误说明.xlsx")


@login_required
def import_batch_file(request: HttpRequest, pk: int) -> FileResponse:
    batch = _downloadable_batch(request, pk)
    return FileResponse(batch.file.open("rb"), as_attachment=True, filename=batch.file_name)
