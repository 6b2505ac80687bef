"""Bulk writers refresh the planner's statistics when a write leaves them far from the table: a county
seeded and computed on tables PostgreSQL last saw empty computes in seconds, not in minutes."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, transaction

from assessment.demo import DEMO_COUNTY, demo_targets_ensure
from assessment.services import compute_run_now
from figures.periods import Quarter
from households.demo_writer import demo_seed
from households.facts import HouseholdQuarterFact
from regions.db import statistics_refresh
from regions.models import Region

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics (PostgreSQL leg)")


def counted_rows(model: Any) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [model._meta.db_table])
        return int(cursor.fetchone()[0])


def analyse_empty() -> None:
    """What autovacuum leaves after a test suite's rolled-back inserts: every table counted as empty
    while its pages say it is not (the planner then guesses one row wherever it looks)."""
    sid = transaction.savepoint()
    demo_seed(households=160, seed=11)
    compute_run_now(scope=Region.objects.get(code=DEMO_COUNTY), period=Quarter(2026, 3), reason="test")
    transaction.savepoint_rollback(sid)
    with connection.cursor() as cursor:
        for model in apps.get_models():
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


@postgres_only
def test_a_county_seeded_on_tables_last_seen_empty_computes_in_seconds(db: None) -> None:
    analyse_empty()
    assert counted_rows(HouseholdQuarterFact) == 0
    demo_seed(households=160, seed=11)
    county = Region.objects.get(code=DEMO_COUNTY)
    demo_targets_ensure(county=county)
    with connection.cursor() as cursor:
        # Without the refresh a figure's nest of joins guessed at one row each runs for minutes.
        cursor.execute("SET LOCAL statement_timeout = '60s'")
    started = time.monotonic()
    compute_run_now(scope=county, period=Quarter(2026, 3), reason="test")
    assert time.monotonic() - started < 60
    assert counted_rows(HouseholdQuarterFact) >= 160


@postgres_only
def test_statistics_are_refreshed_only_when_a_write_leaves_them_far_off(db: None) -> None:
    analyse_empty()
    table = HouseholdQuarterFact._meta.db_table
    assert statistics_refresh(models=[HouseholdQuarterFact], written=10) == []  # too few to matter
    assert statistics_refresh(models=[HouseholdQuarterFact], written=5_000) == [table]
    assert statistics_refresh(models=[HouseholdQuarterFact]) == []  # empty and counted empty
