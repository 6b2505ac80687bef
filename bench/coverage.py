"""The 产业与双绑 coverage figures (cooperatives/indicators.py, industries/indicators.py) at every region
level, at 20,000 and 200,000 households, on PostgreSQL: milliseconds and queries per level.

Usage, from the repository root:

    scripts/with-services .venv/bin/python bench/coverage.py                  # 20,000 and 200,000
    scripts/with-services .venv/bin/python bench/coverage.py --sizes 2000     # a quick look

For every size N, a fresh database `bench_coverage_<N>` on the server DATABASE_URL names (dropped
afterwards unless --keep) and a child process that builds it and measures:

1. build, in SQL (no Python loop over households): the province of bench/assessment_province.py
   with all N households in its first county (10–14 townships, 12–18 villages each), members,
   monitoring cases and four quarters of income ending 2026Q3; then for that county's registers of
   issue 10: 6 industries, 3 enterprises at each county and 1 at each township, 0–3 cooperatives
   per village (8% of villages none, 5% of cooperatives cancelled before the date), a binding for
   80% of cooperatives (a tenth of them ended before the date), memberships for 70% of 脱贫户 and
   30% of the others (a tenth in a second cooperative, 5% left before the date), 分红 / 土地流转租金
   for some memberships, 产业到户 for 60% of 脱贫户, planned and reported scales; inserted in key
   order, so the same N gives the same rows. Then the quarter's household facts (the engine's
   shared step, not timed here) and VACUUM ANALYZE.
2. measure, under an exclusive flock on /tmp/bench.lock (what `flock /tmp/bench.lock` takes), for
   2026Q3 (date 2026-09-30), --repeat times after one warm-up, the median:
   - the three household shares (双绑覆盖率, 入社率, 产业到户率) in the one query over the facts that
     the engine runs per level (`aggregate_source`), at province, prefecture, county, township and
     village level; and as the engine really runs them for a county: one query at village level
     added up to township and county in Python (over villages, never households);
   - each other figure's `compute` (one query per level) at every level it has;
   - the county's drill-down lists behind 双绑覆盖率 (numerator count, households left count);
   - the township admin's 双绑 覆盖 page (first page, through django.test.Client);
   - the 疑点 rule over the county;
   - the engine's whole county recompute (indicators_compute) with and without these figures.

Output: per size the table (ms and queries per level), then the sizes side by side with the
query counts (which must not change with N) and the load average before and after; everything in
bench/results/coverage-<N>.json.
"""

from __future__ import annotations

import argparse
import fcntl
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import load_average, server_execute, with_database  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))

# The province builder of bench/assessment_province.py, in SQL (a script beside this one, not a package).
province: Any = importlib.import_module("assessment_province")

RESULTS_DIR = ROOT / "bench" / "results"
LOCK = "/tmp/bench.lock"
DEFAULT_SETTINGS = "config.settings.test"
rnd = province.rnd


