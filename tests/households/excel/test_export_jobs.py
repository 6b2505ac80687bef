"""Large exports as background jobs: the threshold, the same workbook, owner-only files, caps, sweeping, purging."""

from __future__ import annotations

import io
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from households.excel import export_jobs
from households.excel.export_jobs import (
    export_job_run,
    export_jobs_purge_expired,
    export_jobs_sweep,
    export_jobs_waiting,
)
from households.excel.models import ExportJob, ExportRecord, ExportStatus
from regions.models import User
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household, income


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def county(tree: Tree, staff: Staff) -> None:
    """Three households in township A, one in township B, each with a quarter of income."""
    for number, village in (("A1", tree.village_a1), ("A2", tree.village_a1), ("A3", tree.village_a2)):
        target = household(staff.township_admin, village, number=number, phone="13812345678")
        income(staff.township_admin, target, "2025Q1", wages_migrant_work="3000")
    other = household(staff.other_township_admin, tree.village_b1, number="B1", phone="13912345678")
    income(staff.other_township_admin, other, "2025Q1", wages_other="100")


def client_for(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def export(client: Client, kind: str = "roster", query: str = "") -> Any:
    return client.get(reverse("export_download", args=[kind]) + (f"?{query}" if query else ""))


def sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return list(book.worksheets[0].iter_rows(values_only=True))


def job_content(job: ExportJob) -> bytes:
    with default_storage.open(job.file.name, "rb") as file:
        return file.read()


def export_files() -> list[Path]:
    return list((Path(django_settings.MEDIA_ROOT) / "exports").rglob("*.xlsx"))


def queued_job(user: User, **fields: Any) -> ExportJob:
    return ExportJob.objects.create(kind="roster", requested_by=user, region=user.region, **fields)


def test_a_county_export_above_the_threshold_becomes_a_job(county: None, staff: Staff, settings: Any) -> None:
    settings.EXPORT_IMMEDIATE_MAX_HOUSEHOLDS = 3
    response = export(client_for(staff.county_viewer))
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("export_job", args=[job.pk])
    assert (job.status, job.household_count, job.requested_by, job.masked) == (
        ExportStatus.QUEUED,
        4,
        staff.county_viewer,
        True,
    )
    assert not ExportRecord.objects.exists()  # recorded when the worker has written it


def test_at_or_below_the_threshold_the_export_is_immediate(county: None, staff: Staff, settings: Any) -> None:
    settings.EXPORT_IMMEDIATE_MAX_HOUSEHOLDS = 4
    response = export(client_for(staff.county_viewer))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    assert not ExportJob.objects.exists()
    assert ExportRecord.objects.get().exported_by == staff.county_viewer


def test_a_villages_export_is_immediate_whatever_its_size(
    county: None, tree: Tree, staff: Staff, settings: Any
) -> None:
    settings.EXPORT_IMMEDIATE_MAX_HOUSEHOLDS = 0
    assert export(client_for(staff.village_clerk)).status_code == 200
    assert export(client_for(staff.county_viewer), query=f"village={tree.village_a1.pk}").status_code == 200
    assert not ExportJob.objects.exists()
    assert ExportRecord.objects.count() == 2


@pytest.mark.parametrize("kind", ["roster", "income"])
def test_the_background_workbook_is_the_immediate_one(
    county: None, tree: Tree, staff: Staff, settings: Any, kind: str
) -> None:
    client = client_for(staff.county_viewer)
    query = "household_type=lifted&sort=-number"
    settings.EXPORT_IMMEDIATE_MAX_HOUSEHOLDS = 100
    immediate = b"".join(export(client, kind, query).streaming_content)
    settings.EXPORT_IMMEDIATE_MAX_HOUSEHOLDS = 1
    export(client, kind, query)
    job = export_job_run(job_id=ExportJob.objects.get().pk)
    assert job.status == ExportStatus.DONE, job.failure
    rows = sheet_rows(job_content(job))
    assert rows == sheet_rows(immediate)
    assert len(rows) - 1 == job.row_count == (8 if kind == "roster" else 4)
    if kind == "roster":
        assert "13812345678" not in str(rows) and "138****5678" in str(rows)
        assert [row[4] for row in rows[1:]][::2] == ["B1", "A3", "A2", "A1"]  # the list's order, -number
    assert job.description == "户类型：脱贫户" and job.filters == {"household_type": "lifted", "sort": "-number"}
    records = ExportRecord.objects.order_by("pk")
    assert [(r.row_count, r.masked, r.description) for r in records] == [(job.row_count, True, query)] * 2


def test_a_background_export_keeps_the_users_scope(county: None, staff: Staff, settings: Any) -> None:
    settings.EXPORT_IMMEDIATE_MAX_HOUSEHOLDS = 1
    export(client_for(staff.township_admin))
    job = export_job_run(job_id=ExportJob.objects.get().pk)
    numbers = {row[4] for row in sheet_rows(job_content(job))[1:]}
    assert numbers == {"A1", "A2", "A3"}


def test_only_the_owner_opens_and_downloads_the_job(county: None, staff: Staff, settings: Any) -> None:
    settings.EXPORT_IMMEDIATE_MAX_HOUSEHOLDS = 1
    owner = client_for(staff.county_viewer)
    export(owner)
    job = export_job_run(job_id=ExportJob.objects.get().pk)
    page = owner.get(reverse("export_job", args=[job.pk])).content.decode()
    assert "已完成" in page and reverse("export_job_file", args=[job.pk]) in page
    response = owner.get(reverse("export_job_file", args=[job.pk]))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert content == job_content(job)
    for other in (staff.county_admin, staff.other_township_admin, staff.superuser):
        client = client_for(other)
        assert client.get(reverse("export_job", args=[job.pk])).status_code == 404
        assert client.get(reverse("export_job_file", args=[job.pk])).status_code == 404
        assert f"#{job.pk}" not in client.get(reverse("export_jobs")).content.decode()
    assert f"#{job.pk}" in owner.get(reverse("export_jobs")).content.decode()


def test_a_second_export_of_the_same_user_waits_for_the_first(county: None, staff: Staff, settings: Any) -> None:
    settings.EXPORT_IMMEDIATE_MAX_HOUSEHOLDS = 1
    client = client_for(staff.county_viewer)
    export(client)
    first = ExportJob.objects.get()
    response = export(client, "income")
    assert response.status_code == 302 and response["Location"] == reverse("export_job", args=[first.pk])
    page = client.get(response["Location"]).content.decode()
    assert f"您的导出#{first.pk}（花名册）还在排队中" in page and "每人同时只能进行一个导出" in page
    assert ExportJob.objects.count() == 1
    export(client_for(staff.county_admin))  # another user is not held up
    assert ExportJob.objects.count() == 2


def test_the_database_refuses_two_active_jobs_of_one_user(staff: Staff) -> None:
    queued_job(staff.county_viewer)
    with pytest.raises(IntegrityError), transaction.atomic():
        queued_job(staff.county_viewer)


def test_beyond_the_global_cap_a_job_stays_queued_and_the_page_says_why(
    county: None, staff: Staff, settings: Any
) -> None:
    settings.EXPORT_IMMEDIATE_MAX_HOUSEHOLDS = 1
    settings.EXPORT_MAX_RUNNING = 1
    busy = queued_job(staff.county_admin, status=ExportStatus.RUNNING, slot=1, heartbeat_at=timezone.now())
    client = client_for(staff.county_viewer)
    export(client)
    job = ExportJob.objects.get(requested_by=staff.county_viewer)
    assert export_job_run(job_id=job.pk).status == ExportStatus.QUEUED
    assert export_jobs_waiting() == []
    page = client.get(reverse("export_job", args=[job.pk])).content.decode()
    assert "全系统同时最多生成 1 个大型导出，当前已满" in page
    ExportJob.objects.filter(pk=busy.pk).update(status=ExportStatus.DONE)
    # The finishing export's task hands the free slot on at once.
    assert export_jobs_waiting() == [job.pk]
    assert export_job_run(job_id=job.pk).status == ExportStatus.DONE


def test_the_sweeper_resends_only_tasks_that_seem_lost(staff: Staff, settings: Any) -> None:
    settings.EXPORT_STALE_MINUTES = 10
    job = queued_job(staff.county_viewer, task_sent_at=timezone.now())
    later = timezone.now() + timedelta(minutes=11)
    assert export_jobs_sweep() == []
    assert export_jobs_sweep(now=later) == [job.pk]
    assert export_jobs_sweep(now=later) == []  # just sent again


def test_a_lost_export_task_is_resent_within_minutes_as_an_import_check_is(staff: Staff) -> None:
    # The default settings: a lost message must not leave the clerk waiting ten minutes.
    sent = timezone.now()
    job = queued_job(staff.county_viewer, task_sent_at=sent)
    assert export_jobs_sweep(now=sent + timedelta(minutes=2)) == []
    assert export_jobs_sweep(now=sent + timedelta(minutes=4)) == [job.pk]
    assert django_settings.EXPORT_TASK_STALE_SECONDS == django_settings.IMPORT_TASK_STALE_SECONDS


def test_two_running_jobs_never_share_a_slot(staff: Staff) -> None:
    queued_job(staff.county_admin, status=ExportStatus.RUNNING, slot=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        queued_job(staff.county_viewer, status=ExportStatus.RUNNING, slot=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        queued_job(staff.county_viewer, status=ExportStatus.RUNNING)


@pytest.mark.parametrize(
    "query",
    ["village=999999", "village=abc", "household_type=bogus", "category=nope", "risk=sometimes"],
)
def test_an_invalid_filter_is_an_error_never_the_whole_county(
    county: None, staff: Staff, settings: Any, query: str
) -> None:
    settings.EXPORT_IMMEDIATE_MAX_HOUSEHOLDS = 1
    client = client_for(staff.county_viewer)
    response = export(client, "roster", query)
    assert response.status_code == 302 and response["Location"] == f"{reverse('household_list')}?{query}"
    page = client.get(response["Location"]).content.decode()
    assert "筛选条件有误，未导出" in page and 'data-testid="filter-errors"' in page
    assert not ExportJob.objects.exists() and not ExportRecord.objects.exists()


def test_another_townships_village_is_an_invalid_filter(county: None, tree: Tree, staff: Staff) -> None:
    response = export(client_for(staff.township_admin), "roster", f"village={tree.village_b1.pk}")
    assert response.status_code == 302
    assert not ExportRecord.objects.exists()


def test_running_a_job_twice_writes_it_once(county: None, staff: Staff) -> None:
    job = queued_job(staff.county_viewer)
    first = export_job_run(job_id=job.pk)
    assert first.status == ExportStatus.DONE
    content = job_content(first)
    again = export_job_run(job_id=job.pk)
    assert (again.status, again.file.name, again.finished_at) == (ExportStatus.DONE, first.file.name, first.finished_at)
    assert job_content(again) == content
    assert ExportRecord.objects.count() == 1
    assert len(export_files()) == 1


def test_a_job_another_worker_is_running_is_left_alone(county: None, staff: Staff) -> None:
    job = queued_job(staff.county_viewer, status=ExportStatus.RUNNING, slot=1, heartbeat_at=timezone.now())
    assert export_job_run(job_id=job.pk).status == ExportStatus.RUNNING
    assert not ExportRecord.objects.exists()


def test_a_running_job_without_heartbeat_is_swept_to_failed(staff: Staff, settings: Any) -> None:
    settings.EXPORT_STALE_MINUTES = 10
    now = timezone.now()
    partial = default_storage.save("exports/partial.xlsx", io.BytesIO(b"PK\x03\x04"))
    stuck = queued_job(
        staff.county_viewer, status=ExportStatus.RUNNING, slot=1, heartbeat_at=now - timedelta(minutes=11), file=partial
    )
    alive = queued_job(staff.county_admin, status=ExportStatus.RUNNING, slot=2, heartbeat_at=now - timedelta(minutes=9))
    export_jobs_sweep(now=now)
    stuck.refresh_from_db()
    alive.refresh_from_db()
    assert stuck.status == ExportStatus.FAILED and "超过10分钟没有进度" in stuck.failure
    assert not default_storage.exists(partial)
    assert alive.status == ExportStatus.RUNNING
    # The worker that lost it cannot finish it afterwards.
    assert export_job_run(job_id=stuck.pk).status == ExportStatus.FAILED


def test_a_job_swept_while_writing_stops_and_leaves_no_file(
    county: None, staff: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_jobs, "PROGRESS_EVERY_ROWS", 1)
    job = queued_job(staff.county_viewer)
    real = export_jobs._with_progress

    def swept_midway(rows: Any, job_id: int, expected: int) -> Any:
        ExportJob.objects.filter(pk=job_id).update(status=ExportStatus.FAILED, failure="swept")
        return real(rows, job_id, expected)

    monkeypatch.setattr(export_jobs, "_with_progress", swept_midway)
    result = export_job_run(job_id=job.pk)
    assert (result.status, result.failure) == (ExportStatus.FAILED, "swept")
    assert not export_files()
    assert not ExportRecord.objects.exists()


def test_a_disk_error_fails_the_job_with_a_reason_and_deletes_the_partial_file(
    county: None, staff: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(target: Any, *args: Any, **kwargs: Any) -> int:
        target.write(b"PK\x03\x04 partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_jobs, "rows_workbook_write", full_disk)
    job = export_job_run(job_id=queued_job(staff.county_viewer).pk)
    assert job.status == ExportStatus.FAILED
    assert job.failure == "写入导出文件失败（No space left on device），请稍后重新导出"
    assert not export_files()
    assert not ExportRecord.objects.exists()
    page = client_for(staff.county_viewer).get(reverse("export_job", args=[job.pk])).content.decode()
    assert "导出失败：写入导出文件失败" in page


def test_files_past_the_retention_period_are_purged(county: None, staff: Staff, settings: Any) -> None:
    settings.IMPORT_FILE_RETENTION_DAYS = 30
    old = export_job_run(job_id=queued_job(staff.county_viewer).pk)
    recent = export_job_run(job_id=queued_job(staff.county_admin).pk)
    now = timezone.now()
    ExportJob.objects.filter(pk=old.pk).update(finished_at=now - timedelta(days=31))
    assert export_jobs_purge_expired(now=now) == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, old.purged_at) == (ExportStatus.PURGED, now)
    assert not default_storage.exists(old.file.name)
    assert recent.status == ExportStatus.DONE and default_storage.exists(recent.file.name)
    client = client_for(staff.county_viewer)
    assert client.get(reverse("export_job_file", args=[old.pk])).status_code == 404
    assert "按保留期限清除" in client.get(reverse("export_job", args=[old.pk])).content.decode()
    assert export_jobs_purge_expired(now=now) == 0


def test_a_large_export_is_written_by_the_task_queue(
    transactional_db: None, celery_worker: None, tree: Tree, staff: Staff, settings: Any
) -> None:
    for number in ("A1", "A2"):
        household(staff.village_clerk, tree.village_a1, number=number)
    settings.EXPORT_IMMEDIATE_MAX_HOUSEHOLDS = 1
    client = client_for(staff.county_viewer)
    response = export(client)
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("export_job", args=[job.pk])
    deadline = time.monotonic() + 60
    while job.status != ExportStatus.DONE and time.monotonic() < deadline:
        assert job.status not in (ExportStatus.FAILED, ExportStatus.PURGED), job.failure
        time.sleep(0.2)
        job.refresh_from_db()
    assert job.status == ExportStatus.DONE
    download = client.get(reverse("export_job_file", args=[job.pk]))
    content = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    assert {row[4] for row in sheet_rows(content)[1:]} == {"A1", "A2"}
