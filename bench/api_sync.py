"""A county's full sync through the API (about 1,000,000 records) against a keyset values_list floor on the
same data, and an incremental sync of 1,000 changes.

Usage, from the repository root:

    scripts/with-services .venv/bin/python bench/api_sync.py                       # 206,000-household county
    scripts/with-services .venv/bin/python bench/api_sync.py --households 30000 --county-households 20000

The parent creates a fresh database on the PostgreSQL server DATABASE_URL names (kept with --keep; --reuse
measures a kept one again) and runs each step in a child process of its own:

1. build: bench/assessment_province.py's build step (SQL only): the province, with --county-households in
   its first county and 4 quarters of income.
2. prepare: an API client of that county that may read everything and see personal data, and its token.
3. full sync: gunicorn (config.wsgi, --workers, config.settings.prod, DEBUG off, as bench/dashboard_load.py
   starts it) and one client (api.mirror.Source: one kept-alive connection, JSON parsed) taking every
   resource's cursor, then reading every list endpoint in pages of --limit records; records/s.
4. floor: in a child process on the same data, the same rows read by keyset pages of --limit with
   values_list (every column of each resource's table, a household's members with it, the many-to-many
   lists): the least a full read can cost without HTTP, JSON or rendering.
5. incremental: 1,000 income records of the county changed in one committed statement (the triggers log
   them), then the client reads every resource's feed from its cursor until none has more; seconds.

Measuring runs under `flock /tmp/bench.lock`; the load average is printed with every figure.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import assessment_province as province  # noqa: E402
from bench.common import load_average, run_main, server_execute, verdict  # noqa: E402
from bench.dashboard_load import server_env  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
SETTINGS = "config.settings.prod"
TARGET_RATE = 20_000.0  # records/s
TARGET_RATIO = 2.0  # × the floor
TARGET_INCREMENTAL_S = 1.0
CHANGES = 1000
LOCK = "/tmp/bench.lock"


# --------------------------------------------------------------------------------------------
# Children
# --------------------------------------------------------------------------------------------


def county_code() -> str:
    from regions.models import Level, Region

    county = Region.objects.filter(level=Level.COUNTY).order_by("code").first()
    assert county is not None
    return county.code


def child_prepare(args: argparse.Namespace) -> dict[str, Any]:
    province.django_setup(SETTINGS)
    from django.core.management import call_command

    from api.models import ApiClient
    from api.resources import RESOURCES
    from api.services import api_client_create
    from regions.models import Region

    call_command("migrate", verbosity=0, interactive=False)
    county = Region.objects.get(code=county_code())
    ApiClient.objects.filter(name="bench api_sync").delete()
    issued = api_client_create(
        name="bench api_sync",
        region=county,
        readable=list(RESOURCES),
        writable=[],
        may_view_personal_data=True,
        throttle_rate="1000000/min",
        by=None,
    )
    return {"token": issued.secret, "county": county.code, "name": county.name}


def child_floor(args: argparse.Namespace) -> dict[str, Any]:
    """Every resource's rows in scope by keyset pages of values_list: the floor of a full read."""
    province.django_setup(SETTINGS)
    from api import fast
    from api.models import ApiClient
    from api.principal import ApiPrincipal
    from api.resources import RESOURCES
    from households.models import Member

    principal = ApiPrincipal(ApiClient.objects.get(name="bench api_sync"))
    member_columns = [field.attname for field in Member._meta.concrete_fields]
    counts: dict[str, int] = {}
    began = time.perf_counter()
    for name, resource in RESOURCES.items():
        plan = fast.resource_plan(name)
        columns = [field.attname for field in resource.model._meta.concrete_fields]
        rows = resource.rows(principal).prefetch_related(None).order_by("pk")
        after, total = 0, 0
        while True:
            page = list(rows.filter(pk__gt=after).values_list(*columns)[: args.limit])
            if not page:
                break
            ids = [row[0] for row in page]
            if name == "households":
                list(Member.objects.filter(household_id__in=ids).values_list(*member_columns))
            for many in plan.many:
                list(many.through._default_manager.filter(**{f"{many.owner}__in": ids}).values_list(many.target_path))
            total += len(page)
            after = ids[-1]
        counts[name] = total
    seconds = time.perf_counter() - began
    return {"seconds": seconds, "counts": counts, "records": sum(counts.values())}