def coverage_sql() -> list[tuple[str, str]]:
    """The issue 10 registers of the counties that have households, in SQL."""
    county_of = "(SELECT c.id FROM regions_region c WHERE c.code = SUBSTR({}.code, 1, 6) || '000000')"
    entity_columns = (
        "version, kind, name, credit_code, region_id, level, annual_sales, founded_on, legal_person,"
        " contact_name, contact_phone, address, status, cancelled_on"
    )
    populated = (
        "SELECT DISTINCT SUBSTR(v.code, 1, 6) FROM households_household h JOIN regions_region v ON v.id = h.village_id"
    )
    return [
        (
            "industries",
            f"""INSERT INTO industries_industry (version, county_id, name, category_id, unit_id, note, is_active)
            SELECT 1, c.id, n.name, (SELECT id FROM industries_industrycategory WHERE code = n.category),
                (SELECT id FROM industries_scaleunit WHERE code = n.unit), '', TRUE
            FROM regions_region c CROSS JOIN (VALUES ('烤烟', 'planting', 'mu'), ('核桃', 'forestry_fruit', 'mu'),
                ('花椒', 'forestry_fruit', 'mu'), ('芒果', 'forestry_fruit', 'mu'),
                ('特色水果', 'forestry_fruit', 'mu'), ('黑山羊', 'breeding', 'animal')) AS n(name, category, unit)
            WHERE c.level = 3 AND SUBSTR(c.code, 1, 6) IN ({populated})""",
        ),
        (
            "enterprises",
            f"""INSERT INTO cooperatives_entity ({entity_columns})
            SELECT 1, 'enterprise', r.name || '龙头企业' || k,
                'E' || lpad(r.id::text, 12, '0') || lpad(k::text, 5, '0'), r.id,
                (ARRAY['national', 'provincial', 'prefectural', 'county'])[
                    1 + floor({rnd("r.id * 10 + k", 70)} * 4)::int],
                5000000, DATE '2018-01-01', '', '', '', '', 'active', NULL
            FROM regions_region r CROSS JOIN LATERAL generate_series(1, CASE WHEN r.level = 3 THEN 3 ELSE 1 END) k
            WHERE r.level IN (3, 4) AND SUBSTR(r.code, 1, 6) IN ({populated})
            ORDER BY r.code, k""",
        ),
        (
            "cooperatives",
            f"""INSERT INTO cooperatives_entity ({entity_columns})
            SELECT 1, 'cooperative', v.name || '合作社' || k, 'C' || lpad(v.id::text, 12, '0') || lpad(k::text, 5, '0'),
                v.id, CASE WHEN {rnd("v.id * 10 + k", 74)} < 0.01 THEN 'provincial'
                           WHEN {rnd("v.id * 10 + k", 74)} < 0.04 THEN 'prefectural'
                           WHEN {rnd("v.id * 10 + k", 74)} < 0.14 THEN 'county' ELSE 'none' END,
                NULL, DATE '2019-01-01', '', '', '', '',
                CASE WHEN {rnd("v.id * 10 + k", 73)} < 0.05 THEN 'cancelled' ELSE 'active' END,
                CASE WHEN {rnd("v.id * 10 + k", 73)} < 0.05 THEN DATE '2026-03-01' END
            FROM regions_region v CROSS JOIN LATERAL generate_series(
                1, CASE WHEN {rnd("v.id", 71)} < 0.08 THEN 0 ELSE 1 + floor({rnd("v.id", 72)} * 3)::int END) k
            WHERE v.level = 5 AND SUBSTR(v.code, 1, 6) IN ({populated})
            ORDER BY v.code, k""",
        ),
        (
            "family farms",
            f"""INSERT INTO cooperatives_entity ({entity_columns})
            SELECT 1, 'family_farm', v.name || '家庭农场', 'F' || lpad(v.id::text, 17, '0'), v.id, 'none', NULL,
                DATE '2020-01-01', '', '', '', '', 'active', NULL
            FROM regions_region v
            WHERE v.level = 5 AND {rnd("v.id", 77)} < 0.5 AND SUBSTR(v.code, 1, 6) IN ({populated})
            ORDER BY v.code""",
        ),
        (
            "bindings",
            f"""INSERT INTO cooperatives_binding (version, enterprise_id, cooperative_id, contract_number,
                started_on, ended_on, order_volume, order_amount)
            SELECT 1, (
                    SELECT e.id FROM cooperatives_entity e JOIN regions_region er ON er.id = e.region_id
                    WHERE e.kind = 'enterprise'
                      AND er.code IN (SUBSTR(v.code, 1, 9) || '000', SUBSTR(v.code, 1, 6) || '000000')
                    ORDER BY hashint8extended(e.id + c.id * 7, 78) LIMIT 1),
                c.id, 'HT' || c.id, DATE '2024-01-01',
                CASE WHEN {rnd("c.id", 75)} < 0.1 THEN DATE '2026-06-30' END, '', NULL
            FROM cooperatives_entity c JOIN regions_region v ON v.id = c.region_id
            WHERE c.kind = 'cooperative' AND {rnd("c.id", 76)} < 0.8
            ORDER BY c.id""",
        ),
        (
            "memberships",
            f"""INSERT INTO cooperatives_membership (
                version, cooperative_id, household_id, joining_method_id, shares, joined_on, left_on)
            WITH coop AS (
                SELECT c.id, c.region_id AS village_id,
                    row_number() OVER (PARTITION BY c.region_id ORDER BY c.id) AS k,
                    COUNT(*) OVER (PARTITION BY c.region_id) AS n
                FROM cooperatives_entity c WHERE c.kind = 'cooperative'
            ),
            pick AS (
                SELECT h.id AS household_id, h.village_id, floor({rnd("h.id", 80)} * 1000)::int AS r,
                    {rnd("h.id", 82)} < 0.1 AS second
                FROM households_household h
                WHERE {rnd("h.id", 81)} < CASE WHEN h.household_type = 'lifted' THEN 0.7 ELSE 0.3 END
            )
            SELECT 1, c.id, p.household_id, (SELECT id FROM cooperatives_joiningmethod WHERE code = 'money'),
                1000, DATE '2025-03-01',
                CASE WHEN {rnd("p.household_id * 4 + c.k", 83)} < 0.05 THEN DATE '2026-05-01' END
            FROM pick p JOIN coop c ON c.village_id = p.village_id
                AND (c.k = 1 + p.r % c.n OR (p.second AND c.n > 1 AND c.k = 1 + (p.r + 1) % c.n))
            ORDER BY p.household_id, c.id""",
        ),
        (
            "earnings",
            f"""INSERT INTO cooperatives_earning (version, household_id, cooperative_id, year, kind_id, amount)
            SELECT 1, m.household_id, m.cooperative_id, 2026, k.id,
                ROUND((100 + {rnd("m.id * 8 + k.id", 85)} * 700)::numeric, 2)
            FROM cooperatives_membership m CROSS JOIN cooperatives_earningkind k
            WHERE k.code IN ('dividend', 'land_rent')
              AND {rnd("m.id * 8 + k.id", 84)} < CASE k.code WHEN 'dividend' THEN 0.6 ELSE 0.3 END
            ORDER BY m.id, k.id""",
        ),
        (
            "participations",
            f"""INSERT INTO industries_participation (version, household_id, year, industry_id, scale, note)
            SELECT 1, h.id, 2026, (
                    SELECT i.id FROM industries_industry i WHERE i.county_id = {county_of.format("v")}
                    ORDER BY i.id OFFSET floor({rnd("h.id", 90)} * 6)::int LIMIT 1),
                1 + floor({rnd("h.id", 91)} * 10), ''
            FROM households_household h JOIN regions_region v ON v.id = h.village_id
            WHERE {rnd("h.id", 92)} < CASE WHEN h.household_type = 'lifted' THEN 0.6 ELSE 0.2 END
            ORDER BY h.id""",
        ),
        (
            "scale plans",
            f"""INSERT INTO industries_scaleplan (version, region_id, year, industry_id, scale, source_document)
            SELECT 1, r.id, 2026, i.id,
                ROUND((CASE r.level WHEN 3 THEN 5000 WHEN 4 THEN 500 ELSE 40 END
                       * (0.5 + {rnd("r.id * 8 + i.id", 93)}))::numeric, 2), ''
            FROM regions_region r JOIN industries_industry i ON i.county_id = {county_of.format("r")}
            WHERE r.level BETWEEN 3 AND 5
              AND (r.level = 3 OR {rnd("r.id * 8 + i.id", 94)} < CASE r.level WHEN 4 THEN 0.3 ELSE 0.15 END)""",
        ),
        (
            "scale reports",
            f"""INSERT INTO industries_scalereport (version, village_id, year, industry_id, scale)
            SELECT 1, v.id, 2026, i.id, ROUND((40 * (0.3 + 1.2 * {rnd("v.id * 8 + i.id", 95)}))::numeric, 2)
            FROM regions_region v JOIN industries_industry i ON i.county_id = {county_of.format("v")}
            WHERE v.level = 5 AND {rnd("v.id * 8 + i.id", 96)} < 0.4""",
        ),
    ]


