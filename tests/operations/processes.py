"""Real processes for the operations tests: a PostgreSQL cluster of the test's own and a gunicorn on it.

Like scripts/with-services, but owned by one test, so it can stop and start PostgreSQL at will.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection

from conftest import missing_requirement
from tests.workbooks.test_failures import free_port, stop, wait_until

REPOSITORY = Path(__file__).resolve().parents[2]

with_postgresql = pytest.mark.skipif(
    urlsplit(os.environ.get("DATABASE_URL", "")).scheme not in {"postgres", "postgresql"},
    reason="needs PostgreSQL: runs on the scripts/with-services leg",
)


def postgresql_binaries() -> Path:
    """The newest Debian-packaged PostgreSQL's bin directory, as scripts/with-services picks it."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name))
    found = [path for path in found if (path / "initdb").exists() and (path / "pg_ctl").exists()]
    if not found:
        missing_requirement("PostgreSQL server binaries (apt-get install postgresql)")
    return found[-1]


def current_database_url() -> str:
    """DATABASE_URL naming the database this test runs in (pytest-django's test_… copy)."""
    return urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{connection.settings_dict['NAME']}").geturl()


class Cluster:
    """initdb, pg_ctl start/stop; run as the postgres user when the tests run as root (PostgreSQL refuses root)."""

    def __init__(self) -> None:
        self.binaries = postgresql_binaries()
        self.directory = Path(tempfile.mkdtemp(prefix="zhenxing-cluster-"))
        self.directory.chmod(0o755)
        self.data = self.directory / "data"
        self.port = free_port()
        self.url = f"postgres://zhenxing@127.0.0.1:{self.port}/zhenxing"
        self.as_postgres: list[str] = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.directory, "postgres")
        self.run("initdb", "-D", str(self.data), "--username=zhenxing", "--auth=trust", "-E", "UTF8", "--no-locale")
        self.start()
        subprocess.run(
            [self.binaries / "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "zhenxing", "zhenxing"],
            check=True,
            capture_output=True,
        )

    def run(self, program: str, *arguments: str) -> None:
        result = subprocess.run(
            [*self.as_postgres, str(self.binaries / program), *arguments], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"{program} failed: {result.stdout}{result.stderr}"

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.directory} -c fsync=off -c full_page_writes=off"
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "server.log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def load(self, source_url: str) -> None:
        """Copy a database (schema and rows) into this cluster's, as pg_dump | pg_restore would."""
        dump = self.directory / "copy.dump"
        subprocess.run([self.binaries / "pg_dump", "-Fc", "-f", dump, source_url], check=True, capture_output=True)
        subprocess.run(
            [self.binaries / "pg_restore", "--no-owner", "-d", self.url, dump], check=True, capture_output=True
        )

    def remove(self) -> None:
        subprocess.run(
            [*self.as_postgres, str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


@contextmanager
def cluster() -> Iterator[Cluster]:
    started = Cluster()
    try:
        yield started
    finally:
        started.remove()


@contextmanager
def gunicorn(*, database_url: str, log: Path, environment: dict[str, str] | None = None) -> Iterator[str]:
    """A gunicorn (one sync worker, the production way) serving the project; yields its base URL."""
    port = free_port()
    settings_environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        **(environment or {}),
    }
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}", "--timeout", "60"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=REPOSITORY,
            env=settings_environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(f"gunicorn to listen\n{log.read_text(errors='replace')}", lambda: answers(base), seconds=60)
        yield base
    finally:
        stop(process)


def answers(base: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=5):
            return True
    except OSError as error:  # an HTTPError (503) is an OSError too, and means it answers
        return hasattr(error, "code")


@contextmanager
def worker_elsewhere(*, directory: Path, storage_root: Path, database_url: str, redis_url: str) -> Iterator[Path]:
    """A `celery worker` started in a directory of its own (not the code's), storage from STORAGE_ROOT;
    yields its log file. SIGKILLed with everything it started at the end."""
    directory.mkdir(parents=True, exist_ok=True)
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "STORAGE_ROOT": str(storage_root),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PYTHONPATH": str(REPOSITORY),
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"elsewhere{free_port()}@%h"]
    log = directory / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=directory, env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield log
    finally:
        stop(process)
