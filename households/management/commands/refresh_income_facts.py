"""Recompute every household's precomputed income facts (after a bulk change, or to verify them)."""

from typing import Any

from django.core.management.base import BaseCommand

from households.tasks import income_facts_refresh_task


class Command(BaseCommand):
    help = "重新计算所有农户的最近填报季度和近四季度人均纯收入"

    def handle(self, *args: Any, **options: Any) -> None:
        result = income_facts_refresh_task.delay()
        self.stdout.write(
            f"已提交任务 {result.id}；" + (f"已刷新 {result.get()} 户" if result.ready() else "由 Celery worker 执行")
        )
