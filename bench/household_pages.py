"""Household pages at scale: response times of the household list and detail pages against N.

Usage, from the repository root (no Makefile needed):

    scripts/with-services .venv/bin/python bench/household_pages.py --sizes 5000,50000 --repeat 30
    env -u DATABASE_URL .venv/bin/python bench/household_pages.py --sizes 5000 --repeat 30   # SQLite

The figure that matters is the PostgreSQL one. For every N the parent process creates a fresh
database (PostgreSQL: `bench_households_<N>` on the server DATABASE_URL names, dropped afterwards
unless --keep; SQLite: a file in a temporary directory) and starts a child process pointed at it.
The child migrates, runs `seed_demo --households N --seed 1`, runs VACUUM ANALYZE (ANALYZE on
SQLite) so the planner sees a settled table, then requests every page through django.test.Client
logged in as the demo accounts: warm-up requests first, then --repeat timed requests per page,
round-robin over the pages so background noise spreads evenly. One extra request per page runs
under CaptureQueriesContext to count its SQL queries. Pages whose median exceeds --slow-ms get
EXPLAIN (ANALYZE, BUFFERS) of their slowest queries (EXPLAIN QUERY PLAN on SQLite).

The parent prints one table (rows: pages; per N: median ms, p95 ms, queries; then the ratio of the
largest N's median to the smallest N's) and writes everything to
bench/results/household_pages-<vendor>.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import with_database  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
DEFAULT_SETTINGS = "config.settings.test"
WARMUP = 3
COUNT_PATTERN = re.compile(r"共\s*(\d+)\s*户")


# --------------------------------------------------------------------------------------------
# Shared shapes
# --------------------------------------------------------------------------------------------


@dataclass
class Page:
    """One URL requested as one demo user."""

    key: str
    label: str
    username: str
    url: str


@dataclass
class QueryInfo:
    ms: float
    sql: str


@dataclass
class PageResult:
    key: str
    label: str
    username: str
    url: str
    status: int
    rows: int | None
    median_ms: float
    p95_ms: float
    min_ms: float
    mean_ms: float
    queries: int
    sql_ms: float
    slowest: list[QueryInfo]
    samples_ms: list[float]
    explain: list[dict[str, Any]] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Child: one database, one N
# --------------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Linear-interpolated percentile (fraction in 0..1) of a non-empty list."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def django_setup(settings_module: str) -> None:
    """Import Django with the repository root importable and the given settings."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django
    from django.conf import settings

    django.setup()
    # django.test.Client sends Host: testserver. Adding it here, rather than calling
    # setup_test_environment(), keeps the instrumented template renderer (and its cost) out.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def seed(households: int, seed_value: int) -> dict[str, float]:
    """Migrate, seed and analyze the empty database; returns the seconds each step took."""
    from django.core.management import call_command
    from django.db import connection

    timings: dict[str, float] = {}
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    timings["migrate_s"] = time.perf_counter() - started

    started = time.perf_counter()
    call_command("seed_demo", households=households, seed=seed_value, stdout=sys.stdout)
    timings["seed_s"] = time.perf_counter() - started

    started = time.perf_counter()
    with connection.cursor() as cursor:
        # After a bulk load autovacuum would both analyze and set the visibility map; do it now.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    timings["analyze_s"] = time.perf_counter() - started
    return timings


def database_facts() -> dict[str, Any]:
    """Row counts and on-disk size of the seeded database."""
    from django.db import connection

    from households.models import Household, IncomeRecord, Member, MonitoringCase

    facts: dict[str, Any] = {
        "households": Household.objects.count(),
        "members": Member.objects.count(),
        "income_records": IncomeRecord.objects.count(),
        "monitoring_cases": MonitoringCase.objects.count(),
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database()), version()")
            size, version = cursor.fetchone()
        facts["database_bytes"] = int(size)
        facts["server_version"] = str(version)
    else:
        name = Path(str(connection.settings_dict["NAME"]))
        facts["database_bytes"] = sum(
            path.stat().st_size for path in name.parent.glob(name.name + "*") if path.is_file()
        )
        import sqlite3

        facts["server_version"] = f"SQLite {sqlite3.sqlite_version}"
    return facts


def pick_detail_household() -> int:
    """A household with eight quarters of income and 4+ active members, preferring an open case.

    The generator is a stream, so with the same seed the first such household is the same at
    every N and the detail rows of different sizes compare like with like.
    """
    from django.db.models import Count, Exists, OuterRef, Q

    from households.models import Household, MonitoringCase

    first_ids = list(Household.objects.order_by("pk").values_list("pk", flat=True)[:2000])
    candidates = (
        Household.objects.filter(pk__in=first_ids)
        .annotate(
            quarters=Count("income_records", distinct=True),
            people=Count("members", filter=Q(members__is_active=True), distinct=True),
            has_open_case=Exists(MonitoringCase.objects.open().filter(household=OuterRef("pk"))),
        )
        .filter(quarters=8, people__gte=4)
    )
    chosen = candidates.order_by("-has_open_case", "pk").values_list("pk", flat=True).first()
    if chosen is None:
        raise SystemExit("no household with 8 quarters of income and 4+ members among the first 2000")
    return int(chosen)


