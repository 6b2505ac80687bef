"""The 衔接资金 and 村集体经济 figures (funds/indicators) at every region level, on a county with 2,000
projects and 32 villages × 3 years, on PostgreSQL: milliseconds and queries per figure and level.

Usage, from the repository root:

    scripts/with-services .venv/bin/python bench/funds.py                       # 2,000 projects
    scripts/with-services .venv/bin/python bench/funds.py --projects 300 --households 2000 --repeat 3

One process: it creates a fresh database `bench_funds_<projects>` on the server DATABASE_URL names
(dropped afterwards unless --keep), points Django at it and builds the demo county 大姚县 (7
townships, 32 villages) as seed_demo does — regions, --households generated households (20,000)
with their income, the industries and cooperatives demo steps — then funds/demo.py with --projects
projects over 2024–2026 (allocations of four levels with township splits, funding lines,
beneficiaries, 双绑 entities, payments, assets; every village's profile and quarter-to-date
collective income, 2024Q1–2026Q3), the household facts of the measured quarters (the engine's
shared step) and VACUUM ANALYZE. Then, holding an exclusive flock on /tmp/bench.lock (the lock
`flock /tmp/bench.lock` takes, so no other bench measures at the same time), for 2024Q4, 2025Q4
and 2026Q3, --repeat times after one warm-up, the median of:

- each figure's `compute` (the one query the engine runs per level) at province, prefecture,
  county, township and village level, where the figure has that level;
- all of them for all their levels, one after the other (what a county's recompute adds);
- the drill-down lists behind the county's 产业发展资金占比 and 距5万元缺口 (count and sum);
- the engine's whole county recompute (indicators_compute) with and without these figures.

Output: the query count of every measurement (1 per figure and level), the table for 2026Q3, the
totals for the three quarters, the load average before and after; everything in
bench/results/funds-<projects>.json.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import load_average, server_execute  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
LOCK = "/tmp/bench.lock"
LEVELS = ("province", "prefecture", "county", "township", "village")
PERIODS = ((2024, 4), (2025, 4), (2026, 3))
ALL = "all these figures, all their levels"


@contextmanager
def bench_lock() -> Iterator[float]:
    """Hold the lock every timed bench takes; yields the seconds waited for it."""
    began = time.perf_counter()
    with open(LOCK, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"  waiting for {LOCK} …", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield time.perf_counter() - began
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(households: int, projects: int) -> dict[str, Any]:
    """The demo county, as seed_demo writes it, with `projects` projects; seconds per step."""
    from django.core.management import call_command
    from django.db import connection

    from cooperatives.demo import demo_cooperatives_seed
    from figures.periods import Quarter
    from funds.demo import demo_funds_seed
    from households.demo import generate_households
    from households.demo_names import COUNTY, PROVINCE
    from households.demo_writer import demo_households_write, demo_regions_ensure, demo_thresholds_ensure
    from households.facts import HOUSEHOLD_FACTS
    from industries.demo import demo_industries_seed

    timings: dict[str, float] = {}

    def step(name: str, action: Callable[[], Any]) -> None:
        began = time.perf_counter()
        action()
        timings[name] = round(time.perf_counter() - began, 1)
        print(f"  [build] {name}: {timings[name]} s", flush=True)

    step("migrate", lambda: call_command("migrate", verbosity=0, interactive=False))
    regions = demo_regions_ensure()
    county = regions[COUNTY[0]]
    demo_thresholds_ensure(province=regions[PROVINCE[0]])
    step("households", lambda: demo_households_write(generate_households(count=households, seed=1)))
    step("industries", lambda: demo_industries_seed(county=county, seed=1))
    step("cooperatives", lambda: demo_cooperatives_seed(county=county, seed=1))
    step("funds", lambda: demo_funds_seed(county=county, seed=1, projects=projects))
    for year, number in PERIODS:
        period = Quarter(year, number)
        step(f"facts {period}", facts_of(HOUSEHOLD_FACTS, period, county.prefix))

    def analyze() -> None:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    step("vacuum analyze", analyze)
    return timings


def facts_of(source: Any, period: Any, within: str) -> Callable[[], Any]:
    return lambda: source.refresh(period=period, within=within)


def compute_at(indicator: Any, period: Any, level: int, within: str, parameters: Any) -> Callable[[], Any]:
    return lambda: indicator.compute(period=period, level=level, within=within, parameters=parameters)


def counts() -> dict[str, int]:
    from funds.models import (
        Allocation,
        Asset,
        Beneficiary,
        CollectiveIncome,
        Funding,
        Payment,
        Project,
        VillageProfile,
    )
    from households.models import Household
    from regions.models import Level, Region

    models: dict[str, Any] = {
        "households": Household,
        "allocations": Allocation,
        "projects": Project,
        "funding lines": Funding,
        "payments": Payment,
        "beneficiaries": Beneficiary,
        "assets": Asset,
        "village profiles": VillageProfile,
        "collective income reports": CollectiveIncome,
    }
    found = {label: model.objects.count() for label, model in models.items()}
    found["villages"] = Region.objects.filter(level=Level.VILLAGE).count()
    return found


def timed(action: Callable[[], Any], repeat: int) -> dict[str, Any]:
    """Median milliseconds over `repeat` runs after one warm-up, and the queries of one run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    action()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        samples.append(round((time.perf_counter() - began) * 1000, 2))
    with CaptureQueriesContext(connection) as captured:
        action()
    return {"ms": round(statistics.median(samples), 1), "queries": len(captured.captured_queries), "samples": samples}


