"""County exports through the background path: rows/s and peak memory of a roster and an income export.

Usage, from the repository root (no Makefile needed):

    scripts/with-services .venv/bin/python bench/export_roster.py --households 50000

The parent process creates a fresh database on the PostgreSQL server DATABASE_URL names
(`bench_export_roster_<N>`, dropped afterwards unless --keep) and runs every step in a child
process of its own:

1. seed: migrate, then `seed_demo --households N --seed 1` (households, members, cases and
   8 quarters of income), then VACUUM ANALYZE.
2. roster, then income (each in a fresh process): as the county viewer `xian`, with no filter,
   what the export page does above the threshold: export_job_create (the job), then
   export_job_run (claim, stream the rows from the database in chunks into the writer, keep the
   file) synchronously, in the measured process. The parent samples that process's Rss every
   0.1 s from /proc; the child reports its Rss just before the export (Django loaded, nothing
   read) so the export's own share is the difference.

Prints one table (seconds, rows, rows/s, file size, peak Rss, Rss before, the growth) and writes
everything to bench/results/export_roster-<N>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import server_execute, with_database, write_results  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
DEFAULT_SETTINGS = "config.settings.test"
KINDS = ("roster", "income")


def django_setup(settings_module: str, media_root: Path) -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django
    from django.conf import settings

    django.setup()
    # Export files go to the scratch directory, not media/.
    settings.MEDIA_ROOT = media_root


def own_rss() -> int:
    """VmRSS of this process in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def child_seed(args: argparse.Namespace) -> dict[str, Any]:
    django_setup(args.settings, Path(args.scratch) / "media")
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", households=args.households, seed=args.seed, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"seed_s": time.perf_counter() - started}


def child_export(args: argparse.Namespace) -> dict[str, Any]:
    django_setup(args.settings, Path(args.scratch) / "media")
    from django.http import QueryDict

    from households import selectors
    from households.excel.export_jobs import export_job_create, export_job_run, filter_form
    from households.excel.models import ExportStatus
    from regions.models import User

    user = User.objects.get(username="xian")
    form = filter_form(user=user, query=QueryDict())
    households = selectors.household_list(user=user, **form.selector_filters()).count()
    rss_before = own_rss()
    load_before = os.getloadavg()
    started = time.perf_counter()
    job = export_job_create(by=user, kind=args.child, form=form, household_count=households)
    job = export_job_run(job_id=job.pk)
    seconds = time.perf_counter() - started
    if job.status != ExportStatus.DONE:
        raise SystemExit(f"export {args.child}: {job.status} {job.failure}")
    return {
        "households": households,
        "rows": job.row_count,
        "seconds": seconds,
        "file_bytes": job.file.size,
        "masked": job.masked,
        "rss_before_bytes": rss_before,
        "load_average": {"before": load_before, "after": os.getloadavg()},
    }


def process_rss(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def run_child(args: argparse.Namespace, step: str, database: str, scratch: Path) -> dict[str, Any]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = args.settings
    env["DEBUG"] = "0"
    env["DATABASE_URL"] = with_database(args.server_url, database)
    result_file = scratch / f"{step}.json"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        f"--child={step}",
        f"--households={args.households}",
        f"--seed={args.seed}",
        f"--settings={args.settings}",
        f"--scratch={scratch}",
        f"--result={result_file}",
    ]
    print(f"[{step}] database {database}", flush=True)
    started = time.perf_counter()
    peak = 0
    with subprocess.Popen(command, env=env, cwd=ROOT) as process:
        # From outside, every 0.1 s, so the measured process pays nothing for it.
        while process.poll() is None:
            peak = max(peak, process_rss(process.pid))
            time.sleep(0.1)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command)
    data: dict[str, Any] = json.loads(result_file.read_text())
    data["wall_s"] = time.perf_counter() - started
    data["peak_rss_bytes"] = peak
    return data


def format_table(results: dict[str, Any]) -> str:
    header = (
        f"{'export':<10}{'seconds':>9}{'rows':>10}{'rows/s':>10}{'file MiB':>10}"
        f"{'peak Rss MiB':>14}{'Rss before':>12}{'growth':>9}"
    )
    lines = [header, "-" * len(header)]
    for kind in KINDS:
        if kind not in results:
            continue
        result = results[kind]
        mib = 2**20
        peak, before = result["peak_rss_bytes"] / mib, result["rss_before_bytes"] / mib
        lines.append(
            f"{kind:<10}{result['seconds']:>9.1f}{result['rows']:>10,}{result['rows'] / result['seconds']:>10,.0f}"
            f"{result['file_bytes'] / mib:>10.1f}{peak:>14,.0f}{before:>12,.0f}{peak - before:>9,.0f}"
        )
    return "\n".join(lines)


def parent_main(args: argparse.Namespace) -> None:
    server_url = os.environ.get("DATABASE_URL", "")
    if not urlsplit(server_url).scheme.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL server (run under scripts/with-services)")
    args.server_url = server_url
    scratch = Path(tempfile.mkdtemp(prefix="bench-export-roster-"))
    database = f"bench_export_roster_{args.households}"
    results: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        server_execute(server_url, f'DROP DATABASE IF EXISTS "{database}"', f'CREATE DATABASE "{database}"')
        results["seed"] = run_child(args, "seed", database, scratch)
        seed_s = results["seed"]["seed_s"]
        print(f"[seed] migrate + seed_demo {args.households:,} households: {seed_s:.1f} s", flush=True)
        for kind in KINDS:
            results[kind] = run_child(args, kind, database, scratch)
            print(f"[{kind}] {results[kind]['rows']:,} rows in {results[kind]['seconds']:.1f} s", flush=True)
    finally:
        if not args.keep:
            server_execute(server_url, f'DROP DATABASE IF EXISTS "{database}"')
        shutil.rmtree(scratch, ignore_errors=True)

    import psycopg

    with psycopg.connect(server_url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
        version = str(row[0]) if row else "?"
    table = format_table(results)
    print()
    print(
        f"County export through the background path on PostgreSQL {version}: {args.households:,} demo households "
        f"(seed {args.seed}), user xian (masked), settings {args.settings}, {os.cpu_count()} CPUs"
    )
    print()
    print(table)
    print()
    loads = ", ".join(
        f"{kind} {results[kind]['load_average']['before'][0]:.2f} → {results[kind]['load_average']['after'][0]:.2f}"
        for kind in KINDS
    )
    print(f"load average (1 min) before → after each export: {loads}")
    print("(peak Rss sampled every 0.1 s from outside; Rss before: the same process, Django loaded, before the export)")

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    output = RESULTS_DIR / f"export_roster-{args.households}.json"
    payload = {
        "households": args.households,
        "seed": args.seed,
        "server_version": version,
        "settings": args.settings,
    }
    write_results(output, payload, started=started, table=table, results=results)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--households", type=int, default=50000, help="demo households to seed (50000)")
    parser.add_argument("--seed", type=int, default=1, help="demo generator seed (1)")
    parser.add_argument("--settings", default=DEFAULT_SETTINGS, help=f"Django settings ({DEFAULT_SETTINGS})")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    if args.child:
        result = child_seed(args) if args.child == "seed" else child_export(args)
        Path(args.result).write_text(json.dumps(result, ensure_ascii=False, default=str))
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