def build_pages(surname: str) -> list[Page]:
    """The pages to measure; ids that depend on the seeded data are looked up here."""
    from households.demo_names import TOWNSHIPS
    from households.models import Household, HouseholdStatus, HouseholdType
    from regions.models import Region

    village = Region.objects.get(code=TOWNSHIPS[1].village_code(0))
    detail_pk = pick_detail_household()
    # The 末页 (last page) link of the county list; the view shows 50 rows a page.
    last_page = max(math.ceil(Household.objects.filter(status=HouseholdStatus.ACTIVE).count() / 50), 1)
    return [
        Page("county_list", "county  list, page 1", "xian", "/households/"),
        Page("county_page20", "county  list, page 20", "xian", "/households/?page=20"),
        Page("county_last_page", "county  list, last page", "xian", f"/households/?page={last_page}"),
        Page("county_sort_income", "county  sorted by income desc, page 1", "xian", "/households/?sort=-income"),
        Page(
            "county_below_norisk",
            "county  below threshold + no open risk",
            "xian",
            "/households/?" + urlencode({"below": "on", "risk": "none"}),
        ),
        Page("county_search", "county  search head's surname", "xian", "/households/?" + urlencode({"q": surname})),
        Page(
            "county_village_type",
            "county  village + household type",
            "xian",
            "/households/?" + urlencode({"village": village.pk, "household_type": HouseholdType.LIFTED}),
        ),
        Page("county_detail", "county  household detail", "xian", f"/households/{detail_pk}/"),
        Page("township_list", "township  list, page 1", "xiang", "/households/"),
        Page("village_list", "village  list, page 1", "cun", "/households/"),
    ]


def explain(sql: str) -> str:
    """The database's plan for one captured statement (executed, on PostgreSQL)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            return "\n".join(str(row[0]) for row in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        plan = "\n".join(" | ".join(str(value) for value in row) for row in cursor.fetchall())
        started = time.perf_counter()
        cursor.execute(sql)
        cursor.fetchall()
        return f"{plan}\n(executed in {(time.perf_counter() - started) * 1000:.1f} ms)"


def timed(durations: list[float]) -> Callable[..., Any]:
    """A connection.execute_wrapper appending each statement's milliseconds to `durations`."""

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            durations.append((time.perf_counter() - started) * 1000)

    return wrapper


