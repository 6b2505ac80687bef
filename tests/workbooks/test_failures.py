"""Imports survive broken infrastructure: a down broker, a killed worker, a full disk.

Real processes: a redis-server and `celery worker` started by the test, SIGKILL, a tiny tmpfs.
The broker and worker tests need the PostgreSQL + Redis leg (scripts/with-services).
"""

from __future__ import annotations

import gc
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from conftest import missing_requirement
from households.models import Household
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree
from tests.households.excel.test_import import check, confirm, family, workbook
from workbooks.batches import (
    DISK_FULL,
    MAX_ATTEMPTS,
    QUEUE_DOWN,
    import_batch_confirm_request,
    import_batch_create,
    import_batch_enqueue_check,
    import_batches_sweep,
)
from workbooks.models import ImportBatch, ImportStatus

REPOSITORY = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 60

with_services = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")),
    reason="needs PostgreSQL and Redis: runs on the scripts/with-services leg",
)


def wait_until(what: str, condition: Callable[[], Any], *, seconds: float = WAIT_SECONDS) -> Any:
    """Poll until condition() is truthy and return it; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conversation:
            conversation.sendall(b"PING\r\n")
            return conversation.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process started in its own session, with everything it started."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


class Services:
    """A Redis of the test's own (started and stopped at will) and `celery worker` processes on it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.redis: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        # The worker reads uploads from the MEDIA_ROOT the test set: a settings module says so.
        (directory / "failure_settings.py").write_text(
            f"from config.settings.test import *  # noqa: F403\nMEDIA_ROOT = {str(django_settings.MEDIA_ROOT)!r}\n"
        )

    def start_redis(self) -> None:
        redis_server = shutil.which("redis-server")
        if redis_server is None:
            missing_requirement("redis-server (apt-get install redis-server)")
        self.redis = subprocess.Popen(
            [redis_server, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until("redis-server to answer PING", lambda: redis_answers(self.port), seconds=10)

    def start_worker(self) -> subprocess.Popen[bytes]:
        test_database = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{connection.settings_dict['NAME']}")
        environment = {
            **os.environ,
            "DATABASE_URL": test_database.geturl(),
            "REDIS_URL": self.url,
            "DJANGO_SETTINGS_MODULE": "failure_settings",
            "PYTHONPATH": os.pathsep.join([str(self.directory), str(REPOSITORY)]),
        }
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"]
        command += [
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"failures{len(self.workers)}@%h",
        ]
        with (self.directory / f"worker-{len(self.workers)}.log").open("wb") as log:
            worker = subprocess.Popen(
                command, cwd=REPOSITORY, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.workers.append(worker)
        return worker

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace")[-3000:] for path in sorted(self.directory.glob("*.log")))

    def stop_all(self) -> None:
        for process in [*self.workers, *([self.redis] if self.redis else [])]:
            stop(process)


@contextmanager
def broker(url: str) -> Iterator[None]:
    """Point this process's Celery app (the web process's sender) at another broker URL."""
    previous = celery_app.conf.broker_url
    # send_task opens a connection from the configured URL for every message: no pool to reset.
    celery_app.conf.update(broker_url=url)
    try:
        yield
    finally:
        celery_app.conf.update(broker_url=previous)


@pytest.fixture
def services(transactional_db: None, settings: Any, tmp_path: Path) -> Iterator[Services]:
    """A Redis on a port nothing listens on yet, this process sending to it; processes killed afterwards."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    started = Services(tmp_path)
    try:
        with broker(started.url):
            yield started
    finally:
        started.stop_all()


@contextmanager
def database_lock(sql: str, *params: Any) -> Iterator[Callable[[], None]]:
    """Hold what `sql` locks in another connection until the yielded release() (or the block's end)."""
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{connection.settings_dict['NAME']}").geturl()
    holder = psycopg.connect(url)
    holder.execute(sql, params)

    def release() -> None:
        if not holder.closed:
            holder.rollback()
            holder.close()

    try:
        yield release
    finally:
        release()


def backend_waiting_for_lock(query_fragment: str) -> bool:
    """A database session (the worker's) is blocked on a lock in a statement containing query_fragment."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE %s",
            [f"%{query_fragment}%"],
        )
        return bool(cursor.fetchone()[0])


def status_of(batch_id: int) -> str:
    return ImportBatch.objects.values_list("status", flat=True).get(pk=batch_id)


def sweep_until_resent(services: Services) -> dict[str, int]:
    """Run the beat's sweep until it re-sends something (the dead task's locks go with its session)."""
    return wait_until(f"the sweeper to re-send the batch\n{services.logs()}", lambda: import_batches_sweep()["resent"])


@with_services
def test_an_upload_while_redis_is_down_answers_at_once_and_the_sweeper_queues_it_later(
    services: Services, tree: Tree, staff: Staff
) -> None:
    client = Client()
    client.login(username=staff.village_clerk.username, password=PASSWORD)
    upload = SimpleUploadedFile("花名册.xlsx", workbook(family(tree.village_a1.code, "H001", "张三")))

    started = time.monotonic()
    response = client.post(reverse("import_upload"), {"kind": "roster", "file": upload})
    assert time.monotonic() - started < 5

    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("import_batch", args=[batch.pk])
    assert QUEUE_DOWN in client.get(response["Location"]).content.decode()
    assert (batch.status, batch.task_sent_at) == (ImportStatus.QUEUED, None)

    # The beat runs while Redis is still down: the batch stays queued, and the sweep is quick.
    after_grace = timezone.now() + timedelta(seconds=31)
    started = time.monotonic()
    assert import_batches_sweep(now=after_grace) == {"resent": 0, "failed": 0}
    assert time.monotonic() - started < 5
    assert ImportBatch.objects.get(pk=batch.pk).task_sent_at is None

    services.start_redis()
    services.start_worker()
    assert import_batches_sweep(now=after_grace)["resent"] == 1
    assert ImportBatch.objects.get(pk=batch.pk).task_sent_at is not None
    wait_until(
        f"the worker to check the batch\n{services.logs()}",
        lambda: status_of(batch.pk) in (ImportStatus.READY, ImportStatus.INVALID),
    )
    assert status_of(batch.pk) == ImportStatus.READY


@with_services
def test_a_confirmation_whose_worker_is_killed_writes_nothing_and_is_sent_again(
    services: Services, settings: Any, tree: Tree, staff: Staff
) -> None:
    assert settings.IMPORT_TASK_STALE_SECONDS <= 300  # "within minutes" with the default too
    settings.IMPORT_TASK_STALE_SECONDS = 1
    clerk = staff.village_clerk
    rows = family(tree.village_a1.code, "H001", "张三", 2)
    confirm(check(clerk, workbook(rows)), clerk)
    for row in rows:
        row[5] = "13999999999"
    batch = check(clerk, workbook(rows))
    assert batch.status == ImportStatus.READY, batch.errors
    services.start_redis()
    worker = services.start_worker()

    # A clerk's edit holds the household's row: the confirmation waits inside its transaction.
    with database_lock("SELECT id FROM households_household WHERE number = 'H001' FOR UPDATE") as release:
        import_batch_confirm_request(batch=batch, by=clerk)
        wait_until(
            f"the confirmation to wait for the household's lock\n{services.logs()}",
            lambda: backend_waiting_for_lock("FOR UPDATE"),
        )
        stop(worker)
        release()

    resent = sweep_until_resent(services)
    assert resent == 1
    refreshed = ImportBatch.objects.get(pk=batch.pk)
    assert (refreshed.status, refreshed.attempts) == (ImportStatus.APPLYING, 1)  # one delivery started so far
    assert Household.objects.get(number="H001").phone == "13800000000"
    assert Household.history.filter(history_change_reason=batch.history_reason).count() == 0

    services.start_worker()
    wait_until(
        f"the re-sent confirmation to finish\n{services.logs()}",
        lambda: status_of(batch.pk) == ImportStatus.APPLIED,
    )
    assert Household.objects.get(number="H001").phone == "13999999999"
    assert ImportBatch.objects.get(pk=batch.pk).attempts == 2


@with_services
def test_a_check_whose_worker_is_killed_is_queued_again_and_finishes(
    services: Services, settings: Any, tree: Tree, staff: Staff
) -> None:
    settings.IMPORT_TASK_STALE_SECONDS = 1
    services.start_redis()
    worker = services.start_worker()
    content = workbook(family(tree.village_a1.code, "H001", "张三"))

    # Another batch's check holds the staging table: this check waits after parsing, in its transaction.
    with database_lock("LOCK TABLE households_stagedrow IN SHARE MODE") as release:
        upload = SimpleUploadedFile("花名册.xlsx", content)
        batch = import_batch_create(by=staff.village_clerk, kind="roster", upload=upload)
        assert import_batch_enqueue_check(batch=batch)
        wait_until(
            f"the check to wait for the staging table\n{services.logs()}",
            lambda: backend_waiting_for_lock("households_stagedrow"),
        )
        assert status_of(batch.pk) == ImportStatus.PARSING
        stop(worker)
        release()

    assert sweep_until_resent(services) == 1
    assert status_of(batch.pk) == ImportStatus.QUEUED
    services.start_worker()
    wait_until(f"the re-sent check to finish\n{services.logs()}", lambda: status_of(batch.pk) == ImportStatus.READY)
    assert ImportBatch.objects.get(pk=batch.pk).attempts == 2


@pytest.mark.parametrize("status", [ImportStatus.PARSING, ImportStatus.APPLYING])
def test_a_task_interrupted_for_the_last_time_ends_failed_with_a_reason(
    settings: Any, staff: Staff, status: str
) -> None:
    batch = ImportBatch.objects.create(
        kind="roster",
        status=status,
        uploaded_by=staff.village_clerk,
        applied_by=staff.village_clerk,
        file="imports/never-read.xlsx",
        file_name="花名册.xlsx",
        attempts=MAX_ATTEMPTS,
        heartbeat_at=timezone.now() - timedelta(seconds=settings.IMPORT_TASK_STALE_SECONDS + 1),
    )
    assert import_batches_sweep() == {"resent": 0, "failed": 1}
    ended = ImportBatch.objects.get(pk=batch.pk)
    assert ended.status == ImportStatus.FAILED
    assert "多次中断" in ended.refusal and "未写入任何数据" in ended.refusal


@pytest.fixture
def full_disk(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """MEDIA_ROOT on a 256 KB tmpfs, unmounted afterwards."""
    mount_point = tmp_path / "media"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        missing_requirement(f"mounting a tmpfs (needs root): {mounted.stderr.decode(errors='replace').strip()}")
    settings.MEDIA_ROOT = str(mount_point)
    try:
        yield mount_point
    finally:
        # A file still open (a failed test's) makes umount refuse: detach it lazily then.
        if subprocess.run(["umount", str(mount_point)], check=False).returncode != 0:
            subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


def files_under(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()]


def test_an_upload_that_fills_the_disk_is_refused_in_chinese_and_leaves_no_file(full_disk: Path, staff: Staff) -> None:
    client = Client()
    client.login(username=staff.village_clerk.username, password=PASSWORD)
    too_big = SimpleUploadedFile("花名册.csv", os.urandom(400 * 1024))

    response = client.post(reverse("import_upload"), {"kind": "roster", "file": too_big})

    assert response.status_code == 200
    assert DISK_FULL in response.content.decode()
    assert not ImportBatch.objects.exists()
    assert files_under(full_disk) == []
    usage = shutil.disk_usage(full_disk)
    assert usage.used < 16 * 1024, usage
    # The space is free again: a file that fits is stored.
    fits = import_batch_create(by=staff.village_clerk, kind="roster", upload=SimpleUploadedFile("花名册.csv", b"x"))
    assert files_under(full_disk) == [Path(fits.file.path)]


def test_an_upload_whose_temporary_file_fills_the_disk_is_refused_in_chinese(
    full_disk: Path, staff: Staff, settings: Any
) -> None:
    # Django writes an upload over FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file before the view runs.
    settings.FILE_UPLOAD_TEMP_DIR = str(full_disk)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = Client()
    client.login(username=staff.village_clerk.username, password=PASSWORD)
    too_big = SimpleUploadedFile("花名册.csv", os.urandom(400 * 1024))

    response = client.post(reverse("import_upload"), {"kind": "roster", "file": too_big})

    assert response.status_code == 200
    assert DISK_FULL in response.content.decode()
    assert not ImportBatch.objects.exists()
    del response
    gc.collect()
    assert files_under(full_disk) == []
