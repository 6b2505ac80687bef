"""Exports and indicator computations survive a killed worker, a stopped Redis and a full disk.

Real processes (a redis-server and `celery worker` of the test's own, SIGKILL, a tiny tmpfs), the
same way tests/workbooks/test_failures.py treats imports. Nothing half-written, nothing left
运行中, and a message that says what happened.
"""

from __future__ import annotations

import io
import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessment.engine import indicators_compute
from assessment.models import ComputeRun, IndicatorValue, RecomputeRequest, RunStatus
from assessment.services import compute_progress, compute_run_request
from figures.periods import Quarter
from households.excel.export_jobs import export_job_run, export_jobs_sweep
from households.excel.models import ExportJob, ExportRecord, ExportStatus
from households.tasks import export_job_run_task
from regions.models import User
from tests.assessment import worked_county
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household, income
from tests.workbooks.test_failures import (
    Services,
    backend_waiting_for_lock,
    database_lock,
    free_port,
    stop,
    wait_until,
    with_services,
)
from workbooks.queue import send_task

PERIOD = Quarter(2026, 2)


def signed_in(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def export_files(root: Any) -> list[Path]:
    return [path for path in (Path(root) / "exports").rglob("*") if path.is_file()]


@pytest.fixture
def villages(tree: Tree, staff: Staff, settings: Any) -> None:
    """A few households in two villages; every county export becomes a background job."""
    for number, village in (("A1", tree.village_a1), ("A2", tree.village_a1), ("A3", tree.village_a2)):
        household(staff.township_admin, village, number=number, phone="13812345678")
    settings.EXPORT_IMMEDIATE_MAX_HOUSEHOLDS = 0


def request_export(client: Client) -> ExportJob:
    response = client.get(reverse("export_download", args=["roster"]))
    job = ExportJob.objects.latest("pk")
    assert response["Location"] == reverse("export_job", args=[job.pk])
    return job


def status_of(job: ExportJob) -> str:
    return ExportJob.objects.values_list("status", flat=True).get(pk=job.pk)


# The export's last step, recording who exported what, waits here while another session holds the
# table: the workbook is written and stored, the job's 完成 not yet committed.
HOLD_EXPORT_RECORDS = "LOCK TABLE households_exportrecord IN SHARE MODE"


@with_services
def test_an_export_whose_worker_is_killed_is_swept_to_failed_with_a_message_and_leaves_no_file(
    services: Services, villages: None, staff: Staff, settings: Any
) -> None:
    services.start_redis()
    worker = services.start_worker()
    client = signed_in(staff.county_viewer)

    with database_lock(HOLD_EXPORT_RECORDS) as release:
        job = request_export(client)
        wait_until(
            f"the export to wait before committing\n{services.logs()}",
            lambda: backend_waiting_for_lock("households_exportrecord"),
        )
        assert len(export_files(settings.MEDIA_ROOT)) == 1  # the stored workbook, not yet the job's
        stop(worker)
        release()

    assert status_of(job) == ExportStatus.RUNNING  # its 完成 died with the worker's transaction
    later = timezone.now() + timedelta(minutes=settings.EXPORT_STALE_MINUTES, seconds=1)
    export_jobs_sweep(now=later)

    ended = ExportJob.objects.get(pk=job.pk)
    assert ended.status == ExportStatus.FAILED
    assert ended.failure == f"生成任务中断（超过{settings.EXPORT_STALE_MINUTES}分钟没有进度），请重新导出"
    assert export_files(settings.MEDIA_ROOT) == []
    assert not ExportRecord.objects.exists()
    page = client.get(reverse("export_job", args=[job.pk])).content.decode()
    assert "导出失败：生成任务中断" in page
    assert client.get(reverse("export_job_file", args=[job.pk])).status_code == 404
    # Nothing is stuck: the user may export again at once, and a worker writes it.
    services.start_worker()
    again = request_export(client)
    wait_until(f"the next export\n{services.logs()}", lambda: status_of(again) == ExportStatus.DONE)


@with_services
def test_an_export_whose_worker_is_killed_while_writing_rows_leaves_nothing_in_the_storage(
    services: Services, villages: None, staff: Staff, settings: Any
) -> None:
    services.start_redis()
    worker = services.start_worker()
    viewer = staff.county_viewer

    # The rows read each household's monitoring cases as they are written: holding that table stops the
    # worker half-way through the workbook.
    with database_lock("LOCK TABLE households_monitoringcase IN ACCESS EXCLUSIVE MODE") as release:
        job = ExportJob.objects.create(kind="roster", requested_by=viewer, region=viewer.region)
        assert send_task(export_job_run_task, job.pk)
        wait_until(
            f"the export to wait half-way\n{services.logs()}",
            lambda: backend_waiting_for_lock("households_monitoringcase"),
        )
        writing = ExportJob.objects.get(pk=job.pk)
        assert writing.status == ExportStatus.RUNNING and writing.file.name  # past naming its file
        stop(worker)
        release()

    assert export_files(settings.MEDIA_ROOT) == []  # the half-written workbook was never in the storage
    export_jobs_sweep(now=timezone.now() + timedelta(minutes=settings.EXPORT_STALE_MINUTES, seconds=1))
    ended = ExportJob.objects.get(pk=job.pk)
    assert ended.status == ExportStatus.FAILED and "生成任务中断" in ended.failure
    assert not ExportRecord.objects.exists()


@with_services
def test_an_export_finishes_when_redis_stops_under_it_and_the_worker_serves_again_once_redis_is_back(
    services: Services, villages: None, staff: Staff, settings: Any
) -> None:
    services.start_redis()
    services.start_worker()
    client = signed_in(staff.county_viewer)

    with database_lock(HOLD_EXPORT_RECORDS) as release:
        job = request_export(client)
        wait_until(
            f"the export to wait before committing\n{services.logs()}",
            lambda: backend_waiting_for_lock("households_exportrecord"),
        )
        assert services.redis is not None
        stop(services.redis)
        release()

    wait_until(f"the export to finish without Redis\n{services.logs()}", lambda: status_of(job) == ExportStatus.DONE)
    assert ExportRecord.objects.count() == 1
    download = client.get(reverse("export_job_file", args=[job.pk]))
    content = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))
    assert {row[4] for row in rows[1:]} == {"A1", "A2", "A3"}

    services.start_redis()
    other = signed_in(staff.county_admin)
    again = request_export(other)
    wait_until(
        f"the worker to reconnect and write the next export\n{services.logs()}",
        lambda: status_of(again) == ExportStatus.DONE,
        seconds=90,
    )


