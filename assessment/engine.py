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
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from assessment.models import ComputeLock, IndicatorValue
from assessment.policy import Policy
from assessment.storing import store
from figures import registry
from figures.periods import Quarter
from figures.registry import (
    Aggregated,
    Breakdown,
    FactSource,
    Indicator,
    RegionFigure,
    SourceBreakdown,
    SourceIndicator,
    Totals,
    aggregate_source,
    figure_of,
    full_code,
    is_additive,
    roll_up,
    source_totals,
)
from regions.db import statistics_refresh
from regions.models import DataVersion, Level, Region, county_code_of

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


def scope_keys(scope: Region | None, period: Quarter) -> list[str]:
    """The locks a run of the scope takes: one per county it computes, in code order, so a county's
    run and a run of everything above it never interleave (and two runs never deadlock)."""
    counties = counties_in(scope)
    return [f"{county.code}:{period}" for county in counties] or [f"{scope.code if scope else 'all'}:{period}"]


def counties_in(scope: Region | None) -> list[Region]:
    counties = Region.objects.filter(level=Level.COUNTY).order_by("code")
    if scope is None:
        return list(counties)
    if scope.level >= Level.COUNTY:
        return [Region.objects.get(code=county_code_of(scope.code))]
    return list(counties.filter(code__startswith=scope.prefix))


def _advisory_key(key: str) -> list[int]:
    return [0x5A58, zlib.crc32(key.encode()) & 0x7FFFFFFF]


def locks_are_free(keys: list[str]) -> bool:
    """Whether no computation holds any of these locks now (PostgreSQL; always True on SQLite,
    where computations run in the process that asks)."""
    if connection.vendor != "postgresql":
        return True
    with transaction.atomic(), connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", _advisory_key(key))
            if not cursor.fetchone()[0]:
                return False
    return True


