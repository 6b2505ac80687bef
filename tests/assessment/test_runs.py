"""Computation runs: idempotent, never interleaved, intact after a crash, debounced after writes, on Celery."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from assessment import services as assessment_services
from assessment.engine import indicators_compute, stale_counties
from assessment.models import ComputeRun, IndicatorValue, RecomputeRequest, RunStatus
from figures.periods import Quarter
from households.facts import HouseholdQuarterFact
from households.models import Household
from regions.models import DataVersion
from tests.assessment import worked_county
from tests.conftest import Staff
from tests.factories import Tree, income
from tests.workbooks.test_failures import (  # noqa: F401 (the services fixture)
    Services,
    backend_waiting_for_lock,
    database_lock,
    services,
    stop,
    wait_until,
    with_services,
)

PERIOD = Quarter(2026, 2)


def snapshot() -> list[tuple[Any, ...]]:
    return sorted(IndicatorValue.objects.values_list("region_id", "indicator", "numerator", "value", "computed_at"))


def county_value(tree: Tree, code: str = "income_per_capita_lifted") -> Decimal | None:
    return IndicatorValue.objects.get(region=tree.county, indicator=code, year=2026, quarter=2).value


def test_a_computation_that_fails_half_way_leaves_the_previous_values(tree: Tree, staff: Staff) -> None:
    households = worked_county.build(tree, staff.county_admin)
    indicators_compute(scope=tree.county, period=PERIOD)
    before = snapshot()
    facts_before = HouseholdQuarterFact.objects.count()
    income(staff.county_admin, households["H4"], "2026Q2", wages_migrant_work="5000")

    def crash(done: int, total: int, label: str) -> None:
        raise RuntimeError("worker lost")

    with pytest.raises(RuntimeError):
        indicators_compute(scope=tree.county, period=PERIOD, progress=crash)
    assert snapshot() == before
    assert HouseholdQuarterFact.objects.count() == facts_before
    assert not HouseholdQuarterFact.objects.filter(household=households["H4"], recorded=True).exists()
    # The next run completes and sees H4's new record: 5 of 5 entered.
    indicators_compute(scope=tree.county, period=PERIOD)
    assert county_value(tree, "entry_progress") == Decimal("1.0000")


def test_a_write_makes_the_values_stale_until_recomputed(tree: Tree, staff: Staff) -> None:
    households = worked_county.build(tree, staff.county_admin)
    indicators_compute(scope=tree.county, period=PERIOD)
    assert stale_counties(PERIOD) == {}
    income(staff.county_admin, households["H4"], "2026Q2", wages_migrant_work="5000")
    version = DataVersion.objects.get(county=tree.county).version
    assert stale_counties(PERIOD) == {tree.county.code: version}
    indicators_compute(scope=tree.county, period=PERIOD)
    assert stale_counties(PERIOD) == {}


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_saves_is_recomputed_once_when_due(tree: Tree, staff: Staff, settings: Any) -> None:
    settings.RECOMPUTE_DELAY_SECONDS = 3600
    households = worked_county.build(tree, staff.county_admin)
    assessment_services.compute_run_execute(
        run_id=ComputeRun.objects.create(scope=tree.county, year=2026, quarter=2, reason="manual").pk
    )
    runs = ComputeRun.objects.count()
    for amount in ("5000", "5100", "5200"):
        record = Household.objects.get(pk=households["H4"].pk).income_records.filter(year=2026, quarter=1).get()
        income_amounts = {"wages_migrant_work": amount}
        from households.services import income_record_save

        income_record_save(
            by=staff.county_admin,
            household=households["H4"],
            quarter=Quarter(2026, 1),
            amounts={k: Decimal(v) for k, v in income_amounts.items()},
            record=record,
            expected_version=record.version,
        )
    # One request for the county however many saves; not due yet (computed less than an hour ago).
    assert RecomputeRequest.objects.filter(county=tree.county).count() == 1
    assert ComputeRun.objects.count() == runs
    RecomputeRequest.objects.update(due_at=RecomputeRequest.objects.get().requested_at)
    assert assessment_services.recompute_due() == 1
    assert assessment_services.recompute_due() == 0
    assert ComputeRun.objects.filter(reason="data_changed", status=RunStatus.DONE).exists()
    assert stale_counties(PERIOD) == {}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL leg)")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_scope", ["county", "everything"])
def test_two_computations_of_one_county_never_interleave(tree: Tree, staff: Staff, first_scope: str) -> None:
    """A county's run waits for another run of the county, and for a run of everything."""
    worked_county.build(tree, staff.county_admin)
    first_inside = threading.Event()
    let_first_finish = threading.Event()
    order: list[str] = []

    def hold(done: int, total: int, label: str) -> None:
        if done == 1:
            first_inside.set()
            let_first_finish.wait(30)

    def run(name: str, progress: Any) -> None:
        scope = None if name == "first" and first_scope == "everything" else tree.county
        try:
            indicators_compute(scope=scope, period=PERIOD, progress=progress)
            order.append(name)
        finally:
            connection.close()

    first = threading.Thread(target=run, args=("first", hold))
    first.start()
    assert first_inside.wait(30)
    second = threading.Thread(target=run, args=("second", None))
    second.start()
    time.sleep(1.5)
    assert order == []  # the second waits on the county's advisory lock
    assert backend_waiting_for_lock("pg_advisory_xact_lock")
    let_first_finish.set()
    first.join(30)
    second.join(30)
    assert order == ["first", "second"]
    assert IndicatorValue.objects.filter(region=tree.county, year=2026, quarter=2).count() > 0


