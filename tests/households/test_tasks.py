"""The income-facts task, run the way the deployment runs it.

Embedded default (no REDIS_URL): Celery runs the task in process. With REDIS_URL (the
PostgreSQL test run), a real worker thread consumes it from Redis.
"""

from __future__ import annotations

import os
from decimal import Decimal

from config.celery import app
from households.models import Household
from households.tasks import income_facts_refresh_task
from tests.conftest import Staff
from tests.factories import Tree, household, income


def test_refresh_recomputes_facts_that_drifted(
    transactional_db: None, celery_worker: None, tree: Tree, staff: Staff
) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    for quarter in ["2024Q4", "2025Q1", "2025Q2", "2025Q3"]:
        income(staff.village_clerk, target, quarter, wages_other="3000")
    expected = Household.objects.get(pk=target.pk).trailing_per_capita
    assert expected == Decimal("6000.00")
    Household.objects.filter(pk=target.pk).update(trailing_per_capita=None, latest_income_year=None)

    result = income_facts_refresh_task.delay()
    assert result.get(timeout=30) >= 1

    refreshed = Household.objects.get(pk=target.pk)
    assert refreshed.trailing_per_capita == expected
    assert (refreshed.latest_income_year, refreshed.latest_income_quarter) == (2025, 3)


def test_refresh_clears_facts_for_a_household_missing_a_quarter(
    transactional_db: None, celery_worker: None, tree: Tree, staff: Staff
) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    for quarter in ["2024Q4", "2025Q2", "2025Q3"]:
        income(staff.village_clerk, target, quarter, wages_other="3000")
    Household.objects.filter(pk=target.pk).update(trailing_per_capita=Decimal("1"))
    assert income_facts_refresh_task.delay([target.pk]).get(timeout=30) == 1
    assert Household.objects.get(pk=target.pk).trailing_per_capita is None


def test_celery_is_eager_exactly_when_there_is_no_redis() -> None:
    assert app.conf.task_always_eager is (not os.environ.get("REDIS_URL"))
