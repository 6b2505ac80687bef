"""manage.py refresh_reference_lists: mark every cached reference list stale (after a restore, or rows
changed by hand in SQL), so that the next page reads them from the database."""

from typing import Any

from django.core.management.base import BaseCommand

from regions.reference import reference_stale


class Command(BaseCommand):
    help = "让缓存的参考列表（区划、监测标准、风险类型、权限）全部失效，下次从数据库重新读取"

    def handle(self, *args: Any, **options: Any) -> None:
        reference_stale()
        self.stdout.write("已让缓存的参考列表全部失效")