def measure(pages: list[Page], *, repeat: int, warmup: int, slow_ms: float, explain_top: int) -> list[PageResult]:
    """Warm up, time every page `repeat` times round-robin, then count queries once per page."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from regions.models import User

    clients: dict[str, Client] = {}
    for username in {page.username for page in pages}:
        client = Client()
        client.force_login(User.objects.get(username=username))
        clients[username] = client

    def get(page: Page) -> tuple[float, int, bytes]:
        started = time.perf_counter()
        response = clients[page.username].get(page.url)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{page.url} as {page.username}: HTTP {response.status_code}")
        return elapsed, response.status_code, response.content

    for _ in range(warmup):
        for page in pages:
            get(page)
    samples: dict[str, list[float]] = {page.key: [] for page in pages}
    for _ in range(repeat):
        for page in pages:
            samples[page.key].append(get(page)[0])

    results = []
    for page in pages:
        durations: list[float] = []
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed(durations)):
            _, status, content = get(page)
        # CaptureQueriesContext keeps the bound SQL but rounds times to whole milliseconds; the
        # wrapper sees the same statements in the same order and times them precisely.
        if len(durations) != len(captured.captured_queries):
            durations = [float(q["time"]) * 1000 for q in captured.captured_queries]
        queries = [
            QueryInfo(ms=ms, sql=str(q["sql"])) for q, ms in zip(captured.captured_queries, durations, strict=True)
        ]
        slowest = sorted(queries, key=lambda q: q.ms, reverse=True)[:3]
        match = COUNT_PATTERN.search(content.decode())
        values = samples[page.key]
        result = PageResult(
            key=page.key,
            label=page.label,
            username=page.username,
            url=page.url,
            status=status,
            rows=int(match.group(1)) if match else None,
            median_ms=statistics.median(values),
            p95_ms=percentile(values, 0.95),
            min_ms=min(values),
            mean_ms=statistics.fmean(values),
            queries=len(queries),
            sql_ms=sum(q.ms for q in queries),
            slowest=slowest,
            samples_ms=[round(v, 3) for v in values],
        )
        if result.median_ms > slow_ms:
            for query in slowest[:explain_top]:
                result.explain.append({"captured_ms": query.ms, "sql": query.sql, "plan": explain(query.sql)})
        results.append(result)
    return results


def child_main(args: argparse.Namespace) -> None:
    django_setup(args.settings)
    from django.db import connection

    prefix = f"[N={args.size}]"
    print(f"{prefix} {connection.vendor} database {connection.settings_dict['NAME']}", flush=True)
    timings = seed(args.size, args.seed)
    print(
        f"{prefix} migrate {timings['migrate_s']:.1f} s, seed_demo {timings['seed_s']:.1f} s, "
        f"analyze {timings['analyze_s']:.1f} s",
        flush=True,
    )
    facts = database_facts()
    pages = build_pages(args.surname)
    print(f"{prefix} measuring {len(pages)} pages x {args.repeat} requests (+{args.warmup} warm-up)", flush=True)
    # Other processes on the machine skew the figures; the load average is kept to show it.
    load_before = os.getloadavg()
    started = time.perf_counter()
    results = measure(pages, repeat=args.repeat, warmup=args.warmup, slow_ms=args.slow_ms, explain_top=args.explain_top)
    print(f"{prefix} measured in {time.perf_counter() - started:.1f} s", flush=True)
    payload = {
        "size": args.size,
        "vendor": connection.vendor,
        "timings": timings,
        "facts": facts,
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "pages": [asdict(result) for result in results],
    }
    Path(args.result).write_text(json.dumps(payload, ensure_ascii=False, indent=1))


# --------------------------------------------------------------------------------------------
# Parent: one fresh database per N, then the table
# --------------------------------------------------------------------------------------------


def vendor_of(url: str) -> str:
    scheme = urlsplit(url).scheme if url else "sqlite"
    if scheme.startswith("postgres"):
        return "postgresql"
    if scheme.startswith("sqlite"):
        return "sqlite"
    raise SystemExit(f"unsupported DATABASE_URL scheme: {scheme}")


def postgres_recreate(server_url: str, name: str, *, drop_only: bool = False) -> None:
    """Drop and (unless drop_only) create a database through the server DATABASE_URL names."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"')


def run_size(args: argparse.Namespace, size: int, vendor: str, server_url: str, scratch: Path) -> dict[str, Any]:
    """Fresh database, child process, parsed result."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = args.settings
    # DEBUG would keep every query in memory and serve Django's debug pages: not what users get.
    env["DEBUG"] = "0"
    database = f"bench_households_{size}"
    if vendor == "postgresql":
        postgres_recreate(server_url, database)
        env["DATABASE_URL"] = with_database(server_url, database)
    else:
        env["DATABASE_URL"] = f"sqlite:///{scratch / (database + '.sqlite3')}"
    result_file = scratch / f"{database}.json"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        f"--size={size}",
        f"--repeat={args.repeat}",
        f"--warmup={args.warmup}",
        f"--seed={args.seed}",
        f"--surname={args.surname}",
        f"--slow-ms={args.slow_ms}",
        f"--explain-top={args.explain_top}",
        f"--settings={args.settings}",
        f"--result={result_file}",
    ]
    try:
        subprocess.run(command, env=env, cwd=ROOT, check=True)
    finally:
        if vendor == "postgresql" and not args.keep:
            postgres_recreate(server_url, database, drop_only=True)
    data: dict[str, Any] = json.loads(result_file.read_text())
    return data


def format_table(runs: list[dict[str, Any]]) -> str:
    """Rows: pages; per N: median, p95, queries; last: largest-N median over smallest-N median."""
    sizes = [run["size"] for run in runs]
    by_size = {run["size"]: {page["key"]: page for page in run["pages"]} for run in runs}
    small, large = min(sizes), max(sizes)
    label_width = max(len(page["label"]) for page in runs[0]["pages"]) + 2
    cell = "{:>9} {:>9} {:>4}   "
    group = len(cell.format("", "", ""))
    header_top = " " * label_width + "".join(f"{'N = ' + format(size, ','):^{group}}" for size in sizes)
    header = f"{'page':<{label_width}}" + "".join(cell.format("median", "p95", "q") for _ in sizes)
    if small % 1000 == 0 and large % 1000 == 0:
        ratio_title = f"ratio {large // 1000}k/{small // 1000}k"
    else:
        ratio_title = f"ratio {large}/{small}"
    if len(sizes) > 1:
        header_top += f"{'':>14}"
        header += f"{ratio_title:>14}"
    lines = [header_top, header, "-" * len(header)]
    for page in runs[0]["pages"]:
        line = f"{page['label']:<{label_width}}"
        for size in sizes:
            row = by_size[size][page["key"]]
            line += cell.format(f"{row['median_ms']:.1f}", f"{row['p95_ms']:.1f}", row["queries"])
        if len(sizes) > 1:
            ratio = by_size[large][page["key"]]["median_ms"] / by_size[small][page["key"]]["median_ms"]
            line += f"{ratio:>13.2f}x"
        lines.append(line)
    lines.append("(median and p95 of the timed requests in ms; q = SQL queries per request)")
    return "\n".join(lines)


def format_details(runs: list[dict[str, Any]]) -> str:
    """Seeding cost, data sizes, the URLs, and where each page's SQL time goes."""
    lines = []
    for run in runs:
        facts, timings = run["facts"], run["timings"]
        lines.append(
            f"N = {run['size']:,}: migrate {timings['migrate_s']:.1f} s, seed_demo {timings['seed_s']:.1f} s, "
            f"analyze {timings['analyze_s']:.1f} s; {facts['households']:,} households, "
            f"{facts['members']:,} members, {facts['income_records']:,} income records, "
            f"{facts['monitoring_cases']:,} cases; database {facts['database_bytes'] / 2**20:.0f} MiB; "
            f"load average {run['load_average']['before'][0]:.2f} before measuring, "
            f"{run['load_average']['after'][0]:.2f} after"
        )
    lines.append("")
    largest = max(runs, key=lambda run: run["size"])
    lines.append(f"At N = {largest['size']:,}: rows matched, SQL time of one request, its slowest query")
    for page in largest["pages"]:
        slowest = page["slowest"][0] if page["slowest"] else {"ms": 0.0, "sql": ""}
        rows = "" if page["rows"] is None else f"{page['rows']:,}"
        lines.append(
            f"  {page['key']:<20} {page['username']:<6} {unquote(page['url']):<45} rows {rows:>7}  "
            f"sql {page['sql_ms']:7.1f} ms  slowest {slowest['ms']:6.1f} ms"
        )
    return "\n".join(lines)