# --------------------------------------------------------------------------------------------
# The child: build, then measure
# --------------------------------------------------------------------------------------------


@contextmanager
def bench_lock(skip: bool = False) -> Iterator[float]:
    """Hold the lock every timed bench takes, so two never measure at once; yields the seconds waited."""
    began = time.perf_counter()
    if skip:
        print("  --no-lock: a debug run, its times are not measurements", flush=True)
        yield 0.0
        return
    with open(LOCK, "a") as handle:
        if not _try_lock(handle):
            print(f"  waiting for {LOCK} …", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield time.perf_counter() - began
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _try_lock(handle: Any) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def build(households: int) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0, interactive=False)
    plan = province.Plan(
        households=households, county_households=households, quarters=province.quarters_ending(2026, 3, 4)
    )
    steps: list[tuple[str, str]] = [(f"regions {n}", sql) for n, sql in enumerate(province.regions_sql())]
    steps += [
        ("plan", province.plan_sql(plan)),
        ("households", province.households_sql()),
        ("members", province.members_sql()),
        *((f"cases {n}", sql) for n, sql in enumerate(province.cases_sql())),
        ("income", province.income_sql(plan)),
        *((f"threshold {n}", sql) for n, sql in enumerate(province.policy_sql())),
        ("drop plan", "DROP TABLE bench_plan"),
        *coverage_sql(),
    ]
    rows: dict[str, int] = {}
    timings: dict[str, float] = {}
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET work_mem = '256MB'")
        for name, statement in steps:
            began = time.perf_counter()
            with transaction.atomic():
                cursor.execute(statement)
            rows[name] = max(cursor.rowcount, 0)
            timings[name] = round(time.perf_counter() - began, 2)
            print(f"  [build] {name}: {rows[name]:,} rows, {timings[name]:.1f} s", flush=True)
        cursor.execute("RESET session_replication_role")
    return {"rows": rows, "timings": timings}


