"""Delete change-log entries older than --days; sync clients behind them must sync in full again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from changes.services import change_log_prune


class Command(BaseCommand):
    help = "清理超过保留天数的变更记录（游标早于清理位置的同步客户端须重新全量同步）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, required=True, help="保留天数")

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = change_log_prune(days=options["days"])
        self.stdout.write(f"已清理 {deleted} 条变更记录")