def values() -> list[tuple[Any, ...]]:
    """Every indicator value without its timestamp: what a fault-free run must reproduce."""
    return sorted(IndicatorValue.objects.values_list("region_id", "indicator", "year", "quarter", "numerator", "value"))


@with_services
def test_a_computation_finishes_with_the_fault_free_values_when_redis_stops_under_it(
    services: Services, tree: Tree, staff: Staff
) -> None:
    households = worked_county.build(tree, staff.county_admin)
    indicators_compute(scope=tree.county, period=PERIOD)
    before = values()
    income(staff.county_admin, households["H4"], "2026Q2", wages_migrant_work="5000")
    RecomputeRequest.objects.all().delete()
    services.start_redis()
    services.start_worker()

    # Another session holds one of the county's values: the run waits inside its transaction,
    # before it replaces the values and reports its last progress (to Redis, which is gone by then).
    with database_lock("SELECT id FROM assessment_indicatorvalue WHERE region_id = %s FOR UPDATE", tree.county.pk) as (
        release
    ):
        run = compute_run_request(scope=tree.county, period=PERIOD, by=staff.county_admin)
        wait_until(
            f"the run to wait for the lock\n{services.logs()}",
            lambda: backend_waiting_for_lock('DELETE FROM "assessment_indicatorvalue"'),
        )
        assert services.redis is not None
        stop(services.redis)
        release()

    wait_until(
        f"the run to end\n{services.logs()}",
        lambda: ComputeRun.objects.get(pk=run.pk).status in (RunStatus.DONE, RunStatus.FAILED),
    )
    finished = ComputeRun.objects.get(pk=run.pk)
    assert finished.status == RunStatus.DONE, finished.message
    assert compute_progress(finished)["percent"] == 100
    computed = values()
    assert computed != before  # the run took H4's new income into account
    indicators_compute(scope=tree.county, period=PERIOD)  # the same figures, computed with nothing failing
    assert values() == computed
    county = IndicatorValue.objects.get(region=tree.county, indicator="entry_progress", year=2026, quarter=2)
    assert county.value == Decimal("1.0000")


@pytest.mark.django_db
def test_the_progress_of_a_computation_reads_without_redis(tree: Tree, staff: Staff, settings: Any) -> None:
    run = ComputeRun.objects.create(scope=tree.county, year=2026, quarter=2, status=RunStatus.RUNNING)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    assert compute_progress(run) == {"done": 0, "total": 1, "label": "进度暂时无法读取", "percent": 0}


def test_an_export_that_fills_the_disk_fails_in_chinese_and_leaves_no_partial_file(
    full_disk: Path,
    villages: None,
    staff: Staff,
) -> None:
    # Leave the export a few kilobytes: its workbook (about 10 KB) cannot be stored whole.
    filler = full_disk / "filler"
    with filler.open("wb") as target:
        target.write(b"\0" * (shutil.disk_usage(full_disk).free - 4096))
    job = ExportJob.objects.create(kind="roster", requested_by=staff.county_viewer, region=staff.county_viewer.region)

    ended = export_job_run(job_id=job.pk)

    assert ended.status == ExportStatus.FAILED
    assert ended.failure == "写入导出文件失败（No space left on device），请稍后重新导出"
    assert export_files(full_disk) == []
    assert not default_storage.exists(ended.file.name)
    assert not ExportRecord.objects.exists()
    filler.unlink()
    assert (
        export_job_run(
            job_id=ExportJob.objects.create(
                kind="roster", requested_by=staff.county_admin, region=staff.county_admin.region
            ).pk
        ).status
        == ExportStatus.DONE
    )