def measure(repeat: int) -> dict[str, Any]:
    from django.db.models import Sum

    from figures.periods import Quarter
    from funds import indicators as fund_indicators
    from regions.models import Level, Region

    county = Region.objects.get(code="532326000000")
    assert county.parent is not None and county.parent.parent is not None
    places = {
        "province": (Level.PROVINCE, county.parent.parent.prefix),
        "prefecture": (Level.PREFECTURE, county.parent.prefix),
        "county": (Level.COUNTY, county.prefix),
        "township": (Level.TOWNSHIP, county.prefix),
        "village": (Level.VILLAGE, county.prefix),
    }
    ours = fund_indicators.INDICATORS
    defaults = {indicator.code: {p.key: p.default for p in indicator.parameters} for indicator in ours}
    result: dict[str, Any] = {"by_period": {}}
    for year, number in PERIODS:
        period = Quarter(year, number)
        rows: dict[str, dict[str, Any]] = {}
        for indicator in ours:
            rows[indicator.name] = {
                name: timed(compute_at(indicator, period, level, within, defaults[indicator.code]), repeat)
                for name, (level, within) in places.items()
                if level in indicator.levels
            }

        def everything(period: Quarter = period) -> None:
            for indicator in ours:
                for level, within in places.values():
                    if level in indicator.levels:
                        indicator.compute(
                            period=period, level=level, within=within, parameters=defaults[indicator.code]
                        )

        rows[ALL] = {"county": timed(everything, repeat)}
        result["by_period"][str(period)] = rows
    period = Quarter(2026, 3)
    share = fund_indicators.money.IndustryShare()
    gap = fund_indicators.collective.FloorGap()

    def lists() -> tuple[Any, ...]:
        numerator = share.numerator_records(period=period, region=county, parameters={})
        denominator = share.denominator_records(period=period, region=county, parameters={})
        below = gap.numerator_records(period=period, region=county, parameters=defaults[gap.code])
        return (
            numerator.count(),
            numerator.aggregate(total=Sum("amount"))["total"],
            denominator.aggregate(total=Sum("amount"))["total"],
            len(list(below)),
        )

    result["drill_down"] = {"county": timed(lists, repeat), "found": [str(value) for value in lists()]}
    result["engine"] = engine_with_and_without(county, period, ours, repeat)
    result["county_2026Q3"] = {
        indicator.code: [
            str(figure.numerator),
            str(figure.denominator),
            str(figure.value),
        ]
        for indicator in ours
        for figure in indicator.compute(
            period=period, level=Level.COUNTY, within=county.prefix, parameters=defaults[indicator.code]
        )
    }
    return result