def child_change(args: argparse.Namespace) -> dict[str, Any]:
    """1,000 of the county's income records changed in one committed statement, as an import would."""
    province.django_setup(SETTINGS)
    from django.db import connection, transaction

    code = county_code()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE households_incomerecord SET wages_other = wages_other + 1, version = version + 1
            WHERE id IN (
                SELECT i.id FROM households_incomerecord i
                JOIN households_household h ON h.id = i.household_id
                JOIN regions_region v ON v.id = h.village_id
                WHERE v.code LIKE %s ORDER BY i.id DESC LIMIT %s)
            """,
            [code[:6] + "%", CHANGES],
        )
        changed = cursor.rowcount
    return {"changed": changed}


# --------------------------------------------------------------------------------------------
# Parent
# --------------------------------------------------------------------------------------------


def run_own_child(args: argparse.Namespace, step: str, database: str, scratch: Path) -> dict[str, Any]:
    result_file = scratch / f"{step}.json"
    command = [sys.executable, str(Path(__file__).resolve()), f"--child={step}", f"--limit={args.limit}"]
    command.append(f"--result={result_file}")
    print(f"[{step}] database {database}, load {load_average()}", flush=True)
    began = time.perf_counter()
    subprocess.run(command, env=server_env(args, database), cwd=ROOT, check=True)
    data: dict[str, Any] = json.loads(result_file.read_text())
    data["wall_s"] = time.perf_counter() - began
    return data


@contextmanager
def gunicorn(args: argparse.Namespace, database: str, scratch: Path) -> Iterator[str]:
    """gunicorn config.wsgi -w N on a free loopback port, as the README deploys it; yields the API's address."""
    from bench.dashboard_load import free_port

    port = free_port()
    log = scratch / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", str(args.workers), "-b", f"127.0.0.1:{port}"]
    command += ["--timeout", "300", "--error-logfile", str(log)]
    process = subprocess.Popen(command, env=server_env(args, database), cwd=ROOT)
    try:
        import urllib.request

        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{log.read_text()}")
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz")
                with urllib.request.urlopen(request, timeout=5):
                    break
            except OSError as error:
                if hasattr(error, "code"):
                    break
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not answer within 90 s") from error
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/api/v1/"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def bench_lock() -> Iterator[None]:
    with open(LOCK, "w") as handle:
        print(f"waiting for {LOCK} …", flush=True)
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def client_setup() -> None:
    """The client is sync_pull's (api.mirror.Source): Django loaded, no database used."""
    province.django_setup("config.settings.test")


def full_sync(url: str, token: str, limit: int) -> dict[str, Any]:
    """Cursors first, then every resource's list in pages: what sync_pull reads on its first run."""
    client_setup()
    from api.mirror import ORDER, Source

    source = Source(url, token, headers={"X-Forwarded-Proto": "https"})
    load_before = load_average()
    began = time.perf_counter()
    cursors = {name: source.get(f"{name}/changes/")["cursor"] for name in ORDER}
    counts: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for name in ORDER:
        started = time.perf_counter()
        after, total = 0, 0
        while True:
            page = source.get(f"{name}/", {"after": after, "limit": limit})
            total += len(page["results"])
            if not page["next"]:
                break
            after = page["results"][-1]["id"]
        counts[name], seconds[name] = total, time.perf_counter() - started
    elapsed = time.perf_counter() - began
    source.close()
    return {
        "seconds": elapsed,
        "records": sum(counts.values()),
        "counts": counts,
        "per_resource_s": seconds,
        "requests": source.requests,
        "cursors": cursors,
        "load_before": load_before,
        "load_after": load_average(),
    }


def incremental(url: str, token: str, cursors: dict[str, str]) -> dict[str, Any]:
    client_setup()
    from api.mirror import FEED_LIMIT, ORDER, Source

    source = Source(url, token, headers={"X-Forwarded-Proto": "https"})
    load_before = load_average()
    began = time.perf_counter()
    served: dict[str, int] = {}
    for name in ORDER:
        cursor = cursors[name]
        while True:
            page = source.get(f"{name}/changes/", {"since": cursor, "limit": FEED_LIMIT})
            served[name] = served.get(name, 0) + len(page["changes"])
            cursor = page["cursor"]
            if not page["has_more"]:
                break
    elapsed = time.perf_counter() - began
    source.close()
    return {
        "seconds": elapsed,
        "served": served,
        "requests": source.requests,
        "load_before": load_before,
        "load_after": load_average(),
    }


