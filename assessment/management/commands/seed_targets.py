"""manage.py seed_targets: the demo county's targets and scoring rules, then its last eight quarters computed
(the dashboards draw 8-quarter trends)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from assessment.demo import DEMO_COUNTY, demo_targets_ensure
from assessment.services import compute_run_now
from figures.periods import Quarter
from households.selectors import latest_income_quarter
from regions.models import Level, Region


class Command(BaseCommand):
    help = (
        "为演示县（大姚县）写入考核目标和计分规则（引用文件条款），并计算最近八个季度的指标（看板的趋势图画近8个季度）"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--county", default=DEMO_COUNTY, help="县级区划代码（默认大姚县 532326000000）")
        parser.add_argument("--quarters", type=int, default=8, help="计算最近几个有收入数据的季度（默认8）")

    def handle(self, *args: Any, county: str, quarters: int, **options: Any) -> None:
        region = Region.objects.filter(code=county, level=Level.COUNTY).first()
        if region is None:
            self.stdout.write("没有该县的区划（先运行 seed_demo），未写入考核目标。")
            return
        created = demo_targets_ensure(county=region)
        self.stdout.write(f"考核目标和计分规则：新增 {created} 条（已有的保持不变）。")
        latest = latest_income_quarter(within=region.prefix)
        if latest is None:
            self.stdout.write("该县没有收入数据，未计算指标。")
            return
        for index in range(latest.index - quarters + 1, latest.index + 1):
            period = Quarter.from_index(index)
            run = compute_run_now(scope=region, period=period, reason="seed")
            self.stdout.write(
                f"{period.label}：{run.get_status_display()}，{run.message}，{run.values_written} 个指标值"
            )