def _lock(keys: list[str]) -> list[threading.Lock]:
    """Hold the locks until the surrounding transaction ends; returns the process locks to release."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for key in keys:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", _advisory_key(key))
        return []
    # SQLite has one writer at a time: writing a lock row takes the database's write lock for the
    # rest of the transaction; the process locks keep a second thread from waiting on it and timing out.
    taken: list[threading.Lock] = []
    for key in keys:
        with _process_locks_guard:
            process_lock = _process_locks[key]
        process_lock.acquire()
        taken.append(process_lock)
    for key in keys:
        ComputeLock.objects.update_or_create(key=key, defaults={"holder": threading.current_thread().name})
    return taken


def indicators_compute(
    *, scope: Region | None, period: Quarter, frozen_counties: set[str] | None = None, progress: Progress | None = None
) -> Outcome:
    """Compute and store every indicator for the scope (a county, or everything under a region,
    or the whole database with None) and the quarter. Idempotent."""
    if scope is not None and scope.level > Level.COUNTY:
        scope = Region.objects.get(code=county_code_of(scope.code))
    counties = counties_in(scope)
    frozen = frozen_counties or set()
    keys = scope_keys(scope, period)
    outcome = Outcome()
    process_locks: list[threading.Lock] = []
    try:
        with transaction.atomic():
            process_locks = _lock(keys)
            computed_at = timezone.now()
            versions = dict(DataVersion.objects.filter(county__in=counties).values_list("county__code", "version"))
            run = Computation(period)
            live = [county for county in counties if county.code not in frozen]
            upper = [level for level in (Level.PROVINCE, Level.PREFECTURE) if scope is None or level >= scope.level]
            total = len(live) + 1
            for done, county in enumerate(live, start=1):
                run.county(county)
                outcome.counties.append(county.code)
                if progress:
                    progress(done, total, county.name)
            if upper and live:
                for county in counties:
                    if county.code in frozen:
                        run.village_totals(county)  # the frozen county's facts still count above it
                        run.breakdown_village_totals(county)
                run.upper(upper, "" if scope is None else scope.prefix)
            outcome.frozen = sorted(frozen & {county.code for county in counties})
            outcome.values = store(run, versions, computed_at)
            if progress:
                progress(total, total, "")
    finally:
        for process_lock in reversed(process_locks):
            process_lock.release()
    return outcome


class Computation:
    """The figures of one run, level by level.

    Indicators over a fact source whose aggregates are plain sums and counts are computed once per
    county at village level (one query per source) and added up to the township, the county and
    the levels above; the others, and custom indicators, take one query per level.
    """

    def __init__(self, period: Quarter) -> None:
        self.period = period
        self.indicators = registry.indicators()
        self.policy = Policy(period=period)
        self.figures: dict[str, dict[str, RegionFigure]] = defaultdict(dict)  # indicator → code → figure
        self.levels_of: dict[str, int] = {}
        self.totals: dict[str, dict[str, Totals]] = defaultdict(dict)  # indicator → village prefix → totals
        self.breakdowns = registry.breakdowns()
        # breakdown → region code → named counts; and the villages' own, for the levels above a county
        self.distributions: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
        self.village_distributions: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
        self.sources: dict[str, FactSource] = {}
        declared: list[Indicator | Breakdown] = [*self.indicators, *self.breakdowns]
        for each in declared:
            for source in each.sources():
                self.sources.setdefault(source.name, source)

    def parameters(self, indicators: Sequence[Indicator], code: str, level: int) -> dict[str, dict[str, Decimal]]:
        return {indicator.code: self.policy.parameters(indicator.parameters, code, level) for indicator in indicators}

    def split(
        self, parameters: dict[str, dict[str, Decimal]]
    ) -> tuple[dict[str, list[SourceIndicator]], list[Indicator]]:
        """Additive source indicators by source; the rest."""
        additive: dict[str, list[SourceIndicator]] = defaultdict(list)
        rest: list[Indicator] = []
        for indicator in self.indicators:
            if (
                isinstance(indicator, SourceIndicator)
                and type(indicator).compute is SourceIndicator.compute
                and is_additive(indicator, period=self.period, parameters=parameters[indicator.code])
            ):
                additive[indicator.source.name].append(indicator)
            else:
                rest.append(indicator)
        return additive, rest

    def county(self, county: Region) -> None:
        for source in self.sources.values():
            written = source.refresh(period=self.period, within=county.prefix)
            # A first build can leave the planner counting none of the rows it is about to aggregate.
            statistics_refresh(models=[source.rows(period=self.period).model], written=written)
        parameters = self.parameters(self.indicators, county.code, Level.COUNTY)
        additive, rest = self.split(parameters)
        villages = self.village_totals(county, additive=additive, parameters=parameters)
        for level in COUNTY_LEVELS:
            for members in additive.values():
                for indicator in members:
                    if level in indicator.levels:
                        own = {prefix: t[indicator.code] for prefix, t in villages.items() if indicator.code in t}
                        self.keep(indicator, level, roll_up(own, level))
            self.per_level(rest, level, county.prefix, parameters)
        villages_by_breakdown = self.breakdown_village_totals(county)
        for code, villages_of in villages_by_breakdown.items():
            for level in COUNTY_LEVELS:
                for prefix, counts in roll_up(villages_of, level).items():
                    self.distributions[code][full_code(prefix)] = counts

    def breakdown_village_totals(self, county: Region) -> dict[str, dict[str, dict[str, int]]]:
        """Every village's counts of every breakdown: those over a fact source come with the
        indicators' query (village_totals); the others take one query each."""
        found: dict[str, dict[str, dict[str, int]]] = {}
        for breakdown in self.breakdowns:
            if isinstance(breakdown, SourceBreakdown):
                own = self.village_distributions[breakdown.code]
                found[breakdown.code] = {prefix: c for prefix, c in own.items() if prefix.startswith(county.prefix)}
                continue
            parameters = self.policy.parameters(breakdown.parameters, county.code, Level.COUNTY)
            found[breakdown.code] = breakdown.village_totals(
                period=self.period, within=county.prefix, parameters=parameters
            )
            self.village_distributions[breakdown.code].update(found[breakdown.code])
        return found

    def village_totals(
        self,
        county: Region,
        *,
        additive: dict[str, list[SourceIndicator]] | None = None,
        parameters: dict[str, dict[str, Decimal]] | None = None,
    ) -> dict[str, dict[str, Totals]]:
        """One query per fact source: every village's totals of the additive indicators and the
        counts of the breakdowns over that source."""
        if parameters is None:
            parameters = self.parameters(self.indicators, county.code, Level.COUNTY)
        if additive is None:
            additive, _ = self.split(parameters)
        source_breakdowns = [b for b in self.breakdowns if isinstance(b, SourceBreakdown)]
        parameters = {
            **parameters,
            **{b.code: self.policy.parameters(b.parameters, county.code, Level.COUNTY) for b in source_breakdowns},
        }
        villages: dict[str, dict[str, Totals]] = defaultdict(dict)
        for name in {*additive, *(b.source.name for b in source_breakdowns)}:
            breakdowns_here = [b for b in source_breakdowns if b.source.name == name]
            members: list[Aggregated] = [*additive.get(name, []), *breakdowns_here]
            found = source_totals(
                indicators=members, period=self.period, level=Level.VILLAGE, within=county.prefix, parameters=parameters
            )
            counted = {b.code for b in breakdowns_here}
            for prefix, by_code in found.items():
                for code, totals in by_code.items():
                    if code in counted:
                        self.village_distributions[code][prefix] = {k: v or 0 for k, v in totals.items()}
                    else:
                        villages[prefix][code] = totals
                        self.totals[code][prefix] = totals
        return villages

    def upper(self, levels: Sequence[int], within: str) -> None:
        """The prefectures and the province: additive indicators from every village's totals; the others
        region by region, so each reads the parameters set on it or above it."""
        for region in Region.objects.filter(level__in=levels, code__startswith=within).order_by("level", "code"):
            parameters = self.parameters(self.indicators, region.code, region.level)
            additive, rest = self.split(parameters)
            for members in additive.values():
                for indicator in members:
                    if region.level in indicator.levels:
                        own = {
                            prefix: totals
                            for prefix, totals in self.totals[indicator.code].items()
                            if prefix.startswith(region.prefix)
                        }
                        self.keep(indicator, region.level, roll_up(own, region.level))
            self.per_level(rest, region.level, region.prefix, parameters)
            for code, villages_of in self.village_distributions.items():
                own = {prefix: counts for prefix, counts in villages_of.items() if prefix.startswith(region.prefix)}
                for prefix, counts in roll_up(own, region.level).items():
                    self.distributions[code][full_code(prefix)] = counts

    def per_level(
        self, indicators: Sequence[Indicator], level: int, within: str, parameters: dict[str, dict[str, Decimal]]
    ) -> None:
        """One query per fact source for the batched indicators, one per custom indicator."""
        applicable = [indicator for indicator in indicators if level in indicator.levels]
        by_source: dict[str, list[SourceIndicator]] = defaultdict(list)
        for indicator in applicable:
            if isinstance(indicator, SourceIndicator) and type(indicator).compute is SourceIndicator.compute:
                by_source[indicator.source.name].append(indicator)
            else:
                for row in indicator.compute(
                    period=self.period, level=level, within=within, parameters=parameters[indicator.code]
                ):
                    self.put(indicator.code, level, row)
        for members in by_source.values():
            found = aggregate_source(
                indicators=members, period=self.period, level=level, within=within, parameters=parameters
            )
            for code, rows in found.items():
                for row in rows:
                    self.put(code, level, row)

    def keep(self, indicator: SourceIndicator, level: int, totals: dict[str, Totals]) -> None:
        for prefix, own in totals.items():
            self.put(indicator.code, level, figure_of(indicator, prefix, own))

    def put(self, code: str, level: int, figure: RegionFigure) -> None:
        self.figures[code][figure.code] = figure
        self.levels_of[figure.code] = level


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
