"""Writes of the assessment: computation runs, the debounced recompute after data changes."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from redis import RedisError

from assessment.alerts import alerts_raise
from assessment.engine import indicators_compute, locks_are_free, scope_keys
from assessment.models import (
    ComputeRun,
    IndicatorValue,
    ParameterValue,
    RecomputeRequest,
    RunStatus,
    ScoringRule,
    Target,
)
from figures.periods import Quarter
from regions.models import Level, Region

logger = logging.getLogger(__name__)

PROGRESS_KEY = "assessment:run:{}"


def current_quarter() -> Quarter:
    return Quarter.containing(timezone.localdate())


def closed_counties(period: Quarter) -> set[str]:
    """Counties whose quarter is locked: their values stay as they were at locking."""
    from households.closing import locked_county_codes

    return locked_county_codes(period)


def compute_run_request(*, scope: Region | None, period: Quarter, by: Any = None, reason: str = "manual") -> ComputeRun:
    """Record a computation and hand it to a worker once this transaction commits (in process
    on the embedded default, where it has finished when this returns)."""
    from assessment.tasks import compute_run_task
    from workbooks.queue import send_task

    run = ComputeRun.objects.create(
        scope=scope, year=period.year, quarter=period.number, reason=reason, requested_by=by
    )
    transaction.on_commit(lambda: send_task(compute_run_task, run.pk))
    return run


def compute_run_now(*, scope: Region | None, period: Quarter, reason: str, by: Any = None) -> ComputeRun:
    """Record a computation and run it here, whatever the queue (seeding, management commands)."""
    run = ComputeRun.objects.create(
        scope=scope, year=period.year, quarter=period.number, reason=reason, requested_by=by
    )
    return compute_run_execute(run_id=run.pk)


def compute_run_execute(*, run_id: int) -> ComputeRun:
    """Claim a queued run, compute it, and record how it ended; a repeated delivery is a no-op."""
    claimed = ComputeRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    )
    run = ComputeRun.objects.select_related("scope").get(pk=run_id)
    if not claimed:
        return run

    def progress(done: int, total: int, label: str) -> None:
        # Progress is advisory: Redis going away must not fail (and roll back) a computation that
        # needs only the database.
        try:
            cache.set(PROGRESS_KEY.format(run_id), {"done": done, "total": total, "label": label}, 3600)
        except RedisError as error:
            logger.warning("Computation %s: progress not recorded: %s", run_id, error)

    try:
        frozen = closed_counties(run.period)
        outcome = indicators_compute(scope=run.scope, period=run.period, frozen_counties=frozen, progress=progress)
        # The facts the rules read were refreshed by the computation, for the same live counties.
        raised = alerts_raise(scope=run.scope, period=run.period, frozen_counties=frozen)
    except Exception as error:
        logger.exception("Computation %s failed", run_id)
        ComputeRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), message=f"计算出错：{type(error).__name__}"
        )
        raise
    message = f"已计算{len(outcome.counties)}个县"
    if outcome.frozen:
        message += f"，{len(outcome.frozen)}个县本季度已关账，指标值保持关账时的结果"
    if raised:
        message += f"，新增预警{raised}条"
    ComputeRun.objects.filter(pk=run_id).update(
        status=RunStatus.DONE, finished_at=timezone.now(), values_written=outcome.values, message=message
    )
    run.refresh_from_db()
    return run


def compute_runs_sweep() -> int:
    """Runs left 计算中 by a worker that died: once nobody holds their scope's lock, end them 失败
    with a reason and queue them again. Returns how many were re-queued."""
    cutoff = timezone.now() - timedelta(seconds=settings.COMPUTE_STALE_SECONDS)
    requeued = 0
    for run in ComputeRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=cutoff).select_related("scope"):
        if not locks_are_free(scope_keys(run.scope, run.period)):
            continue
        ended = ComputeRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), message="计算进程中断，已自动重新排队"
        )
        if ended:
            compute_run_request(scope=run.scope, period=run.period, by=run.requested_by, reason=run.reason)
            requeued += 1
    return requeued


def compute_progress(run: ComputeRun) -> dict[str, Any]:
    """How far a run is: done and total steps (counties + the levels above), for the progress bar."""
    if run.status == RunStatus.DONE:
        return {"done": 1, "total": 1, "percent": 100, "label": ""}
    try:
        found = cache.get(PROGRESS_KEY.format(run.pk)) or {"done": 0, "total": 1, "label": ""}
    except RedisError:
        found = {"done": 0, "total": 1, "label": "进度暂时无法读取"}
    found["percent"] = int(100 * found["done"] / max(found["total"], 1))
    return found


# --- after a write: debounced -----------------------------------------------------------------


def recompute_schedule(*, county_code: str) -> None:
    """A county's data changed (after commit): make sure one recompute is due, not one per save.

    With workers the recompute runs RECOMPUTE_DELAY_SECONDS after the first change; on the embedded
    default it runs at once unless the county was computed less than that long ago, in which case
    it is left due and runs at the next change or when an assessment page is opened.
    """
    from assessment.tasks import recompute_due_task
    from workbooks.queue import send_task

    county = Region.objects.filter(code=county_code, level=Level.COUNTY).first()
    if county is None:
        return
    delay = timedelta(seconds=settings.RECOMPUTE_DELAY_SECONDS)
    now = timezone.now()
    if settings.CELERY_TASK_ALWAYS_EAGER:
        last = ComputeRun.objects.filter(scope=county, status=RunStatus.DONE).order_by("-finished_at").first()
        due = now if last is None or last.finished_at is None else max(now, last.finished_at + delay)
    else:
        due = now + delay
    _, created = RecomputeRequest.objects.get_or_create(county=county, defaults={"requested_at": now, "due_at": due})
    if settings.CELERY_TASK_ALWAYS_EAGER:
        recompute_due()
    elif created:
        send_task(recompute_due_task, countdown=settings.RECOMPUTE_DELAY_SECONDS)


def recompute_due() -> int:
    """Recompute every county whose request is due; returns how many. Each request is taken by a
    conditional delete, so two workers never recompute the same change twice."""
    done = 0
    for request in RecomputeRequest.objects.filter(due_at__lte=timezone.now()).select_related("county"):
        if not RecomputeRequest.objects.filter(pk=request.pk, due_at=request.due_at).delete()[0]:
            continue
        for period in periods_to_recompute(request.county):
            run = ComputeRun.objects.create(
                scope=request.county, year=period.year, quarter=period.number, reason="data_changed"
            )
            compute_run_execute(run_id=run.pk)
        done += 1
    return done


def periods_to_recompute(county: Region) -> list[Quarter]:
    """The quarters whose figures the county's pages show: those already computed in the last two
    years (not closed), and the latest quarter with income data."""
    from households.selectors import latest_income_quarter

    now = current_quarter()
    earliest = Quarter.from_index(now.index - 8)
    closed_quarters = {
        period
        for period in (Quarter.from_index(i) for i in range(earliest.index, now.index + 1))
        if county.code in closed_counties(period)
    }
    periods = {
        Quarter(year, number)
        for year, number in IndicatorValue.objects.filter(region=county, year__gte=earliest.year)
        .values_list("year", "quarter")
        .distinct()
    }
    latest = latest_income_quarter(within=county.prefix)
    if latest is not None:
        periods.add(latest)
    return sorted(period for period in periods if earliest <= period <= now and period not in closed_quarters)


def data_changed_received(sender: Any, county_code: str, **kwargs: Any) -> None:
    recompute_schedule(county_code=county_code)


# --- target editor: targets, scoring rules and parameters (pages) -----------------------------------


PolicyRowModel = Target | ScoringRule | ParameterValue


def policy_row_save(*, row: PolicyRowModel, by: Any) -> PolicyRowModel:
    """Create or change a target, scoring rule or parameter after full_clean; history records who."""
    row.full_clean()
    row._history_user = by  # type: ignore[union-attr]
    row.save()
    return row


def policy_row_delete(*, row: PolicyRowModel, by: Any) -> None:
    """Delete a target, scoring rule or parameter; the history keeps the deleted row and who deleted it."""
    row._history_user = by  # type: ignore[union-attr]
    row.delete()


def parameter_changed_received(sender: Any, instance: ParameterValue, **kwargs: Any) -> None:
    """A parameter decides which households the alerts flag: the counties under it are rescanned."""
    from regions.services import data_changed

    region = instance.region
    counties = [region] if region.level >= Level.COUNTY else Region.objects.subtree(region).filter(level=Level.COUNTY)
    data_changed(codes=[county.code for county in counties])
