"""Pages for Excel: templates, exports of the filtered list, uploads, previews, confirm, roll back."""

from __future__ import annotations

import tempfile
from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from households import selectors
from households.excel import batches as import_batches
from households.excel import export as excel_export
from households.excel import export_jobs
from households.excel.access import batch_files_downloadable, batch_preview
from households.excel.batches import (
    QUEUE_DOWN,
    AlreadyClaimed,
    import_batch_confirm_request,
    import_batch_create,
    import_batch_enqueue_check,
    import_batch_rollback,
)
from households.excel.models import ExportJob, ExportRecord, ExportStatus, ImportBatch, ImportKind
from households.excel.queue import send_task
from households.excel.writer import WorkbookKind, rows_workbook_write, template_workbook
from households.forms import HouseholdFilterForm
from households.tasks import export_job_run_task
from regions.models import User

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="文件类型", choices=ImportKind.choices, widget=forms.RadioSelect)
    file = forms.FileField(label="选择文件（.xlsx 或 .csv）")


def _risk_names() -> list[str]:
    return excel_export.risk_type_names()


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
    """The household list as filtered on its page; a large one becomes a background export job."""
    if kind not in ImportKind.values:
        raise Http404
    user = cast(User, request.user)
    form = export_jobs.filter_form(user=user, query=request.GET)
    if form.is_bound and not form.is_valid():
        # Never "everything": an invalid filter value is an error on the list page.
        # The list page shows which field is wrong, next to the form.
        messages.error(request, "筛选条件有误，未导出。请改正后重新导出。")
        return redirect(f"{reverse('household_list')}?{request.GET.urlencode()}")
    filters = form.selector_filters()
    households = selectors.household_list(user=user, **filters)
    household_count = households.count()
    village = filters.get("village")
    if export_jobs.export_runs_in_background(user=user, village=village, household_count=household_count):
        return _export_in_background(request, user, kind, form, household_count)
    reveal = user.has_perm("households.view_personal_data")
    workbook_kind = cast(WorkbookKind, kind)
    rows, _expected = excel_export.workbook_rows(workbook_kind, households=households, reveal_personal_data=reveal)
    # Streamed through a temporary file: a county's roster never sits in memory as one list.
    target = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after sending
    count = rows_workbook_write(target, workbook_kind, rows, risk_type_names=_risk_names())
    target.seek(0)
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


def _export_in_background(
    request: HttpRequest, user: User, kind: str, form: HouseholdFilterForm, household_count: int
) -> HttpResponse:
    try:
        job = export_jobs.export_job_create(by=user, kind=kind, form=form, household_count=household_count)
    except export_jobs.ExportJobBusy as busy:
        messages.warning(
            request,
            f"您的导出#{busy.job.pk}（{busy.job.get_kind_display()}）还在{busy.job.get_status_display()}，"
            "每人同时只能进行一个导出，请等它完成后再导出。",
        )
        return redirect("export_job", pk=busy.job.pk)
    transaction.on_commit(lambda: send_task(export_job_run_task, job.pk))
    messages.info(request, f"共 {household_count} 户，数据较多，已转为后台生成；完成后在本页下载。")
    return redirect("export_job", pk=job.pk)


def _export_job(request: HttpRequest, pk: int) -> ExportJob:
    """One of the user's own export jobs; anyone else's is 404, whatever their rights."""
    return get_object_or_404(ExportJob.objects.owned_by(request.user).select_related("region"), pk=pk)


@login_required
def export_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = _export_job(request, pk)
    context = {
        "job": job,
        "running": ExportJob.objects.filter(status=ExportStatus.RUNNING).count(),
        "ahead": export_jobs.export_job_queue_position(job) if job.status == ExportStatus.QUEUED else 0,
        "max_running": settings.EXPORT_MAX_RUNNING,
        "retention_days": settings.IMPORT_FILE_RETENTION_DAYS,
    }
    if request.htmx:  # type: ignore[attr-defined]
        if not job.in_progress:
            return HttpResponse(headers={"HX-Refresh": "true"})
        return render(request, "households/_export_progress.html", context)
    return render(request, "households/export_job.html", context)


@login_required
def export_job_list(request: HttpRequest) -> HttpResponse:
    jobs = ExportJob.objects.owned_by(request.user)[:50]
    context = {"jobs": jobs, "retention_days": settings.IMPORT_FILE_RETENTION_DAYS}
    return render(request, "households/export_job_list.html", context)


@login_required
def export_job_file(request: HttpRequest, pk: int) -> FileResponse:
    job = _export_job(request, pk)
    if job.status != ExportStatus.DONE:
        raise Http404("导出文件不存在或已清除")
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.file_name, content_type=XLSX)


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
            if not import_batch_enqueue_check(batch=batch):
                messages.warning(request, QUEUE_DOWN)
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
    try:
        import_batch_confirm_request(batch=batch, by=request.user)
    except AlreadyClaimed:
        # A double click, or a second tab: the first confirmation is the one that counts.
        messages.info(request, "该批次已确认过，正在导入或已处理，无需重复确认。")
    return redirect("import_batch", pk=batch.pk)


@login_required
@require_POST
def import_batch_recheck(request: HttpRequest, pk: int) -> HttpResponse:
    """重新校验: check an expired batch's file again against the data as it is now."""
    batch = _batch(request, pk)
    if batch.uploaded_by_id != request.user.pk and not request.user.is_superuser:
        raise PermissionDenied("只有上传人可以重新校验")
    try:
        import_batches.import_batch_recheck(batch=batch, by=request.user)
    except AlreadyClaimed:
        messages.info(request, "该批次已在重新校验。")
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
