"""Uploads and error workbooks are deleted after IMPORT_FILE_RETENTION_DAYS; the batch row stays."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from households.excel.models import ImportKind
from regions.models import User
from tests.conftest import Staff
from workbooks.models import ImportBatch, ImportStatus
from workbooks.retention import import_files_purge
from workbooks.tasks import import_files_purge_task


@pytest.fixture(autouse=True)
def media_in_tmp(settings: pytest.FixtureRequest, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]
    settings.IMPORT_FILE_RETENTION_DAYS = 30  # type: ignore[attr-defined]


def batch_of(user: User, *, age_days: int, status: str = ImportStatus.INVALID) -> ImportBatch:
    batch = ImportBatch(
        kind=ImportKind.ROSTER,
        status=status,
        uploaded_by=user,
        region=user.region,
        file_name="花名册.xlsx",
        file_sha256="0" * 64,
        error_count=1,
        errors=[{"sheet": "花名册", "row": 2, "column": "身份证号", "message": "格式错误", "who": ""}],
    )
    batch.file.save("upload.xlsx", ContentFile(b"PK\x03\x04 not really a workbook"), save=False)
    batch.save()
    # Files derived from an upload would sit next to it (older versions kept a parsed table there).
    Path(f"{batch.file.path}.table").write_bytes(b"parsed")
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - timedelta(days=age_days))
    batch.refresh_from_db()
    return batch


def test_batches_past_retention_lose_their_files_and_keep_their_record(staff: Staff) -> None:
    old = batch_of(staff.village_clerk, age_days=31)
    recent = batch_of(staff.village_clerk, age_days=29)
    old_path = Path(old.file.path)

    result = import_files_purge()

    assert (result.batches, result.files) == (1, 2)
    assert not old_path.exists()
    assert not Path(f"{old_path}.table").exists()
    old.refresh_from_db()
    assert old.file_purged_at is not None and old.error_count == 1
    assert Path(recent.file.path).exists()
    recent.refresh_from_db()
    assert recent.file_purged_at is None


def test_purging_twice_changes_nothing_the_second_time(staff: Staff) -> None:
    batch_of(staff.village_clerk, age_days=40)
    assert import_files_purge().batches == 1
    assert import_files_purge().batches == 0


def test_a_purged_batch_waiting_for_confirmation_expires_and_one_in_progress_is_left_alone(staff: Staff) -> None:
    waiting = batch_of(staff.village_clerk, age_days=40, status=ImportStatus.READY)
    running = batch_of(staff.village_clerk, age_days=40, status=ImportStatus.APPLYING)
    assert import_files_purge().expired == 1
    waiting.refresh_from_db()
    running.refresh_from_db()
    assert waiting.status == ImportStatus.EXPIRED
    assert running.file_purged_at is None and Path(running.file.path).exists()


def test_after_the_purge_the_page_says_so_and_downloads_are_gone(staff: Staff) -> None:
    batch = batch_of(staff.village_clerk, age_days=31)
    import_files_purge()
    client = Client()
    client.force_login(staff.village_clerk)
    page = client.get(reverse("import_batch", args=[batch.pk])).content.decode()
    assert 'data-testid="file-purged"' in page and "按保留期限删除" in page
    assert reverse("import_batch_file", args=[batch.pk]) not in page
    assert reverse("import_batch_errors", args=[batch.pk]) not in page
    assert client.get(reverse("import_batch_file", args=[batch.pk])).status_code == 404
    assert client.get(reverse("import_batch_errors", args=[batch.pk])).status_code == 404


def test_the_command_and_the_beat_task_purge_and_report_counts(staff: Staff, settings: pytest.FixtureRequest) -> None:
    batch_of(staff.village_clerk, age_days=31)
    output = StringIO()
    call_command("purge_expired_files", stdout=output)
    assert "已清除 1 个导入批次的文件" in output.getvalue()
    batch_of(staff.village_clerk, age_days=31)
    assert import_files_purge_task.apply().get() == 1
    schedule = settings.CELERY_BEAT_SCHEDULE  # type: ignore[attr-defined]
    assert any(entry["task"] == "workbooks.tasks.import_files_purge_task" for entry in schedule.values())


def test_the_retention_period_comes_from_the_setting(staff: Staff, settings: pytest.FixtureRequest) -> None:
    batch_of(staff.village_clerk, age_days=8)
    settings.IMPORT_FILE_RETENTION_DAYS = 7  # type: ignore[attr-defined]
    assert import_files_purge().batches == 1


def test_a_file_lost_outside_the_purge_is_a_404_not_an_error(staff: Staff) -> None:
    batch = batch_of(staff.village_clerk, age_days=1)
    Path(batch.file.path).unlink()
    client = Client()
    client.force_login(staff.village_clerk)
    assert client.get(reverse("import_batch_file", args=[batch.pk])).status_code == 404
    assert client.get(reverse("import_batch_errors", args=[batch.pk])).status_code == 404