def parent_main(args: argparse.Namespace) -> None:
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL server (run under scripts/with-services)")
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("REDIS_URL must name a Redis server, the production cache (run under scripts/with-services)")
    args.server_url = server_url
    args.secret_key = secrets.token_urlsafe(50)
    database = f"bench_api_sync_{args.county_households}"
    scratch = Path(tempfile.mkdtemp(prefix="bench-api-sync-"))
    results: dict[str, Any] = {}
    reuse = args.reuse and province.database_exists(server_url, database)
    try:
        if not reuse:
            server_execute(server_url, f'DROP DATABASE IF EXISTS "{database}"', f'CREATE DATABASE "{database}"')
            build_args = argparse.Namespace(
                households=args.households,
                county_households=args.county_households,
                quarters=4,
                repeat=1,
                key_line="9000",
                settings="config.settings.test",
                server_url=server_url,
            )
            results["build"] = province.run_child(build_args, "build", database, scratch)
            print(f"[build] {results['build']['counts']}", flush=True)
        prepared = run_own_child(args, "prepare", database, scratch)
        token = prepared.pop("token")
        results["prepare"] = prepared
        with gunicorn(args, database, scratch) as url, bench_lock():
            print(f"[full] {prepared['name']} through {url}, load {load_average()}", flush=True)
            results["full"] = full_sync(url, token, args.limit)
            print(f"[full] {results['full']['records']:,} records in {results['full']['seconds']:.1f} s", flush=True)
            results["floor"] = run_own_child(args, "floor", database, scratch)
            results["change"] = run_own_child(args, "change", database, scratch)
            results["incremental"] = incremental(url, token, results["full"].pop("cursors"))
    finally:
        if not args.keep:
            server_execute(server_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(scratch, ignore_errors=True)
    table = format_table(results, args)
    print()
    print(table)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    output = RESULTS_DIR / f"api_sync-{args.county_households}.json"
    output.write_text(json.dumps({"table": table, "results": results}, ensure_ascii=False, indent=1, default=str))
    print(f"results written to {output.relative_to(ROOT)}")


def format_table(results: dict[str, Any], args: argparse.Namespace) -> str:
    full, floor, step = results["full"], results["floor"], results["incremental"]
    rate = full["records"] / full["seconds"]
    floor_rate = floor["records"] / floor["seconds"]
    ratio = full["seconds"] / floor["seconds"]
    served = sum(step["served"].values())
    lines = [
        f"API sync of {results['prepare']['name']} ({results['prepare']['county']}), gunicorn -w {args.workers} "
        f"({SETTINGS}), pages of {args.limit}, {os.cpu_count()} CPUs",
        "",
        f"{'run':<34}{'records':>11}{'seconds':>9}{'records/s':>11}   load before -> after",
        f"{'full sync through the API':<34}{full['records']:>11,}{full['seconds']:>9.1f}{rate:>11,.0f}   "
        f"{full['load_before']} -> {full['load_after']}",
        f"{'floor: keyset values_list':<34}{floor['records']:>11,}{floor['seconds']:>9.1f}{floor_rate:>11,.0f}",
        f"{'incremental: ' + str(results['change']['changed']) + ' changes':<34}{served:>11,}"
        f"{step['seconds']:>9.2f}{served / step['seconds']:>11,.0f}   {step['load_before']} -> {step['load_after']}",
        "",
        f"full sync ≥ {TARGET_RATE:,.0f} records/s: {rate:,.0f} — {verdict(rate >= TARGET_RATE)}",
        f"full sync ≤ {TARGET_RATIO}× the floor: {ratio:.2f}× — {verdict(ratio <= TARGET_RATIO)}",
        f"incremental sync of {CHANGES:,} changes < {TARGET_INCREMENTAL_S} s: {step['seconds']:.2f} s "
        f"({step['requests']} requests) — {verdict(step['seconds'] < TARGET_INCREMENTAL_S)}",
        "",
        "per resource (full sync): "
        + ", ".join(
            f"{name} {count:,} in {full['per_resource_s'][name]:.1f} s" for name, count in full["counts"].items()
        ),
        f"requests: full {full['requests']:,}, incremental {step['requests']}",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--households", type=int, default=250_000, help="households in the province (250000)")
    parser.add_argument(
        "--county-households", type=int, default=206_000, help="households of the synced county (206000)"
    )
    parser.add_argument("--limit", type=int, default=5000, help="records per page (5000, the API's most)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept database (no build)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


CHILDREN = {"prepare": child_prepare, "floor": child_floor, "change": child_change}


def main() -> None:
    run_main(parse_args(), CHILDREN, parent_main)


if __name__ == "__main__":
    main()
