"""manage.py backup DIRECTORY: the database and every stored file, side by side in DIRECTORY."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from operations.backups import BackupError, backup_create


class Command(BaseCommand):
    help = "备份数据库（SQLite 在线备份或 pg_dump 自定义格式）和全部上传/导出文件到指定目录"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)

    def handle(self, *args: Any, directory: Path, **options: Any) -> None:
        try:
            backup = backup_create(directory=directory)
        except (BackupError, OSError) as error:
            raise CommandError(f"备份失败：{error}") from error
        self.stdout.write(f"数据库：{backup.database}\n文件存档：{backup.storage}（{backup.files} 个文件）")