@with_services
def test_a_worker_killed_mid_run_leaves_the_values_and_the_run_is_requeued(
    services: Services,  # noqa: F811
    settings: Any,
    tree: Tree,
    staff: Staff,
) -> None:
    from assessment.services import compute_run_request, compute_runs_sweep

    settings.COMPUTE_STALE_SECONDS = 0
    households = worked_county.build(tree, staff.county_admin)
    indicators_compute(scope=tree.county, period=PERIOD)
    before = snapshot()
    income(staff.county_admin, households["H4"], "2026Q2", wages_migrant_work="5000")
    RecomputeRequest.objects.all().delete()
    services.start_redis()
    worker = services.start_worker()
    # Another session holds one of the county's values: the run waits inside its transaction,
    # after refreshing the facts and computing, just before it replaces the values.
    with database_lock("SELECT id FROM assessment_indicatorvalue WHERE region_id = %s FOR UPDATE", tree.county.pk) as (
        release
    ):
        run = compute_run_request(scope=tree.county, period=PERIOD, by=staff.county_admin)
        wait_until(
            f"the run to wait for the lock\n{services.logs()}",
            lambda: backend_waiting_for_lock('DELETE FROM "assessment_indicatorvalue"'),
        )
        stop(worker)
        release()
    assert snapshot() == before  # nothing of the killed run is visible
    assert ComputeRun.objects.get(pk=run.pk).status == RunStatus.RUNNING
    services.start_worker()
    assert wait_until(f"the sweeper to re-queue the run\n{services.logs()}", compute_runs_sweep) == 1
    assert ComputeRun.objects.get(pk=run.pk).status == RunStatus.FAILED
    wait_until(
        f"the re-queued run to finish\n{services.logs()}",
        lambda: ComputeRun.objects.filter(status=RunStatus.DONE).exists(),
    )
    assert county_value(tree, "entry_progress") == Decimal("1.0000")


@pytest.mark.django_db(transaction=True)
def test_a_requested_run_is_computed_by_a_celery_worker(celery_worker: None, tree: Tree, staff: Staff) -> None:
    worked_county.build(tree, staff.county_admin)
    RecomputeRequest.objects.all().delete()
    run = assessment_services.compute_run_request(scope=tree.county, period=PERIOD, by=staff.county_admin)
    wait_until("the worker to finish the run", lambda: ComputeRun.objects.get(pk=run.pk).status == RunStatus.DONE)
    finished = ComputeRun.objects.get(pk=run.pk)
    assert finished.values_written > 0
    assert assessment_services.compute_progress(finished)["percent"] == 100
    assert county_value(tree) == Decimal("9046.2300")
    # A second delivery of the same message is a no-op.
    again = assessment_services.compute_run_execute(run_id=run.pk)
    assert again.finished_at == finished.finished_at


def test_a_run_for_the_first_quarter_a_date_can_hold_finishes(tree: Tree) -> None:
    # A county admin reaches it by typing ?period=0001Q1 and pressing 重新计算: twelve months and
    # sixty years back from its end lie before year 1, which no date holds.
    run = assessment_services.compute_run_now(scope=tree.county, period=Quarter(1, 1), reason="test")
    assert run.status == RunStatus.DONE, run.message
