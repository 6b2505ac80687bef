"""Exports too large for a web request: queued, claimed by one worker, written in chunks, kept, purged.

A job runs the same rows and writer as the immediate export (`export.workbook_rows`,
`writer.rows_workbook_write`), for the filter the owner chose on the list page, read again
through the list page's form. State changes are conditional updates, so a redelivered task,
a sweeper and a worker never act on the same job twice.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Model, Q
from django.forms import Form
from django.http import QueryDict
from django.utils import timezone

from households import selectors
from households.excel import export as excel_export
from households.excel.models import ExportJob, ExportRecord, ExportStatus
from households.excel.writer import WorkbookKind, rows_workbook_write
from households.forms import HouseholdFilterForm
from regions.models import Level, Region, User

logger = logging.getLogger(__name__)

# Rows written between two progress updates (each one also proves the worker is alive).
PROGRESS_EVERY_ROWS = 5000
PERSONAL_DATA_PERMISSION = "households.view_personal_data"


class ExportJobBusy(Exception):
    """The user already has an export queued or running; a second one waits for it."""

    def __init__(self, job: ExportJob) -> None:
        super().__init__(f"export job #{job.pk} is still {job.status}")
        self.job = job


class _JobRefused(Exception):
    """The job cannot be written as asked; the message is shown to its owner."""


class _JobLost(Exception):
    """The job left 生成中 under the worker (the sweeper failed it): stop writing."""


def filter_form(*, user: Any, query: QueryDict) -> HouseholdFilterForm:
    """The list page's filter form for this query string, its village choices scoped to the user."""
    return HouseholdFilterForm(
        query or None,
        villages=selectors.villages_for_filter(user=user),
        risk_types=selectors.risk_types_for_filter(user=user),
    )


def filter_description(form: Form) -> str:
    """What the user picked, in words: 村：大村村；户类型：脱贫户 (empty: no filter)."""
    if not form.is_bound or not form.is_valid():
        return ""
    parts = []
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if name == "sort" or value in (None, "", False):
            continue
        if value is True:
            parts.append(str(field.label))
        elif hasattr(field, "choices") and not isinstance(value, Model):
            parts.append(f"{field.label}：{dict(field.choices).get(value, value)}")
        else:
            parts.append(f"{field.label}：{value}")
    return "；".join(parts)


def filter_values(form: Form) -> dict[str, Any]:
    """The cleaned filter as JSON: choices by value, a village by its code."""
    if not form.is_bound or not form.is_valid():
        return {}
    values = {}
    for name, value in form.cleaned_data.items():
        if value in (None, "", False):
            continue
        values[name] = value.code if isinstance(value, Region) else value
    return values


def export_runs_in_background(*, user: Any, village: Region | None, household_count: int) -> bool:
    """True when the export is above the immediate threshold; one village's export never is."""
    region = getattr(user, "region", None)
    if (village is not None and village.level >= Level.VILLAGE) or (
        region is not None and region.level >= Level.VILLAGE
    ):
        return False
    return household_count > settings.EXPORT_IMMEDIATE_MAX_HOUSEHOLDS


def export_job_create(*, by: User, kind: str, form: HouseholdFilterForm, household_count: int) -> ExportJob:
    """Queue an export of the filtered list for its owner; ExportJobBusy while another one is theirs."""
    active = ExportJob.objects.owned_by(by).active().first()
    if active is not None:
        raise ExportJobBusy(active)
    job = ExportJob(
        kind=kind,
        requested_by=by,
        region=by.region,
        query=form.data.urlencode() if isinstance(form.data, QueryDict) else "",
        filters=filter_values(form),
        description=filter_description(form)[:500],
        household_count=household_count,
        masked=not by.has_perm(PERSONAL_DATA_PERMISSION),
        task_sent_at=timezone.now(),  # the caller sends it once the transaction commits
    )
    job.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        # A second request of the same user won the race between the check and the insert.
        raise ExportJobBusy(ExportJob.objects.owned_by(by).active().get()) from None
    return job


def export_job_run(*, job_id: int) -> ExportJob:
    """Claim a queued job and write its workbook; a job already claimed, or with no free slot, is left alone."""
    job = _claim(job_id)
    if job is None:
        return ExportJob.objects.get(pk=job_id)
    try:
        _write(job)
    except _JobLost:
        _delete_file(job.file.name)
    except _JobRefused as refusal:
        _fail(job, str(refusal))
    except OSError as error:
        logger.exception("export job %s: disk error", job.pk)
        _fail(job, f"写入导出文件失败（{error.strerror or error}），请稍后重新导出")
    except Exception:
        logger.exception("export job %s failed", job.pk)
        _fail(job, "生成导出文件时出错，请重新导出；如仍失败请联系系统管理员")
    return ExportJob.objects.get(pk=job_id)


def _claim(job_id: int) -> ExportJob | None:
    taken = set(ExportJob.objects.filter(status=ExportStatus.RUNNING).values_list("slot", flat=True))
    for slot in range(1, settings.EXPORT_MAX_RUNNING + 1):
        if slot in taken:
            continue
        now = timezone.now()
        try:
            with transaction.atomic():
                claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
                    status=ExportStatus.RUNNING, slot=slot, started_at=now, heartbeat_at=now, progress=0
                )
        except IntegrityError:
            continue  # another worker took this slot a moment ago
        return ExportJob.objects.select_related("requested_by").get(pk=job_id) if claimed else None
    return None