def prepare(period: Any) -> dict[str, Any]:
    """The county's facts of the quarter (the engine's shared step), a township admin, statistics."""
    from django.db import connection

    from households.facts import HOUSEHOLD_FACTS
    from regions.models import Level, Region, Role
    from regions.services import user_create

    county = Region.objects.filter(level=Level.COUNTY).order_by("code").first()
    assert county is not None
    began = time.perf_counter()
    facts = HOUSEHOLD_FACTS.refresh(period=period, within=county.prefix)
    refreshed = time.perf_counter() - began
    township = Region.objects.filter(parent=county).order_by("code").first()
    user_create(username="xiang", password="bench-password-123", role=Role.TOWNSHIP_ADMIN, region=township)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"facts_rows": facts, "facts_refresh_s": round(refreshed, 2)}


def counts() -> dict[str, int]:
    from django.db import connection

    tables = {
        "households": "households_household",
        "members": "households_member",
        "income records": "households_incomerecord",
        "villages": "regions_region WHERE level = 5 AND id IN (SELECT DISTINCT village_id FROM households_household)",
        "entities": "cooperatives_entity",
        "bindings": "cooperatives_binding",
        "memberships": "cooperatives_membership",
        "earnings": "cooperatives_earning",
        "participations": "industries_participation",
        "scale plans": "industries_scaleplan",
    }
    found = {}
    with connection.cursor() as cursor:
        for label, table in tables.items():
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            found[label] = int(cursor.fetchone()[0])
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
        samples.append((time.perf_counter() - began) * 1000)
    with CaptureQueriesContext(connection) as captured:
        action()
    return {"ms": round(statistics.median(samples), 1), "queries": len(captured.captured_queries), "samples": samples}


