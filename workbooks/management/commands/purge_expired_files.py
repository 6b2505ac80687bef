"""Delete uploads and their error workbooks older than IMPORT_FILE_RETENTION_DAYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from workbooks.retention import import_files_purge


class Command(BaseCommand):
    help = "删除超过保留期限的导入原文件及错误说明（IMPORT_FILE_RETENTION_DAYS，默认30天）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="保留天数（默认取设置）")

    def handle(self, *args: Any, **options: Any) -> None:
        result = import_files_purge(retention_days=options["days"])
        self.stdout.write(
            f"已清除 {result.batches} 个导入批次的文件"
            f"（删除 {result.files} 个文件，{result.expired} 个待确认批次已失效）"
        )
