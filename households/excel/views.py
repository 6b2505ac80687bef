"""Pages for Excel: templates, exports of the filtered list, uploads, previews, confirm, roll back."""

from __future__ import annotations

import tempfile
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from households import selectors
from households.excel import export as excel_export
from households.excel import export_jobs
from households.excel.models import ExportJob, ExportRecord, ExportStatus, ImportKind
from households.excel.writer import WorkbookKind, rows_workbook_write, template_workbook
from households.forms import HouseholdFilterForm
from households.tasks import export_job_run_task
from regions.models import User
from workbooks.queue import send_task

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _risk_names(user: Any) -> list[str]:
    return excel_export.risk_type_names(user=user)


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
    return _xlsx(template_workbook(cast(WorkbookKind, kind), risk_type_names=_risk_names(request.user)), name)


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
    count = rows_workbook_write(target, workbook_kind, rows, risk_type_names=_risk_names(user))
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