def measure(repeat: int) -> dict[str, Any]:
    from django.test import Client

    from cooperatives import indicators as cooperative_indicators
    from cooperatives.alert_rules import PropertyIncomeBelowEarnings
    from figures import registry
    from figures.periods import Quarter
    from figures.registry import SourceIndicator, aggregate_source, roll_up, source_totals
    from industries import indicators as industry_indicators
    from regions.models import Level, Region

    period = Quarter(2026, 3)
    county = Region.objects.filter(level=Level.COUNTY).order_by("code").first()
    assert county is not None and county.parent is not None and county.parent.parent is not None
    places = {
        "province": (Level.PROVINCE, county.parent.parent.prefix),
        "prefecture": (Level.PREFECTURE, county.parent.prefix),
        "county": (Level.COUNTY, county.prefix),
        "township": (Level.TOWNSHIP, county.prefix),
        "village": (Level.VILLAGE, county.prefix),
    }
    ours = [*cooperative_indicators.INDICATORS, *industry_indicators.INDICATORS]
    shares = [indicator for indicator in ours if isinstance(indicator, SourceIndicator)]
    others = [indicator for indicator in ours if not isinstance(indicator, SourceIndicator)]
    no_parameters: dict[str, dict[str, Any]] = {indicator.code: {} for indicator in ours}
    rows: dict[str, dict[str, Any]] = {}

    def shares_at(level: int, within: str) -> Callable[[], Any]:
        return lambda: aggregate_source(
            indicators=shares, period=period, level=level, within=within, parameters=no_parameters
        )

    rows["3 household shares (one query)"] = {
        name: timed(shares_at(level, within), repeat) for name, (level, within) in places.items()
    }

    def engine_way() -> None:
        villages = source_totals(
            indicators=shares, period=period, level=Level.VILLAGE, within=county.prefix, parameters=no_parameters
        )
        for indicator in shares:
            own = {prefix: totals[indicator.code] for prefix, totals in villages.items()}
            for level in (Level.TOWNSHIP, Level.COUNTY):
                roll_up(own, level)

    rows["3 household shares, the engine's way (village query + sums)"] = {"county": timed(engine_way, repeat)}

    def compute_at(indicator: Any, level: int, within: str) -> Callable[[], Any]:
        return lambda: indicator.compute(period=period, level=level, within=within, parameters={})

    for indicator in others:
        rows[indicator.name] = {
            name: timed(compute_at(indicator, level, within), repeat)
            for name, (level, within) in places.items()
            if level in indicator.levels
        }
    coverage = registry.get("binding_coverage")
    assert coverage is not None
    from assessment.selectors import drill_down

    rows["drill-down counts at the county (已双绑, 未覆盖)"] = {
        "county": timed(
            lambda: (
                drill_down(region=county, period=period, indicator=coverage, side="numerator").count(),
                drill_down(region=county, period=period, indicator=coverage, side="complement").count(),
            ),
            repeat,
        )
    }
    from django.conf import settings

    # Not setup_test_environment(): the instrumented template renderer would add its own cost.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    assert client.login(username="xiang", password="bench-password-123")

    def township_page() -> None:
        response = client.get("/cooperatives/coverage/", {"period": str(period)})
        assert response.status_code == 200

    rows["双绑 覆盖 page, township admin, page 1"] = {"township": timed(township_page, repeat)}
    rule = PropertyIncomeBelowEarnings()
    flagged = len(list(rule.find(period=period, within=county.prefix, parameters={})))
    rows["疑点 rule over the county"] = {
        "county": timed(lambda: list(rule.find(period=period, within=county.prefix, parameters={})), repeat)
    }
    with_ours, without = engine_with_and_without(county, period, ours, repeat)
    figures = {
        code: [str(value) for value in values]
        for code, values in _stored(county, period, [indicator.code for indicator in ours]).items()
    }
    rows["engine: county recompute, all figures"] = {"county": with_ours}
    rows["engine: county recompute, without these 10"] = {"county": without}
    return {"rows": rows, "county_figures": figures, "alerts_flagged": flagged}


