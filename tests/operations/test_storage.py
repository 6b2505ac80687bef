"""Uploads and exports live in one storage from the environment, reached only through Django's storage API."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files import File
from django.core.files.storage import InMemoryStorage, Storage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from households.excel.export_jobs import export_job_run
from households.excel.models import ExportJob, ExportStatus
from households.models import Household
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household
from tests.households.excel.test_import import check, confirm, family, workbook
from tests.operations.processes import REPOSITORY, current_database_url, with_postgresql, worker_elsewhere
from tests.workbooks.test_failures import wait_until
from workbooks.errors_workbook import errors_workbook
from workbooks.models import ImportBatch, ImportStatus


def settings_in_a_fresh_process(**environment: str) -> str:
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "from django.core.files.storage import default_storage as s; "
        "print(settings.MEDIA_ROOT, type(s._setup() or s._wrapped).__module__)"
    )
    clean = {name: value for name, value in os.environ.items() if not name.startswith("STORAGE_")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPOSITORY,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.base", **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_the_storage_root_comes_from_the_environment(tmp_path: Path) -> None:
    assert settings_in_a_fresh_process(STORAGE_ROOT=str(tmp_path)) == f"{tmp_path} django.core.files.storage.filesystem"
    assert settings_in_a_fresh_process() == f"{REPOSITORY / 'media'} django.core.files.storage.filesystem"


def test_object_storage_is_a_matter_of_configuration() -> None:
    answer = settings_in_a_fresh_process(STORAGE_S3_BUCKET="zhenxing", STORAGE_S3_ENDPOINT_URL="http://127.0.0.1:9")
    assert answer.endswith(" storages.backends.s3")


class PathlessStorage(Storage):
    """Files kept in memory with no local path for any of them, as in object storage."""

    def __init__(self) -> None:
        self.files = InMemoryStorage()

    def _open(self, name: str, mode: str = "rb") -> File:
        return self.files.open(name, mode)

    def _save(self, name: str, content: File) -> str:
        return self.files.save(name, content)

    def delete(self, name: str) -> None:
        self.files.delete(name)

    def exists(self, name: str) -> bool:
        return self.files.exists(name)

    def size(self, name: str) -> int:
        return self.files.size(name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return self.files.listdir(path)


@pytest.fixture
def storage_without_paths(settings: Any) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": f"{__name__}.PathlessStorage"}}
    with pytest.raises(NotImplementedError):
        default_storage.path("anything")


def test_an_import_is_checked_confirmed_and_explained_on_a_storage_without_local_paths(
    storage_without_paths: None, tree: Tree, staff: Staff
) -> None:
    clerk = staff.village_clerk
    batch = check(clerk, workbook(family(tree.village_a1.code, "H001", "张三", 2)))
    assert batch.status == ImportStatus.READY, batch.errors
    assert confirm(batch, clerk).status == ImportStatus.APPLIED
    assert Household.objects.filter(number="H001").exists()

    rows = family(tree.village_a1.code, "H002", "李四", 2)
    rows[-1][7] = "not an id"
    invalid = check(clerk, workbook(rows))
    assert invalid.status == ImportStatus.INVALID
    explained = openpyxl.load_workbook(io.BytesIO(errors_workbook(invalid)))
    # The original table came back from the storage, with the error column added.
    assert explained.sheetnames[0] == invalid.sheet_name != "错误说明"
    assert "李四" in {cell for row in explained.worksheets[0].iter_rows(values_only=True) for cell in row}


def test_an_export_job_is_stored_and_downloaded_on_a_storage_without_local_paths(
    storage_without_paths: None, tree: Tree, staff: Staff
) -> None:
    household(staff.village_clerk, tree.village_a1, number="A1")
    job = export_job_run(
        job_id=ExportJob.objects.create(kind="roster", requested_by=staff.county_viewer, region=tree.county).pk
    )
    assert job.status == ExportStatus.DONE, job.failure
    assert isinstance(job.file.storage, PathlessStorage)
    client = Client()
    client.login(username=staff.county_viewer.username, password=PASSWORD)
    download = client.get(reverse("export_job_file", args=[job.pk]))
    content = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))
    assert rows[1][4] == "A1"


def status_of(batch_id: int) -> str:
    return ImportBatch.objects.values_list("status", flat=True).get(pk=batch_id)


@with_postgresql
def test_an_upload_taken_by_the_web_process_is_checked_and_confirmed_by_a_worker_running_elsewhere(
    transactional_db: None, tree: Tree, staff: Staff, settings: Any, tmp_path: Path
) -> None:
    shared = tmp_path / "shared-storage"
    settings.MEDIA_ROOT = shared
    settings.EXPORT_IMMEDIATE_MAX_HOUSEHOLDS = 0
    elsewhere = tmp_path / "worker-directory"
    client = Client()
    client.login(username=staff.village_clerk.username, password=PASSWORD)
    with worker_elsewhere(
        directory=elsewhere,
        storage_root=shared,
        database_url=current_database_url(),
        redis_url=os.environ["REDIS_URL"],
    ) as log:
        upload = SimpleUploadedFile("花名册.xlsx", workbook(family(tree.village_a1.code, "H001", "张三", 3)))
        response = client.post(reverse("import_upload"), {"kind": "roster", "file": upload})
        batch = ImportBatch.objects.get()
        assert response.status_code == 302
        assert (shared / batch.file.name).is_file()  # where the web process stored it
        assert not (elsewhere / batch.file.name).exists()
        wait_until(
            f"the worker to check the upload\n{log.read_text(errors='replace')[-3000:]}",
            lambda: status_of(batch.pk) in (ImportStatus.READY, ImportStatus.INVALID, ImportStatus.FAILED),
        )
        assert status_of(batch.pk) == ImportStatus.READY, ImportBatch.objects.get(pk=batch.pk).errors

        client.post(reverse("import_batch_confirm", args=[batch.pk]))
        wait_until(
            f"the worker to confirm the batch\n{log.read_text(errors='replace')[-3000:]}",
            lambda: status_of(batch.pk) in (ImportStatus.APPLIED, ImportStatus.FAILED),
        )
        assert status_of(batch.pk) == ImportStatus.APPLIED
        assert Household.objects.get(number="H001").members.count() == 3

        # And back: the worker writes an export into the shared storage, the web process serves it.
        client = Client()
        client.login(username=staff.county_viewer.username, password=PASSWORD)
        response = client.get(reverse("export_download", args=["roster"]))
        job = ExportJob.objects.get()
        assert response["Location"] == reverse("export_job", args=[job.pk])
        wait_until(
            f"the worker to write the export\n{log.read_text(errors='replace')[-3000:]}",
            lambda: ExportJob.objects.get(pk=job.pk).status in (ExportStatus.DONE, ExportStatus.FAILED),
        )
        job.refresh_from_db()
        assert job.status == ExportStatus.DONE, job.failure
        assert (shared / job.file.name).is_file()
        download = client.get(reverse("export_job_file", args=[job.pk]))
        content = b"".join(download.streaming_content)  # type: ignore[attr-defined]
        rows = list(openpyxl.load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))
        assert {row[4] for row in rows[1:]} == {"H001"}
    assert list(elsewhere.iterdir()) == [log]  # the worker kept nothing in its own directory
