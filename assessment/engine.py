"""The computation: every registered indicator, for every region of a scope, for one quarter.

`indicators_compute` runs in one transaction holding the scope's lock (an advisory lock on
PostgreSQL; the lock row and a process lock on SQLite), so two runs never interleave and a run
killed half-way leaves the previous values as they were. Per county it refreshes the fact sources,
computes each level with one query per fact source (or per custom indicator), then resolves
targets and scoring rules, and writes the values and scores with a few bulk statements.
"""

from __future__ import annotations

import threading
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from assessment.models import ComputeLock, IndicatorValue, RegionScore, Status
from assessment.policy import Policy, competition_ranks, judge
from figures import registry
from figures.periods import Quarter
from figures.registry import FactSource, Indicator, RegionFigure, SourceIndicator, aggregate_source
from regions.models import PREFIX_LENGTH, DataVersion, Level, Region

COUNTY_LEVELS = (Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE)
_process_locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
_process_locks_guard = threading.Lock()

Progress = Callable[[int, int, str], None]


@dataclass
class Outcome:
    """What a computation did: values written, counties skipped because their quarter is closed."""

    values: int = 0
    counties: list[str] = field(default_factory=list)
    frozen: list[str] = field(default_factory=list)


def scope_key(scope: Region | None, period: Quarter) -> str:
    return f"{scope.code if scope else 'all'}:{period}"


def counties_in(scope: Region | None) -> list[Region]:
    counties = Region.objects.filter(level=Level.COUNTY).order_by("code")
    if scope is None:
        return list(counties)
    if scope.level >= Level.COUNTY:
        return [Region.objects.get(code=scope.code[:6].ljust(12, "0"))]
    return list(counties.filter(code__startswith=scope.prefix))


def _advisory_key(key: str) -> list[int]:
    return [0x5A58, zlib.crc32(key.encode()) & 0x7FFFFFFF]


def lock_is_free(key: str) -> bool:
    """Whether no computation holds the scope's lock now (PostgreSQL; always True on SQLite,
    where computations run in the process that asks)."""
    if connection.vendor != "postgresql":
        return True
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", _advisory_key(key))
        return bool(cursor.fetchone()[0])