def engine_with_and_without(
    county: Any, period: Any, ours: list[Any], repeat: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The county's whole recompute with and without these figures, interleaved (a slow spell of the
    shared machine then falls on both), one warm-up each; the last run with them leaves their values."""
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
                samples[label].append(elapsed)

    def summary(label: str) -> dict[str, Any]:
        return {"ms": round(statistics.median(samples[label]), 1), "queries": queries[label], "samples": samples[label]}

    return summary("with"), summary("without")


def _stored(county: Any, period: Any, codes: list[str]) -> dict[str, tuple[Any, ...]]:
    from assessment.models import IndicatorValue

    return {
        row[0]: row[1:]
        for row in IndicatorValue.objects.for_period(period)
        .filter(region=county, indicator__in=codes)
        .values_list("indicator", "numerator", "denominator", "value")
    }


def child_main(args: argparse.Namespace) -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", args.settings)
    import django

    django.setup()
    from figures.periods import Quarter

    began = time.perf_counter()
    built = build(args.households)
    prepared = prepare(Quarter(2026, 3))
    built["seconds"] = round(time.perf_counter() - began, 1)
    with bench_lock(args.no_lock) as waited:
        before = load_average()
        measured = measure(args.repeat)
        after = load_average()
    result = {
        "households": args.households,
        "build": built,
        "prepare": prepared,
        "counts": counts(),
        "lock_wait_s": round(waited, 1),
        "load_before": before,
        "load_after": after,
        **measured,
    }
    Path(args.result).write_text(json.dumps(result, ensure_ascii=False, default=str))


# --------------------------------------------------------------------------------------------
# The parent: a database per size, the tables
# --------------------------------------------------------------------------------------------


LEVELS = ["province", "prefecture", "county", "township", "village"]


def cell(figure: dict[str, Any] | None) -> str:
    return "—" if figure is None else f"{figure['ms']:,.1f} ms / {figure['queries']} q"


def size_table(result: dict[str, Any]) -> str:
    lines = [
        "| figure | " + " | ".join(LEVELS) + " |",
        "|---|" + "---|" * len(LEVELS),
    ]
    for name, by_level in result["rows"].items():
        lines.append(f"| {name} | " + " | ".join(cell(by_level.get(level)) for level in LEVELS) + " |")
    return "\n".join(lines)


def comparison(results: list[dict[str, Any]]) -> str:
    """Every measurement at each size: median ms and queries (the queries must be equal across sizes)."""
    sizes = [result["households"] for result in results]
    lines = [
        "| figure | level | " + " | ".join(f"{size:,} households" for size in sizes) + " | queries equal |",
        "|---|---|" + "---|" * (len(sizes) + 1),
    ]
    for name, by_level in results[0]["rows"].items():
        for level in LEVELS:
            if level not in by_level:
                continue
            found = [result["rows"].get(name, {}).get(level) for result in results]
            same = None not in found and len({figure["queries"] for figure in found if figure}) == 1
            cells = " | ".join(cell(figure) for figure in found)
            lines.append(f"| {name} | {level} | {cells} | {'yes' if same else 'NO'} |")
    return "\n".join(lines)


def parent_main(args: argparse.Namespace) -> None:
    server_url = os.environ.get("DATABASE_URL", "")
    if not urlsplit(server_url).scheme.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL server (run under scripts/with-services)")
    results = []
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    for size in args.sizes:
        database = f"bench_coverage_{size}"
        server_execute(server_url, f'DROP DATABASE IF EXISTS "{database}"', f'CREATE DATABASE "{database}"')
        result_file = RESULTS_DIR / f"coverage-{size}.json"
        env = {**os.environ, "DATABASE_URL": with_database(server_url, database), "DEBUG": "0"}
        env["DJANGO_SETTINGS_MODULE"] = args.settings
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            f"--households={size}",
            f"--repeat={args.repeat}",
            f"--settings={args.settings}",
            f"--result={result_file}",
            *(["--no-lock"] if args.no_lock else []),
        ]
        print(f"[{size:,} households] database {database}, load {load_average()}", flush=True)
        try:
            subprocess.run(command, env=env, cwd=ROOT, check=True)
        finally:
            if not args.keep:
                server_execute(server_url, f'DROP DATABASE IF EXISTS "{database}"')
        result = json.loads(result_file.read_text())
        results.append(result)
        print()
        print(f"{size:,} households: {result['counts']}")
        print(f"load average before {result['load_before']}, after {result['load_after']}")
        print(f"county figures (numerator, denominator, value): {result['county_figures']}")
        print(f"疑点 flagged: {result['alerts_flagged']:,}; build {result['build']['seconds']} s")
        print(size_table(result))
        print()
    import psycopg

    with psycopg.connect(server_url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    print(
        f"PostgreSQL {row[0] if row else '?'}, Python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"median of {args.repeat} after a warm-up"
    )
    print(comparison(results))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", default="20000,200000", help="households per run (20000,200000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (5)")
    parser.add_argument("--settings", default=DEFAULT_SETTINGS, help=f"Django settings ({DEFAULT_SETTINGS})")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases afterwards")
    parser.add_argument("--no-lock", action="store_true", help="do not wait for /tmp/bench.lock (debug runs only)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--households", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.child:
        args.sizes = [int(size) for size in str(args.sizes).split(",")]
    return args


def main() -> None:
    args = parse_args()
    if args.child:
        child_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
