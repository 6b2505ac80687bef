"""manage.py sync_pull URL --token TOKEN [--database ALIAS] [--every SECONDS]: mirror a source's county."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.mirror import MirrorError, Source, sync


class Command(BaseCommand):
    help = "把源站接口（如 https://ledger.example.gov.cn/api/v1/）可读的数据镜像到本库：首次全量，此后按变更增量"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="源站接口地址，如 http://127.0.0.1:8000/api/v1/")
        parser.add_argument("--token", required=True, help="接口客户端的访问令牌（须可查看个人信息）")
        parser.add_argument("--database", default="default", help="镜像写入的数据库别名（默认 default）")
        parser.add_argument("--every", type=float, default=0, help="每隔多少秒再同步一次（默认只同步一次）")

    def handle(self, *args: Any, **options: Any) -> None:
        source = Source(options["url"], options["token"])
        try:
            while True:
                started = time.monotonic()
                try:
                    report = sync(source=source, alias=options["database"], say=self.stdout.write)
                except MirrorError as error:
                    raise CommandError(str(error)) from error
                for name, why in report.skipped.items():
                    self.stderr.write(f"未同步 {name}：{why}")
                changed = sum(report.upserts.values()) + sum(report.deletes.values())
                self.stdout.write(
                    f"同步完成：全量 {sum(report.full.values()):,} 条，增量 {changed:,} 条，"
                    f"{report.requests:,} 次请求，{time.monotonic() - started:.1f} 秒"
                )
                if not options["every"]:
                    return
                time.sleep(options["every"])
        finally:
            source.close()