def engine_with_and_without(county: Any, period: Any, ours: list[Any], repeat: int) -> dict[str, Any]:
    """The county's whole recompute with and without these figures, interleaved, one warm-up each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from assessment.engine import indicators_compute
    from figures import registry

    samples: dict[str, list[float]] = {"with": [], "without": []}
    queries: dict[str, int] = {}
    for round_number in range(repeat + 1):
        for label in ("without", "with"):
            if label == "without":
                for indicator in ours:
                    registry.unregister(indicator.code)
            try:
                with CaptureQueriesContext(connection) as captured:
                    began = time.perf_counter()
                    indicators_compute(scope=county, period=period)
                    elapsed = (time.perf_counter() - began) * 1000
            finally:
                for indicator in ours:
                    registry.register(indicator)
            queries[label] = len(captured.captured_queries)
            if round_number:
                samples[label].append(round(elapsed, 1))
    return {
        label: {"ms": round(statistics.median(samples[label]), 1), "queries": queries[label], "samples": samples[label]}
        for label in samples
    }


def cell(figure: dict[str, Any] | None) -> str:
    return "—" if figure is None else f"{figure['ms']:,.1f} ms / {figure['queries']} q"


def table(rows: dict[str, dict[str, Any]]) -> str:
    lines = ["| figure | " + " | ".join(LEVELS) + " |", "|---|" + "---|" * len(LEVELS)]
    for name, by_level in rows.items():
        lines.append(f"| {name} | " + " | ".join(cell(by_level.get(level)) for level in LEVELS) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--households", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(server_url)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL server (run under scripts/with-services)")
    database = f"bench_funds_{args.projects}"
    server_execute(server_url, f'DROP DATABASE IF EXISTS "{database}"', f'CREATE DATABASE "{database}"')
    os.environ["DATABASE_URL"] = urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DEBUG"] = "0"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection, connections

    try:
        print(f"[{args.projects:,} projects, {args.households:,} households] database {database}", flush=True)
        built = build(args.households, args.projects)
        found = counts()
        with bench_lock() as waited:
            before = load_average()
            measured = measure(args.repeat)
            after = load_average()
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
    finally:
        connections.close_all()
        if not args.keep:
            server_execute(server_url, f'DROP DATABASE IF EXISTS "{database}"')
    result = {
        "projects": args.projects,
        "households": args.households,
        "build_s": built,
        "counts": found,
        "lock_wait_s": round(waited, 1),
        "load_before": before,
        "load_after": after,
        **measured,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"funds-{args.projects}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print()
    print(f"rows: {found}")
    print(f"build (s): {built}")
    print(f"load average before {before}, after {after}; waited {waited:.1f} s for {LOCK}")
    print(f"PostgreSQL {version}, Python {platform.python_version()}, {os.cpu_count()} CPUs; median of {args.repeat}")
    print()
    print("2026Q3:")
    print(table(measured["by_period"]["2026Q3"]))
    print()
    for period, rows in measured["by_period"].items():
        queries = {figure["queries"] for name, by_level in rows.items() if name != ALL for figure in by_level.values()}
        total = rows[ALL]["county"]
        print(f"{period}: all figures at all levels {cell(total)}; queries per figure and level: {sorted(queries)}")
    drill = measured["drill_down"]
    print(f"drill-down lists at the county (count, Σ arranged, Σ allocated, villages below): {cell(drill['county'])}")
    print(f"  found {drill['found']}")
    engine = measured["engine"]
    print(
        f"engine, county recompute 2026Q3: with these figures {cell(engine['with'])}, without {cell(engine['without'])}"
    )
    print(f"county 2026Q3 (numerator, denominator, value): {json.dumps(measured['county_2026Q3'], ensure_ascii=False)}")


if __name__ == "__main__":
    main()
