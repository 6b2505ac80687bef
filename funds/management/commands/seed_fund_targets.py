"""manage.py seed_fund_targets: the demo county's 衔接资金 and 村集体经济 targets and scoring rules,
citing the seeds."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from funds.targets import fund_targets_ensure
from households.demo_names import COUNTY
from regions.models import Level, Region


class Command(BaseCommand):
    help = (
        "为演示县（大姚县）写入衔接资金和村集体经济的考核目标和计分规则（引用文件条款）；"
        "在 seed_targets 计算季度指标之前运行"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--county", default=COUNTY[0], help="县级区划代码（默认大姚县 532326000000）")

    def handle(self, *args: Any, county: str, **options: Any) -> None:
        region = Region.objects.filter(code=county, level=Level.COUNTY).first()
        if region is None:
            self.stdout.write("没有该县的区划（先运行 seed_demo），未写入考核目标。")
            return
        created = fund_targets_ensure(county=region)
        self.stdout.write(f"衔接资金和村集体经济的考核目标和计分规则：新增 {created} 条（已有的保持不变）。")
