"""Backups of the database and the stored files, and their restore, for both engines.

A backup is two files side by side: the database (`<stamp>.sqlite3`, made with SQLite's online
backup API, or `<stamp>.dump`, `pg_dump` custom format) and `<stamp>.storage.tar`, every file of
the default storage (uploads, exports), read through the storage API so object storage works too.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.core.files.base import File
from django.core.files.storage import Storage, default_storage
from django.db import connection, connections
from django.utils import timezone

STORAGE_SUFFIX = ".storage.tar"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, for the operator."""


@dataclass(frozen=True)
class Backup:
    database: Path
    storage: Path
    files: int


def backup_create(*, directory: Path, now: datetime | None = None) -> Backup:
    """Write the database and every stored file into directory; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = f"zhenxing-{timezone.localtime(now or timezone.now()):%Y%m%d-%H%M%S}"
    if connection.vendor == "sqlite":
        database = directory / f"{stamp}.sqlite3"
        _sqlite_backup(database)
    elif connection.vendor == "postgresql":
        database = directory / f"{stamp}.dump"
        _run([_postgresql_program("pg_dump"), "-Fc", "--no-owner", "-f", str(database), *_postgresql_arguments()])
    else:
        raise BackupError(f"不支持的数据库：{connection.vendor}")
    storage = directory / f"{stamp}{STORAGE_SUFFIX}"
    files = _storage_archive(default_storage, storage)
    return Backup(database=database, storage=storage, files=files)


def backup_restore(*, database: Path) -> Backup:
    """Replace the configured database with a backup's, and put its stored files back beside what is there."""
    if not database.is_file():
        raise BackupError(f"找不到备份文件：{database}")
    storage = database.with_name(database.name.rsplit(".", 1)[0] + STORAGE_SUFFIX)
    if not storage.is_file():
        raise BackupError(f"找不到与数据库备份配套的文件存档：{storage}")
    if connection.vendor == "sqlite":
        if database.suffix != ".sqlite3":
            raise BackupError("当前使用 SQLite，只能恢复 .sqlite3 备份")
        _sqlite_restore(database)
    elif connection.vendor == "postgresql":
        if database.suffix != ".dump":
            raise BackupError("当前使用 PostgreSQL，只能恢复 pg_dump 生成的 .dump 备份")
        connections.close_all()
        _run(
            [
                _postgresql_program("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                *_postgresql_arguments(),
                str(database),
            ]
        )
    else:
        raise BackupError(f"不支持的数据库：{connection.vendor}")
    files = _storage_extract(storage, default_storage)
    return Backup(database=database, storage=storage, files=files)


def _sqlite_backup(target: Path) -> None:
    """The online backup API: a consistent copy while others keep writing."""
    connection.ensure_connection()
    source = connection.connection
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()


def _sqlite_restore(backup: Path) -> None:
    connection.ensure_connection()
    source = sqlite3.connect(backup)
    try:
        source.backup(connection.connection)
    finally:
        source.close()
    connection.close()


def _postgresql_program(name: str) -> str:
    """pg_dump/pg_restore: PG_BIN_DIR, then PATH, then the newest Debian-packaged PostgreSQL."""
    configured = os.environ.get("PG_BIN_DIR")
    candidates = [Path(configured) / name] if configured else []
    on_path = shutil.which(name)
    candidates += [Path(on_path)] if on_path else []
    packaged = Path("/usr/lib/postgresql").glob(f"*/bin/{name}")
    candidates += sorted(packaged, key=lambda path: int(path.parent.parent.name), reverse=True)
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return str(candidate)
    raise BackupError(f"找不到 {name}（apt-get install postgresql-client）")


def _postgresql_arguments() -> list[str]:
    settings = connection.settings_dict
    arguments = [f"--dbname={settings['NAME']}"]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings.get(key):
            arguments.append(f"{option}={settings[key]}")
    return arguments


def _run(command: list[str]) -> None:
    settings = connection.settings_dict
    environment = {**os.environ, **({"PGPASSWORD": settings["PASSWORD"]} if settings.get("PASSWORD") else {})}
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} 失败：{(result.stderr or result.stdout).strip()[-2000:]}")


def _stored_names(storage: Storage, directory: str = "") -> Iterator[str]:
    try:
        directories, files = storage.listdir(directory)
    except FileNotFoundError:  # an empty filesystem storage has no root yet
        return
    for name in sorted(files):
        yield f"{directory}/{name}" if directory else name
    for child in sorted(directories):
        yield from _stored_names(storage, f"{directory}/{child}" if directory else child)


def _storage_archive(storage: Storage, target: Path) -> int:
    count = 0
    with tarfile.open(target, "w") as archive:
        for name in _stored_names(storage):
            with storage.open(name, "rb") as stored:
                member = tarfile.TarInfo(name)
                member.size = storage.size(name)
                member.mtime = int(timezone.now().timestamp())
                archive.addfile(member, stored)
            count += 1
    return count


def _storage_extract(source: Path, storage: Storage) -> int:
    count = 0
    with tarfile.open(source, "r") as archive:
        for member in archive:
            if not member.isfile():
                continue
            content = archive.extractfile(member)
            if content is None:
                continue
            # The storage refuses names outside its root (SuspiciousFileOperation); the same name is replaced.
            if storage.exists(member.name):
                storage.delete(member.name)
            saved = storage.save(member.name, File(content, name=member.name))
            if saved != member.name:
                raise BackupError(f"文件未能按原名恢复：{member.name}")
            count += 1
    return count