def _write(job: ExportJob) -> None:
    owner = job.requested_by
    form = filter_form(user=owner, query=QueryDict(job.query))
    if form.is_bound and not form.is_valid():
        raise _JobRefused("筛选条件已失效（例如所选村已不在您的管辖范围内），请在农户台账页重新筛选后导出")
    households = selectors.household_list(user=owner, **form.selector_filters())
    reveal = not job.masked and owner.has_perm(PERSONAL_DATA_PERMISSION)
    kind = cast(WorkbookKind, job.kind)
    rows, expected = excel_export.workbook_rows(kind, households=households, reveal_personal_data=reveal)
    now = timezone.localtime()
    job.file.name = f"exports/{now:%Y/%m}/{uuid.uuid4().hex}.xlsx"
    if not ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(file=job.file.name):
        raise _JobLost
    # Written aside (an unnamed file a killed worker leaves nothing of), then stored whole: the storage
    # is shared by every node and may be object storage, which takes a finished file or nothing.
    with tempfile.TemporaryFile() as target:
        progress = _with_progress(rows, job.pk, expected)
        count = rows_workbook_write(target, kind, progress, risk_type_names=excel_export.risk_type_names(user=owner))
        target.seek(0)
        stored = default_storage.save(job.file.name, File(target))
    if stored != job.file.name:  # the storage chose another name: record the one it holds
        job.file.name = stored
        if not ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(file=stored):
            raise _JobLost
    region = job.region
    file_name = excel_export.export_filename(kind, region.name if region else "全部", now)
    with transaction.atomic():
        finished = ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
            status=ExportStatus.DONE, row_count=count, progress=100, file_name=file_name, finished_at=timezone.now()
        )
        if not finished:
            raise _JobLost
        ExportRecord.objects.create(
            kind=job.kind,
            exported_by=owner,
            region=region,
            description=job.query[:500],
            row_count=count,
            masked=not reveal,
        )


def _with_progress(rows: Iterable[dict[str, Any]], job_id: int, expected: int) -> Iterator[dict[str, Any]]:
    """The rows, passing; every PROGRESS_EVERY_ROWS rows the job's progress and heartbeat are updated."""
    for count, row in enumerate(rows, start=1):
        if count % PROGRESS_EVERY_ROWS == 0:
            progress = min(99, count * 100 // max(expected, 1))
            alive = ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).update(
                progress=progress, heartbeat_at=timezone.now()
            )
            if not alive:
                raise _JobLost
        yield row


def _fail(job: ExportJob, reason: str) -> None:
    ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
        status=ExportStatus.FAILED, failure=reason, finished_at=timezone.now()
    )
    _delete_file(job.file.name)


def _delete_file(name: str) -> None:
    if not name:
        return
    try:
        default_storage.delete(name)
    except OSError:
        logger.exception("could not delete export file %s", name)


def export_jobs_waiting(*, now: datetime | None = None, sent_before: datetime | None = None) -> list[int]:
    """Queued jobs a free slot could run now, oldest first, marked as sent: the ones to send to a worker.

    With sent_before, only jobs whose task was last sent before then (the sweeper's re-send of lost tasks).
    """
    running = ExportJob.objects.filter(status=ExportStatus.RUNNING).count()
    free = max(0, settings.EXPORT_MAX_RUNNING - running)
    queued = ExportJob.objects.filter(status=ExportStatus.QUEUED)
    if sent_before is not None:
        queued = queued.filter(Q(task_sent_at__isnull=True) | Q(task_sent_at__lt=sent_before))
    ids = list(queued.order_by("created_at", "pk").values_list("pk", flat=True)[:free])
    ExportJob.objects.filter(pk__in=ids, status=ExportStatus.QUEUED).update(task_sent_at=now or timezone.now())
    return ids


def export_jobs_sweep(*, now: datetime | None = None) -> list[int]:
    """Fail running jobs whose heartbeat stopped; returns queued jobs to (re)send whose task may be lost."""
    now = now or timezone.now()
    minutes = settings.EXPORT_STALE_MINUTES
    stale = ExportJob.objects.filter(status=ExportStatus.RUNNING, heartbeat_at__lt=now - timedelta(minutes=minutes))
    for job in stale:
        failed = ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING, heartbeat_at=job.heartbeat_at).update(
            status=ExportStatus.FAILED,
            failure=f"生成任务中断（超过{minutes}分钟没有进度），请重新导出",
            finished_at=now,
        )
        if failed:
            logger.warning("export job %s: no heartbeat since %s, failed", job.pk, job.heartbeat_at)
            _delete_file(job.file.name)
    # A lost message is re-sent sooner than a silent job is failed: writing a large workbook may pause for minutes.
    return export_jobs_waiting(now=now, sent_before=now - timedelta(seconds=settings.EXPORT_TASK_STALE_SECONDS))


def export_jobs_purge_expired(*, now: datetime | None = None) -> int:
    """Delete the files of exports finished more than IMPORT_FILE_RETENTION_DAYS ago; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.IMPORT_FILE_RETENTION_DAYS)
    purged = 0
    for job in ExportJob.objects.filter(status=ExportStatus.DONE, finished_at__lt=cutoff):
        if ExportJob.objects.filter(pk=job.pk, status=ExportStatus.DONE).update(
            status=ExportStatus.PURGED, purged_at=now
        ):
            _delete_file(job.file.name)
            purged += 1
    return purged


def export_job_queue_position(job: ExportJob) -> int:
    """How many queued jobs are ahead of this one (0: next to start)."""
    return ExportJob.objects.filter(status=ExportStatus.QUEUED, created_at__lt=job.created_at).count()
