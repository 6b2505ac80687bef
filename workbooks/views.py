"""Pages of the import pipeline: upload, preview, confirm, 重新校验, undo, and the batch's files."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from workbooks import batches, registers
from workbooks.batches import (
    DISK_FULL,
    QUEUE_DOWN,
    AlreadyClaimed,
    import_batch_confirm_request,
    import_batch_create,
    import_batch_enqueue_check,
    import_batch_rollback,
)
from workbooks.models import ImportBatch, ImportStatus

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="文件类型", widget=forms.RadioSelect)
    file = forms.FileField(label="选择文件（.xlsx 或 .csv）")

    def __init__(self, *args: object, user: Any = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Only the registers the user may import (a superuser, or no user given: all of them).
        choices = [
            (register.name, register.label)
            for register in registers.all_registers()
            if user is None or user.has_perm(register.permission)
        ]
        kind = self.fields["kind"]
        kind.choices = choices  # type: ignore[attr-defined]
        kind.initial = choices[0][0] if choices else None


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    try:
        form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    except OSError:
        # The upload's temporary file could not be written (a full disk): say so, keep nothing.
        form = UploadForm(user=request.user)
        messages.error(request, DISK_FULL)
    if form.is_bound and form.is_valid():
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
    recent = ImportBatch.objects.visible_to(request.user).select_related("uploaded_by")[:20]
    sheets = [
        {"label": register.label, "template": register.template_url(), "export": register.export_url()}
        for register in registers.all_registers()
    ]
    return render(request, "workbooks/import_upload.html", {"form": form, "batches": recent, "sheets": sheets})


def _batch(request: HttpRequest, pk: int) -> ImportBatch:
    return get_object_or_404(ImportBatch.objects.visible_to(request.user).select_related("uploaded_by"), pk=pk)


def _downloadable_batch(request: HttpRequest, pk: int) -> ImportBatch:
    """A batch whose files the user may download; 404 (not 403) for everyone else, and once purged."""
    batch = _batch(request, pk)
    if not registers.get(batch.kind).may_download(batch=batch, user=request.user):
        raise Http404
    return batch


@login_required
def import_batch(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    if request.htmx:  # type: ignore[attr-defined]
        if not batch.in_progress:
            # Finished: reload the whole page, which then shows the preview or the result.
            return HttpResponse(headers={"HX-Refresh": "true"})
        return render(request, "workbooks/_import_progress.html", {"batch": batch})
    register = registers.get(batch.kind)
    preview = register.preview(batch=batch, user=request.user)
    # Each count under its register's name for it; after the first, counts that are all zero are left out.
    counts = [
        {"name": name, "label": register.count_label(name), **counter}
        for position, (name, counter) in enumerate(batch.counts.items())
        if position == 0 or any(counter.values())
    ]
    may_undo = request.user.has_perm(register.undo_permission)
    link = register.records_link()
    context = {"batch": batch, "counts": counts, "may_undo": may_undo, "records_link": link, **preview}
    return render(request, "workbooks/import_batch.html", context)


def _uploaders_batch(request: HttpRequest, pk: int, action: str) -> ImportBatch:
    """A batch only its uploader (or a superuser) may take to its next step."""
    batch = _batch(request, pk)
    if batch.uploaded_by_id != request.user.pk and not request.user.is_superuser:
        raise PermissionDenied(f"只有上传人可以{action}")
    return batch


def _already_moved_on(
    request: HttpRequest, batch: ImportBatch, *, underway: tuple[str, ...], said: str, action: str
) -> None:
    """What a repeated or stale request is told: the step is under way already, or not possible now."""
    batch.refresh_from_db()
    if batch.status in underway:
        messages.info(request, said)
    else:
        messages.error(request, f"该批次当前为“{batch.get_status_display()}”，不能{action}。")


@login_required
@require_POST
def import_batch_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _uploaders_batch(request, pk, "确认导入")
    try:
        import_batch_confirm_request(batch=batch, by=request.user)
    except AlreadyClaimed:
        # A double click, or a second tab: the first confirmation is the one that counts.
        underway = (ImportStatus.APPLYING, ImportStatus.APPLIED)
        said = "该批次已确认过，正在导入或已处理，无需重复确认。"
        _already_moved_on(request, batch, underway=underway, said=said, action="确认导入")
    return redirect("import_batch", pk=batch.pk)


@login_required
@require_POST
def import_batch_recheck(request: HttpRequest, pk: int) -> HttpResponse:
    """重新校验: check an expired batch's file again against the data as it is now."""
    batch = _uploaders_batch(request, pk, "重新校验")
    try:
        batches.import_batch_recheck(batch=batch, by=request.user)
    except AlreadyClaimed:
        underway = (ImportStatus.QUEUED, ImportStatus.PARSING, ImportStatus.READY)
        _already_moved_on(request, batch, underway=underway, said="该批次已在重新校验。", action="重新校验")
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
    from workbooks.errors_workbook import errors_workbook

    batch = _downloadable_batch(request, pk)
    if not batch.error_count:
        raise Http404
    stem = batch.file_name.rsplit(".", 1)[0]
    return _xlsx(errors_workbook(batch), f"{stem}_错误说明.xlsx")


@login_required
def import_batch_file(request: HttpRequest, pk: int) -> FileResponse:
    batch = _downloadable_batch(request, pk)
    return FileResponse(batch.file.open("rb"), as_attachment=True, filename=batch.file_name)