def format_explains(runs: list[dict[str, Any]], slow_ms: float) -> str:
    lines = []
    for run in runs:
        for page in run["pages"]:
            for item in page["explain"]:
                lines.append(
                    f"--- N = {run['size']:,} {page['key']} (median {page['median_ms']:.0f} ms > {slow_ms:.0f} ms): "
                    f"query captured at {item['captured_ms']:.1f} ms"
                )
                lines.append(item["sql"])
                lines.append(item["plan"])
                lines.append("")
    return "\n".join(lines)


def parent_main(args: argparse.Namespace) -> None:
    sizes = [int(part) for part in args.sizes.split(",") if part.strip()]
    server_url = os.environ.get("DATABASE_URL", "")
    vendor = vendor_of(server_url)
    if vendor == "sqlite" and server_url:
        print("DATABASE_URL names SQLite: using a temporary file per N instead of it", flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-household-pages-"))
    runs = []
    started = time.perf_counter()
    try:
        for size in sizes:
            runs.append(run_size(args, size, vendor, server_url, scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    table = format_table(runs)
    print()
    print(
        f"Household pages on {runs[0]['facts']['server_version'].split(',')[0]}, seed {args.seed}, "
        f"{args.repeat} timed requests per page after {args.warmup} warm-up, settings {args.settings}"
    )
    print()
    print(table)
    print()
    print(format_details(runs))
    explains = format_explains(runs, args.slow_ms)
    if explains:
        print()
        print(f"Plans of the slowest queries of pages with median > {args.slow_ms:.0f} ms:")
        print(explains)

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    output = RESULTS_DIR / f"household_pages-{vendor}.json"
    payload = {
        "vendor": vendor,
        "server_version": runs[0]["facts"]["server_version"],
        "sizes": sizes,
        "repeat": args.repeat,
        "warmup": args.warmup,
        "seed": args.seed,
        "settings": args.settings,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "total_s": round(time.perf_counter() - started, 1),
        "table": table,
        "runs": runs,
    }
    output.write_text(json.dumps(payload, ensure_ascii=False, indent=1))
    print(f"results written to {output.relative_to(ROOT)}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", default="5000,50000", help="comma-separated household counts (default 5000,50000)")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per page (default 30)")
    parser.add_argument("--warmup", type=int, default=WARMUP, help=f"untimed requests per page first ({WARMUP})")
    parser.add_argument("--seed", type=int, default=1, help="seed_demo --seed (default 1)")
    parser.add_argument("--surname", default="罗", help="what the search page looks for (default 罗)")
    parser.add_argument("--slow-ms", type=float, default=150.0, help="EXPLAIN pages slower than this (150)")
    parser.add_argument("--explain-top", type=int, default=2, help="how many of a slow page's queries to EXPLAIN")
    parser.add_argument("--settings", default=DEFAULT_SETTINGS, help=f"Django settings ({DEFAULT_SETTINGS})")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL bench databases afterwards")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    if args.child:
        child_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
