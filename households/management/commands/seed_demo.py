"""manage.py seed_demo: fill an empty database with the 大姚县 demo data."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from households.demo_writer import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoAccount, demo_seed
from households.models import Household
from regions.models import Region, Role, User


class Command(BaseCommand):
    help = "生成大姚县演示数据：区划、监测标准、演示账号，以及农户、成员、监测对象和8个季度收入"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--households", type=int, default=2000, help="农户数（默认2000）")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子，相同种子生成相同数据（默认2026）")
        parser.add_argument("--if-empty", action="store_true", help="已有农户数据时什么也不做")

    def handle(self, *args: Any, households: int, seed: int, if_empty: bool, **options: Any) -> None:
        if Household.objects.exists():
            if if_empty:
                self.stdout.write("已有农户数据，未生成演示数据。")
                self._print_accounts(list(DEMO_ACCOUNTS))
                return
            raise CommandError("数据库中已有农户数据，演示数据只能写入空库（加 --if-empty 可跳过）。")
        if households < 0:
            raise CommandError("农户数不能为负数。")
        started = time.monotonic()
        step = max(households // 10, 1)
        next_report = step

        def report(written: int) -> None:
            nonlocal next_report
            if written >= next_report or written == households:
                self.stdout.write(f"已写入 {written}/{households} 户，用时 {time.monotonic() - started:.1f} 秒")
                self.stdout.flush()
                next_report = written + step

        accounts = demo_seed(households=households, seed=seed, on_chunk=report)
        self.stdout.write(
            self.style.SUCCESS(f"演示数据生成完毕：{households} 户，共用时 {time.monotonic() - started:.1f} 秒")
        )
        self._print_accounts(accounts)

    def _print_accounts(self, accounts: list[DemoAccount]) -> None:
        existing = set(
            User.objects.filter(username__in=[a.username for a in accounts]).values_list("username", flat=True)
        )
        accounts = [a for a in accounts if a.username in existing]
        if not accounts:
            return
        names = dict(Region.objects.filter(code__in=[a.region_code for a in accounts]).values_list("code", "name"))
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        for account in accounts:
            role = Role(account.role).label if account.role else "超级管理员"
            place = names.get(account.region_code or "", "全部")
            self.stdout.write(f"  {account.username:<10} {account.full_name}  {role}  {place}")
