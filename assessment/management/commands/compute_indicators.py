"""Compute the indicators of a county (or everything) for a quarter, in this process."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessment.models import ComputeRun
from assessment.services import compute_run_execute, current_quarter
from figures.periods import Quarter
from regions.models import Region


class Command(BaseCommand):
    help = "计算指标：--scope 区划代码（不填为全部），--period 2026Q3（不填为本季度）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scope", default="", help="12-digit region code; empty for every county")
        parser.add_argument("--period", default="", help="a quarter like 2026Q3; empty for the current one")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = Quarter.parse(options["period"]) if options["period"] else current_quarter()
        except ValueError as error:
            raise CommandError(f"季度格式应为 2026Q3：{options['period']}") from error
        scope = None
        if options["scope"]:
            scope = Region.objects.filter(code=options["scope"]).first()
            if scope is None:
                raise CommandError(f"没有区划代码为 {options['scope']} 的区划")
        run = ComputeRun.objects.create(scope=scope, year=period.year, quarter=period.number, reason="command")
        started = time.perf_counter()
        run = compute_run_execute(run_id=run.pk)
        self.stdout.write(
            f"{period} {scope or '全部'}：{run.get_status_display()}，{run.message}，"
            f"写入{run.values_written}个指标值，用时{time.perf_counter() - started:.2f}秒"
        )
