"""manage.py backup and restore: into an empty database, every table's rows and every stored file come back."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.conftest import Staff
from tests.factories import Tree, household, income
from tests.households.excel.test_import import family, workbook
from tests.operations.processes import REPOSITORY, current_database_url
from workbooks.batches import import_batch_create

Rows = Callable[[str], Iterator[str]]


def digest(lines: Iterator[str]) -> str:
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def sqlite_rows(database: sqlite3.Connection) -> Rows:
    def rows(table: str) -> Iterator[str]:
        columns = [column[1] for column in database.execute(f'PRAGMA table_info("{table}")')]
        # quote() gives each value's SQL literal: no driver conversion on either side.
        expression = " || '|' || ".join(f'quote("{column}")' for column in columns)
        yield from (line for (line,) in database.execute(f'SELECT {expression} FROM "{table}"'))

    return rows


def sqlite_checksums(database: sqlite3.Connection) -> dict[str, str]:
    tables = [name for (name,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    rows = sqlite_rows(database)
    return {table: digest(rows(table)) for table in tables if not table.startswith("sqlite_")}


def postgresql_checksums(url: str) -> dict[str, str]:
    with psycopg.connect(url) as database:
        tables = [name for (name,) in database.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return {
            table: digest(line for (line,) in database.execute(f'SELECT t::text FROM "{table}" t')) for table in tables
        }


def checksums_here() -> dict[str, str]:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return sqlite_checksums(connection.connection)
    return postgresql_checksums(current_database_url())


@pytest.fixture
def ledger(transactional_db: None, tree: Tree, staff: Staff, settings: Any, tmp_path: Path) -> Path:
    """Households, income and an upload in the storage: something in every kind of table and file."""
    settings.MEDIA_ROOT = tmp_path / "storage"
    for number in ("B1", "B2"):
        target = household(staff.village_clerk, tree.village_a1, number=number, phone="13812345678")
        income(staff.village_clerk, target, "2025Q1", wages_migrant_work="3000.50")
    content = workbook(family(tree.village_a1.code, "H001", "张三"))
    import_batch_create(by=staff.village_clerk, kind="roster", upload=SimpleUploadedFile("花名册.xlsx", content))
    return Path(settings.MEDIA_ROOT)


def stored_files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def restore_in_a_fresh_process(backup: Path, *, database_url: str, storage_root: Path) -> str:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "STORAGE_ROOT": str(storage_root),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "restore", str(backup), "--yes"],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_a_backup_restores_into_an_empty_database_with_every_table_and_file_equal(ledger: Path, tmp_path: Path) -> None:
    before = checksums_here()
    files = stored_files(ledger)
    assert len(files) == 1 and before["households_household"] and before["households_incomerecord"]

    call_command("backup", str(tmp_path / "backups"))

    backups = sorted((tmp_path / "backups").iterdir())
    database = next(path for path in backups if path.suffix in {".sqlite3", ".dump"})
    assert [path.name for path in backups if path != database] == [f"{database.stem}.storage.tar"]
    restored_storage = tmp_path / "restored-storage"
    if connection.vendor == "sqlite":
        restored = tmp_path / "restored.sqlite3"
        url = f"sqlite:///{restored}"
        output = restore_in_a_fresh_process(database, database_url=url, storage_root=restored_storage)
        with sqlite3.connect(restored) as copy:
            after = sqlite_checksums(copy)
    else:
        name = f"restored_{os.getpid()}"
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}").geturl()
        try:
            output = restore_in_a_fresh_process(database, database_url=url, storage_root=restored_storage)
            after = postgresql_checksums(url)
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    assert "1 个文件" in output
    assert after == before
    assert stored_files(restored_storage) == files


def test_restore_refuses_a_backup_without_its_file_archive(tmp_path: Path) -> None:
    lonely = tmp_path / "zhenxing-20260101-000000.sqlite3"
    lonely.write_bytes(b"")
    with pytest.raises(CommandError, match="找不到与数据库备份配套的文件存档"):
        call_command("restore", str(lonely), "--yes")