def _lock(key: str) -> threading.Lock | None:
    """Hold the scope's lock until the surrounding transaction ends; returns a process lock to release."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", _advisory_key(key))
        return None
    # SQLite has one writer at a time: writing the lock row takes the database's write lock for the
    # rest of the transaction; the process lock keeps a second thread from waiting on it and timing out.
    with _process_locks_guard:
        process_lock = _process_locks[key]
    process_lock.acquire()
    ComputeLock.objects.update_or_create(key=key, defaults={"holder": threading.current_thread().name})
    return process_lock


def indicators_compute(
    *, scope: Region | None, period: Quarter, frozen_counties: set[str] | None = None, progress: Progress | None = None
) -> Outcome:
    """Compute and store every indicator for the scope (a county, or everything under a region,
    or the whole database with None) and the quarter. Idempotent."""
    indicators = registry.indicators()
    if scope is not None and scope.level > Level.COUNTY:
        scope = Region.objects.get(code=scope.code[:6].ljust(12, "0"))
    counties = counties_in(scope)
    frozen = frozen_counties or set()
    key = scope_key(scope, period)
    outcome = Outcome()
    process_lock = None
    try:
        with transaction.atomic():
            process_lock = _lock(key)
            computed_at = timezone.now()
            versions = dict(DataVersion.objects.filter(county__in=counties).values_list("county__code", "version"))
            policy = Policy(period=period)
            figures: dict[str, dict[str, RegionFigure]] = defaultdict(dict)  # indicator → code → figure
            levels_of: dict[str, int] = {}
            live = [county for county in counties if county.code not in frozen]
            total = len(live) + 1
            for done, county in enumerate(live, start=1):
                _compute_within(indicators, period, county, COUNTY_LEVELS, policy, figures, levels_of)
                outcome.counties.append(county.code)
                if progress:
                    progress(done, total, county.name)
            upper = [level for level in (Level.PROVINCE, Level.PREFECTURE) if scope is None or level >= scope.level]
            if upper and live:
                within = "" if scope is None else scope.prefix
                # Region by region, so each reads the parameters set on it or above it.
                for region in Region.objects.filter(level__in=upper, code__startswith=within).order_by("level", "code"):
                    _compute_levels(
                        indicators, period, region.prefix, [region.level], policy, figures, levels_of, region.code
                    )
            outcome.frozen = sorted(frozen & {county.code for county in counties})
            outcome.values = _store(
                indicators, period, policy, figures, levels_of, versions, computed_at, scope, frozen
            )
            if progress:
                progress(total, total, "")
    finally:
        if process_lock is not None:
            process_lock.release()
    return outcome


def _compute_within(
    indicators: list[Indicator],
    period: Quarter,
    county: Region,
    levels: tuple[int, ...],
    policy: Policy,
    figures: dict[str, dict[str, RegionFigure]],
    levels_of: dict[str, int],
) -> None:
    sources: dict[str, FactSource] = {}
    for indicator in indicators:
        for source in indicator.sources():
            sources.setdefault(source.name, source)
    for source in sources.values():
        source.refresh(period=period, within=county.prefix)
    _compute_levels(indicators, period, county.prefix, levels, policy, figures, levels_of, parameter_code=county.code)


def _compute_levels(
    indicators: list[Indicator],
    period: Quarter,
    within: str,
    levels: Sequence[int],
    policy: Policy,
    figures: dict[str, dict[str, RegionFigure]],
    levels_of: dict[str, int],
    parameter_code: str | None = None,
) -> None:
    """Each level: one query per fact source for its indicators, one per custom indicator."""
    for level in levels:
        applicable = [indicator for indicator in indicators if level in indicator.levels]
        where = parameter_code or within.ljust(12, "0")
        where_level = len_to_level(len(within))
        parameters = {
            indicator.code: policy.parameters(indicator.parameters, where, where_level) for indicator in applicable
        }
        by_source: dict[str, list[SourceIndicator]] = defaultdict(list)
        custom: list[Indicator] = []
        for indicator in applicable:
            if isinstance(indicator, SourceIndicator) and type(indicator).compute is SourceIndicator.compute:
                by_source[indicator.source.name].append(indicator)
            else:
                custom.append(indicator)
        results: dict[str, list[RegionFigure]] = {}
        for members in by_source.values():
            results.update(
                aggregate_source(indicators=members, period=period, level=level, within=within, parameters=parameters)
            )
        for indicator in custom:
            results[indicator.code] = indicator.compute(
                period=period, level=level, within=within, parameters=parameters[indicator.code]
            )
        for code, rows in results.items():
            for row in rows:
                figures[code][row.code] = row
                levels_of[row.code] = level


def len_to_level(length: int) -> int:
    for level, size in PREFIX_LENGTH.items():
        if size == length:
            return level
    return Level.PROVINCE


def _store(
    indicators: list[Indicator],
    period: Quarter,
    policy: Policy,
    figures: dict[str, dict[str, RegionFigure]],
    levels_of: dict[str, int],
    versions: dict[str, int],
    computed_at: datetime,
    scope: Region | None,
    frozen: set[str],
) -> int:
    codes = set(levels_of)
    regions = {region.code: region for region in Region.objects.filter(code__in=codes).select_related("parent")}
    last_year = {
        (value.indicator, value.region.code): value.value
        for value in IndicatorValue.objects.for_period(period.year_earlier())
        .filter(region__code__in=codes)
        .select_related("region")
    }
    parents_outside = _parent_values(period, regions, codes)
    rows: list[IndicatorValue] = []
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    for indicator in indicators:
        by_code = figures.get(indicator.code, {})
        for code, figure in by_code.items():
            region = regions.get(code)
            if region is None:
                continue
            level = levels_of[code]
            resolved = policy.target(indicator.code, code, level)
            target = resolved.target if resolved else None
            reference = None
            if target is not None and target.comparator == "not_below_last_year":
                reference = last_year.get((indicator.code, code))
            elif target is not None and target.comparator == "better_than_parent" and region.parent_id:
                parent_code = region.parent.code if region.parent else ""
                parent = by_code.get(parent_code)
                reference = parent.value if parent else parents_outside.get((indicator.code, parent_code))
            rule = policy.rule(indicator.code, code, level)
            judgement = judge(
                indicator=indicator,
                value=figure.value,
                comparator=target.comparator if target else None,
                target_value=target.value if target else None,
                reference=reference,
                rule=rule if target else None,
            )
            rows.append(
                IndicatorValue(
                    region=region,
                    year=period.year,
                    quarter=period.number,
                    indicator=indicator.code,
                    numerator=figure.numerator,
                    denominator=figure.denominator,
                    value=figure.value,
                    records=figure.records,
                    comparator=target.comparator if target else "",
                    target=judgement.target,
                    target_region=regions.get(resolved.region_code) if resolved else None,
                    target_source=target.source if target else "",
                    status=judgement.status,
                    score=judgement.score,
                    full_score=judgement.full_score,
                    data_version=_version_of(code, level, versions),
                    computed_at=computed_at,
                )
            )
            if judgement.full_score is not None and judgement.status in (Status.MET, Status.MISSED):
                total = totals[code]
                total[0] += judgement.score or 0
                total[1] += judgement.full_score
                total[2] += 1 if judgement.status == Status.MISSED else 0
    region_ids = [regions[code].pk for code in codes if code in regions]
    IndicatorValue.objects.for_period(period).filter(region_id__in=region_ids).delete()
    IndicatorValue.objects.bulk_create(rows, batch_size=2000)
    _store_scores(period, regions, totals, computed_at)
    return len(rows)


def _parent_values(
    period: Quarter, regions: dict[str, Region], codes: set[str]
) -> dict[tuple[str, str], Decimal | None]:
    """Stored values of the parents that this run does not compute (the scope's own parent)."""
    outside = {region.parent_id for region in regions.values() if region.parent_id} - {
        region.pk for region in regions.values()
    }
    if not outside:
        return {}
    return {
        (value.indicator, value.region.code): value.value
        for value in IndicatorValue.objects.for_period(period).filter(region_id__in=outside).select_related("region")
    }


def _version_of(code: str, level: int, versions: dict[str, int]) -> int:
    """A county's own version for it and the regions below; the sum of its counties' for a region above."""
    if level < Level.COUNTY:
        prefix = code[: PREFIX_LENGTH[Level(level)]]
        return sum(version for county_code, version in versions.items() if county_code.startswith(prefix))
    return versions.get(code[:6].ljust(12, "0"), 0)


def _store_scores(
    period: Quarter, regions: dict[str, Region], totals: dict[str, list[Decimal]], computed_at: datetime
) -> None:
    siblings: dict[int | None, dict[str, Decimal]] = defaultdict(dict)
    for code, (score, _full, _missed) in totals.items():
        siblings[regions[code].parent_id][code] = score
    ranks: dict[str, int] = {}
    for group in siblings.values():
        ranks.update(competition_ranks(group))
    RegionScore.objects.for_period(period).filter(region_id__in=[r.pk for r in regions.values()]).delete()
    RegionScore.objects.bulk_create(
        [
            RegionScore(
                region=regions[code],
                year=period.year,
                quarter=period.number,
                score=score,
                full_score=full,
                missed=int(missed),
                rank=ranks[code],
                computed_at=computed_at,
            )
            for code, (score, full, missed) in totals.items()
        ],
        batch_size=2000,
    )


def stale_counties(period: Quarter) -> dict[str, int]:
    """County code → current data version, for counties whose stored values are older than their data."""
    current = dict(DataVersion.objects.values_list("county__code", "version"))
    computed = dict(
        IndicatorValue.objects.for_period(period)
        .filter(region__level=Level.COUNTY)
        .values("region__code")
        .annotate(version=Min("data_version"))
        .values_list("region__code", "version")
    )
    return {code: version for code, version in current.items() if computed.get(code, -1) < version}
