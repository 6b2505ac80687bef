"""manage.py restore FILE: the database from FILE and the stored files from the archive beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from operations.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = "从 backup 生成的数据库备份（.sqlite3 或 .dump）及其旁边的 .storage.tar 恢复；会覆盖当前数据库"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--yes", action="store_true", help="不再确认，直接覆盖当前数据库")

    def handle(self, *args: Any, file: Path, yes: bool, **options: Any) -> None:
        if not yes and input(f"将用 {file} 覆盖当前数据库，输入 yes 继续：").strip() != "yes":
            raise CommandError("已取消，未做任何改动")
        try:
            restored = backup_restore(database=file)
        except (BackupError, OSError) as error:
            raise CommandError(f"恢复失败：{error}") from error
        self.stdout.write(f"已恢复数据库 {restored.database} 和 {restored.files} 个文件")
