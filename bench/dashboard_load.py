"""The county, township and village dashboards under load: gunicorn with 4 workers and production
settings on PostgreSQL holding the province of the assessment benchmark, 32 logged-in users, against
a static file and a near-static page served by the same stack (the floors).

Usage, from the repository root:

    scripts/with-services .venv/bin/python bench/dashboard_load.py                  # 2,000,000 households
    scripts/with-services .venv/bin/python bench/dashboard_load.py --households 100000 --duration 10

The parent creates a fresh database on the PostgreSQL server DATABASE_URL names (kept with --keep;
--reuse measures a kept one again) and runs each step in a child process of its own:

1. build: bench/assessment_province.py's own build step (the same SQL, the same data for the same N).
2. prepare: every quarter with income is computed through the ComputeRun path the nightly run takes
   (indicators_compute for the whole province, then alerts_raise), so the dashboards find the values,
   breakdowns, scores and alerts they read; --users county viewers, township admins and village
   clerks, spread over the counties; VACUUM ANALYZE.
3. profile: one request of each dashboard in process (django.test.Client, production settings): its
   queries, and where the time goes (selectors, charts, template), cold and warm.
4. load: collectstatic, then gunicorn (config.wsgi, -w 4, config.settings.prod, DEBUG off, sessions in
   the database, Redis cache); every user logs in through the login form; then, for each page, wrk
   with --users connections, each request carrying one user's session cookie in turn: first as fast
   as the server answers (closed loop: throughput), then paced at --rate requests/s (the latency a
   user sees at the target load). The client shares the machine's cores with the server.

Output: one table (requests, requests/s, p50/p95/p99 per page and mode, the dashboards' ratio to the
floors, the targets judged, CPU per request of gunicorn, PostgreSQL and wrk, load averages) and
everything in bench/results/dashboard_load-<N>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import assessment_province as province  # noqa: E402
from bench.common import load_average, run_main, server_execute, verdict, with_database, write_results  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
SETTINGS = "config.settings.prod"
PASSWORD = "bench-dashboard-load"
TARGET_P95_MS = 50.0
TARGET_RATE = 300.0
DASHBOARD = "/assessment/dashboard/"
STATIC_FILE = "/static/css/ledger.css"
LEVELS = ("county", "township", "village")
ROLES = {"county": "county_viewer", "township": "township_admin", "village": "village_clerk"}


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    path: str
    users: str  # whose sessions the requests carry


TARGETS = [
    Target("static", "floor: static file (WhiteNoise)", STATIC_FILE, "county"),
    Target("page", "floor: login page, logged in", "/login/", "county"),
    Target("county", "county dashboard", DASHBOARD, "county"),
    Target("township", "township dashboard", DASHBOARD, "township"),
    Target("village", "village dashboard", DASHBOARD, "village"),
]


# --------------------------------------------------------------------------------------------
# Children
# --------------------------------------------------------------------------------------------


def child_prepare(args: argparse.Namespace) -> dict[str, Any]:
    """Compute every quarter with income that is not computed yet (values, breakdowns, scores, alerts),
    create the users, VACUUM ANALYZE. Idempotent, so --reuse runs it again at little cost."""
    province.django_setup(SETTINGS)
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    from assessment.models import IndicatorValue
    from assessment.services import compute_run_now
    from figures.periods import Quarter
    from regions.models import Level, Region, User

    timings: dict[str, float] = {}
    began = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)  # a kept database meets newer code
    timings["migrate"] = time.perf_counter() - began
    quarters = [Quarter(year, number) for year, number in province.quarters_ending(province.YEAR, 3, args.quarters)]
    for period in quarters:
        if IndicatorValue.objects.filter(
            year=period.year, quarter=period.number, region__level=Level.PROVINCE
        ).exists():
            continue
        began = time.perf_counter()
        run = compute_run_now(scope=None, period=period, reason="bench")
        timings[f"compute {period}"] = time.perf_counter() - began
        print(f"  [prepare] {period}: {run.status}, {run.message}, {timings[f'compute {period}']:.1f} s", flush=True)

    counties = list(Region.objects.filter(level=Level.COUNTY).order_by("code"))
    places: dict[str, list[Region]] = {level: [] for level in LEVELS}
    for index in range(args.users):
        county = counties[index % len(counties)]
        # The n-th user of a county takes its n-th township, and that township's first village.
        ordinal = index // len(counties)
        township = Region.objects.filter(parent=county).order_by("code")[ordinal]
        village = Region.objects.filter(parent=township).order_by("code").first()
        assert village is not None
        places["county"].append(county)
        places["township"].append(township)
        places["village"].append(village)
    # One hash for every account (the production hasher takes ~0.5 s per hash); otherwise as
    # regions.services.user_create makes a user: full_clean, save, role group.
    hashed = make_password(PASSWORD)
    users: dict[str, list[dict[str, str]]] = {level: [] for level in LEVELS}
    began = time.perf_counter()
    for level in LEVELS:
        for index, region in enumerate(places[level]):
            username = f"bench_{level}_{index + 1:02d}"
            user = User.objects.filter(username=username).first()
            if user is None or user.region_id != region.pk:
                User.objects.filter(username=username).delete()
                user = User(username=username, role=ROLES[level], region=region, first_name=username, is_staff=True)
                user.password = hashed
                user.full_clean()
                user.save()
            users[level].append({"username": username, "region": region.code, "name": region.name})
    timings["users"] = time.perf_counter() - began
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for table in (
            "assessment_indicatorvalue",
            "assessment_breakdownvalue",
            "assessment_regionscore",
            "assessment_alert",
            "regions_user",
            "django_session",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    timings["vacuum analyze"] = time.perf_counter() - began
    return {"timings": timings, "users": users, "counts": province.table_counts() | alert_count()}


def alert_count() -> dict[str, int]:
    from assessment.models import Alert

    return {"alerts": Alert.objects.count()}


def child_profile(args: argparse.Namespace) -> dict[str, Any]:
    """One user of each level requests their dashboard in process: the first request (cold caches),
    then --profile-repeat more; queries, SQL time and the time in selectors, charts and template."""
    province.django_setup(SETTINGS)
    import cProfile
    import importlib
    import io
    import pstats
    import statistics

    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from regions.models import User

    clock = province.Clock()
    # Whichever of these the code has (the cache came later), wrapped where the view calls them.
    for owner, name, label in (
        ("assessment.dashboard_cache", "dashboard_parts", "parts: state, cache (built on a miss)"),
        ("assessment.dashboard_state", "dashboard_state", "state: stamps and close"),
        ("assessment.dashboard_selectors", "dashboard", "selectors: dashboard()"),
        ("assessment.dashboard_charts", "charts", "charts: ECharts options and tables"),
        ("assessment.dashboard_views", "render", "render: page template"),
    ):
        try:
            module = importlib.import_module(owner)
        except ImportError:
            continue
        if hasattr(module, name):
            clock.wrap(module, name, label)
    # The first request of each level renders with an empty cache (the bench's own Redis).
    cache.clear()
    results: dict[str, Any] = {}
    for level in LEVELS:
        user = User.objects.get(username=f"bench_{level}_01")
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        samples: list[dict[str, Any]] = []
        for attempt in range(1 + args.profile_repeat):
            clock.seconds.clear()
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(DASHBOARD, secure=True)
                seconds = time.perf_counter() - began
            assert response.status_code == 200, (level, response.status_code)
            samples.append(
                {
                    "ms": seconds * 1000,
                    "queries": len(captured.captured_queries),
                    "sql_ms": sum(float(query["time"]) for query in captured.captured_queries) * 1000,
                    "phases_ms": {label: value * 1000 for label, value in clock.seconds.items()},
                    "bytes": len(response.content),
                    "cold": attempt == 0,
                }
            )
        warm = samples[1:] or samples
        result: dict[str, Any] = {
            "cold": samples[0],
            "warm_median_ms": statistics.median(sample["ms"] for sample in warm),
            "warm_sql_median_ms": statistics.median(sample["sql_ms"] for sample in warm),
            "warm_phases_median_ms": {
                label: statistics.median(sample["phases_ms"].get(label, 0.0) for sample in warm)
                for label in samples[-1]["phases_ms"]
            },
            "queries": samples[-1]["queries"],
            "bytes": samples[-1]["bytes"],
            "slowest_queries": [
                {"ms": float(query["time"]) * 1000, "sql": query["sql"][:300]}
                for query in sorted(captured.captured_queries, key=lambda query: -float(query["time"]))[:5]
            ],
        }
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(10):
                client.get(DASHBOARD, secure=True)
            profiler.disable()
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
            result["cprofile"] = text.getvalue()
        results[level] = result
    return results


# --------------------------------------------------------------------------------------------
# Parent: the server, the logins, the load
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(args: argparse.Namespace, database: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DEBUG": "0",
            "SECRET_KEY": args.secret_key,
            "DATABASE_URL": with_database(args.server_url, database),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def run_own_child(args: argparse.Namespace, step: str, database: str, scratch: Path) -> dict[str, Any]:
    result_file = scratch / f"{step}.json"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        f"--child={step}",
        f"--households={args.households}",
        f"--quarters={args.quarters}",
        f"--users={args.users}",
        f"--profile-repeat={args.profile_repeat}",
        f"--result={result_file}",
        *(["--profile"] if args.profile else []),
    ]
    print(f"[{step}] database {database}, load {load_average()}", flush=True)
    began = time.perf_counter()
    subprocess.run(command, env=server_env(args, database), cwd=ROOT, check=True)
    data: dict[str, Any] = json.loads(result_file.read_text())
    data["wall_s"] = time.perf_counter() - began
    return data


class Server:
    """gunicorn config.wsgi -w N on a free loopback port, as the README deploys it."""

    def __init__(self, args: argparse.Namespace, database: str, scratch: Path) -> None:
        self.port = free_port()
        self.log = scratch / "gunicorn.log"
        command = [
            sys.executable, "-m", "gunicorn", "config.wsgi",
            "-w", str(args.workers),
            "-b", f"127.0.0.1:{self.port}",
            "--error-logfile", str(self.log),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, env=server_env(args, database), cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{self.log.read_text()}")
            try:
                if self.request("GET", STATIC_FILE)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.3)
        else:
            raise SystemExit("gunicorn did not answer within 60 s")

    def request(
        self, method: str, path: str, *, cookies: dict[str, str] | None = None, body: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        """One request as a TLS-terminating proxy would pass it on (X-Forwarded-Proto: https)."""
        headers = {"X-Forwarded-Proto": "https", "Host": f"127.0.0.1:{self.port}"}
        if cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://127.0.0.1:{self.port}"
            headers["Referer"] = f"https://127.0.0.1:{self.port}{path}"
        connection = HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            found: dict[str, str] = {}
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    found[key.strip()] = rest.split(";", 1)[0]
            return response.status, found, text
        finally:
            connection.close()

    def login(self, username: str) -> str:
        """The login form as a browser submits it: its CSRF token, then the POST; returns the session id."""
        status, cookies, html = self.request("GET", "/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        assert status == 200 and token and "csrftoken" in cookies, (status, cookies)
        status, set_cookies, _ = self.request(
            "POST",
            "/login/",
            cookies={"csrftoken": cookies["csrftoken"]},
            body={"csrfmiddlewaretoken": token.group(1), "username": username, "password": PASSWORD, "next": ""},
        )
        if status != 302 or "sessionid" not in set_cookies:
            raise SystemExit(f"login of {username} failed: {status} {set_cookies}")
        return set_cookies["sessionid"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) of a process and its descendants, reaped ones included (Linux /proc), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in province.process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime: the last two are the reaped children's (exited backends).
        total += sum(int(field) for field in fields[11:15])
    return total / ticks


def postmaster_pid(server_url: str) -> int:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as connection:
        row = connection.execute("SHOW data_directory").fetchone()
    assert row is not None
    return int((Path(str(row[0])) / "postmaster.pid").read_text().split()[0])


WRK_SCRIPT = r"""
-- Generated by bench/dashboard_load.py: each request carries the next user's session in turn;
-- with a rate, requests leave on a fixed schedule (rate per second for this thread); statuses other
-- than 200 are counted; done() writes the figures as JSON.
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
           int clock_gettime(int clock, bench_timespec *now); ]]
local now_spec = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, now_spec)
  return tonumber(now_spec.tv_sec) * 1000 + tonumber(now_spec.tv_nsec) / 1e6
end

local sessions = {SESSIONS}
local path = "{PATH}"
local rate = {RATE}
local output = "{OUTPUT}"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  turn = 0
  other_status = 0
  next_at = nil
end

function request()
  turn = turn + 1
  local session = sessions[(turn % #sessions) + 1]
  return wrk.format("GET", path, {
    ["Cookie"] = "sessionid=" .. session,
    ["X-Forwarded-Proto"] = "https",
  })
end

if rate > 0 then
  local interval = 1000 / rate
  function delay()
    local now = now_ms()
    -- Behind schedule by more than a second (a stall): start the schedule again from now.
    if next_at == nil or next_at < now - 1000 then next_at = now end
    local wait = next_at - now
    next_at = next_at + interval
    if wait < 0 then return 0 end
    return math.floor(wait + 0.5)
  end
end

function response(status, headers, body)
  if status ~= 200 then other_status = other_status + 1 end
end

function done(summary, latency, requests)
  local other = 0
  for _, thread in ipairs(threads) do other = other + thread:get("other_status") end
  local file = io.open(output, "w")
  file:write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "status_errors": %d, "timeouts": %d, "not_200": %d, "mean_us": %.1f, ' ..
    '"p50_us": %d, "p90_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout, other, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max))
  file:close()
end
"""


def wrk_run(
    args: argparse.Namespace,
    server: Server,
    target: Target,
    sessions: list[str],
    *,
    seconds: float,
    rate: float,
    scratch: Path,
) -> dict[str, Any]:
    """One wrk run against one page: --users connections, one thread; rate 0 = as fast as answered."""
    output = scratch / f"wrk-{target.key}-{int(rate)}.json"
    script = scratch / f"wrk-{target.key}-{int(rate)}.lua"
    script.write_text(
        WRK_SCRIPT.replace("{SESSIONS}", "{" + ", ".join(f'"{s}"' for s in sessions) + "}")
        .replace("{PATH}", target.path)
        .replace("{RATE}", str(rate))
        .replace("{OUTPUT}", str(output))
    )
    command = [
        args.wrk, "-t", "1", "-c", str(args.users), "-d", f"{seconds:g}s", "--timeout", "10s",
        "-s", str(script), f"http://127.0.0.1:{server.port}",
    ]  # fmt: skip
    gunicorn, postgres = server.process.pid, args.postmaster
    load_before, gunicorn_before, postgres_before = load_average(), cpu_seconds(gunicorn), cpu_seconds(postgres)
    usage = os.times()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    after_usage = os.times()
    result: dict[str, Any] = json.loads(output.read_text())
    result["load_average"] = {"before": load_before, "after": load_average()}
    requests = max(result["requests"], 1)
    result["cpu_ms_per_request"] = {
        "gunicorn": (cpu_seconds(gunicorn) - gunicorn_before) * 1000 / requests,
        "postgres": (cpu_seconds(postgres) - postgres_before) * 1000 / requests,
        "wrk": (
            (after_usage.children_user - usage.children_user) + (after_usage.children_system - usage.children_system)
        )
        * 1000
        / requests,
    }
    result["rate_per_s"] = result["requests"] / (result["duration_us"] / 1e6)
    result["offered_rate"] = rate
    result["path"] = target.path
    return result


def parent_load(
    args: argparse.Namespace, database: str, users: dict[str, list[dict[str, str]]], scratch: Path
) -> dict[str, Any]:
    server = Server(args, database, scratch)
    try:
        began = time.perf_counter()
        # As many logins at once as there are workers (each checks a PBKDF2 hash, ~0.5 s of CPU).
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            sessions = {
                level: list(pool.map(server.login, [user["username"] for user in users[level]])) for level in LEVELS
            }
        login_s = time.perf_counter() - began
        # Every session opens its own dashboard, and sees its own region's name in the title.
        for level in LEVELS:
            for user, session in zip(users[level], sessions[level], strict=True):
                status, _, html = server.request("GET", DASHBOARD, cookies={"sessionid": session})
                title = re.search(r'data-testid="dashboard-title">([^<·]+)', html)
                if status != 200 or not title or title.group(1).strip() != user["name"]:
                    raise SystemExit(f"{user['username']}: dashboard {status}, title {title and title.group(1)!r}")
        runs: dict[str, Any] = {}
        for target in TARGETS:
            chosen = sessions[target.users]
            print(f"[load] {target.label}: warm-up {args.warmup:g} s, load {load_average()}", flush=True)
            wrk_run(args, server, target, chosen, seconds=args.warmup, rate=0, scratch=scratch)
            closed = wrk_run(args, server, target, chosen, seconds=args.duration, rate=0, scratch=scratch)
            print(
                f"[load] {target.label}: {closed['rate_per_s']:.0f}/s, p95 {closed['p95_us'] / 1000:.1f} ms", flush=True
            )
            paced = wrk_run(args, server, target, chosen, seconds=args.duration, rate=args.rate, scratch=scratch)
            print(f"[load] {target.label} at {args.rate:g}/s: p95 {paced['p95_us'] / 1000:.1f} ms", flush=True)
            runs[target.key] = {"label": target.label, "closed": closed, "paced": paced}
        return {"login_s": login_s, "runs": runs, "port": server.port}
    finally:
        server.stop()
        log = server.log.read_text() if server.log.exists() else ""
        errors = [line for line in log.splitlines() if "Traceback" in line or "ERROR" in line]
        if errors:
            print(f"gunicorn logged {len(errors)} errors; last lines:\n" + "\n".join(log.splitlines()[-30:]))


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def format_table(results: dict[str, Any], args: argparse.Namespace) -> str:
    runs = results["load"]["runs"]
    lines = [
        f"{'page':<34}{'mode':<16}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
        f"{'max ms':>8}{'not 200':>8}   CPU ms/request (gunicorn, postgres, wrk)   load before -> after",
    ]
    for run in runs.values():
        for mode, figures in (("closed loop", run["closed"]), (f"at {args.rate:g}/s", run["paced"])):
            cpu = figures["cpu_ms_per_request"]
            failed = figures["not_200"] + figures["connect_errors"] + figures["read_errors"] + figures["timeouts"]
            lines.append(
                f"{run['label'] if mode == 'closed loop' else '':<34}{mode:<16}{figures['requests']:>9,}"
                f"{figures['rate_per_s']:>8.0f}{figures['p50_us'] / 1000:>8.1f}{figures['p95_us'] / 1000:>8.1f}"
                f"{figures['p99_us'] / 1000:>8.1f}{figures['max_us'] / 1000:>8.1f}{failed:>8}"
                f"   {cpu['gunicorn']:>6.2f} {cpu['postgres']:>6.2f} {cpu['wrk']:>6.2f}"
                f"{'':<25}{figures['load_average']['before'][0]:.2f} -> {figures['load_average']['after'][0]:.2f}"
            )
    lines.append("")
    for level in LEVELS:
        for floor in ("static", "page"):
            lines.append(ratio_line(runs, level, floor, args.rate))
    county = runs.get("county")
    if county:
        closed, paced = county["closed"], county["paced"]
        failed = closed["not_200"] + paced["not_200"]
        lines.append("")
        lines.append(
            f"target county dashboard >= {TARGET_RATE:.0f} requests/s (closed loop, {args.users} users): "
            f"{closed['rate_per_s']:.0f}/s {verdict(closed['rate_per_s'] >= TARGET_RATE and not failed)}"
        )
        lines.append(
            f"target county dashboard p95 <= {TARGET_P95_MS:.0f} ms at {args.rate:g} requests/s ({args.users} users): "
            f"{paced['p95_us'] / 1000:.1f} ms {verdict(paced['p95_us'] / 1000 <= TARGET_P95_MS and not failed)}"
            f" (achieved {paced['rate_per_s']:.0f}/s)"
        )
        lines.append(
            f"target county dashboard p95 <= {TARGET_P95_MS:.0f} ms in the closed loop ({args.users} users, no pause): "
            f"{closed['p95_us'] / 1000:.1f} ms {verdict(closed['p95_us'] / 1000 <= TARGET_P95_MS and not failed)}"
        )
    lines.append(
        f"(closed loop: {args.users} users each sending the next request as soon as the last is answered, so the "
        f"mean latency is {args.users} / throughput"
    )
    lines.append(
        f" and a p95 <= {TARGET_P95_MS:.0f} ms there needs about {args.users * 1000 / TARGET_P95_MS:.0f} requests/s; "
        f"paced: requests leave on a {args.rate:g}/s schedule over the same {args.users} connections)"
    )
    lines.append(
        "(CPU ms/request: gunicorn master + workers, the whole PostgreSQL server, wrk; all on the same "
        f"{os.cpu_count()} CPUs, with whatever else the machine runs: see the load average)"
    )
    return "\n".join(lines)


def ratio_line(runs: dict[str, Any], level: str, floor: str, rate: float) -> str:
    """How far a dashboard is from a floor: its p50 and p95 at the paced rate, and the requests per
    second of the closed loop, as multiples of the floor's."""
    page, base = runs[level], runs[floor]

    def times(figure: str, mode: str) -> str:
        return f"{page[mode][figure] / max(base[mode][figure], 1):.1f}x"

    fewer = base["closed"]["rate_per_s"] / max(page["closed"]["rate_per_s"], 1e-9)
    return (
        f"{level} dashboard / {base['label']}: at {rate:g}/s p50 {times('p50_us', 'paced')}, "
        f"p95 {times('p95_us', 'paced')}; closed loop {fewer:.1f}x fewer requests/s, p95 {times('p95_us', 'closed')}"
    )


def format_profile(profile: dict[str, Any]) -> str:
    lines = [
        "One request in process (django.test.Client, production settings), per level; phases inclusive, "
        "medians of the warm requests:"
    ]
    for level in LEVELS:
        result = profile[level]
        cold = result["cold"]
        phases = ", ".join(f"{label} {ms:.1f}" for label, ms in result["warm_phases_median_ms"].items())
        lines.append(
            f"  {level:<9} {result['queries']} queries, {result['bytes']:,} bytes; cold {cold['ms']:.1f} ms "
            f"(SQL {cold['sql_ms']:.1f}); warm median {result['warm_median_ms']:.1f} ms "
            f"(SQL {result['warm_sql_median_ms']:.1f}; {phases})"
        )
        for query in result["slowest_queries"][:3]:
            lines.append(f"      {query['ms']:6.2f} ms  {query['sql'][:140]}")
        if result.get("cprofile"):
            lines.append(result["cprofile"])
    return "\n".join(lines)


def parent_main(args: argparse.Namespace) -> None:
    server_url = os.environ.get("DATABASE_URL", "")
    if not urllib.parse.urlsplit(server_url).scheme.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL server (run under scripts/with-services)")
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("REDIS_URL must name a Redis server, the production cache (run under scripts/with-services)")
    args.wrk = shutil.which("wrk")
    if not args.wrk:
        raise SystemExit("wrk not found: apt-get install wrk")
    args.server_url = server_url
    args.postmaster = postmaster_pid(server_url)
    args.secret_key = secrets.token_urlsafe(40)
    database = f"bench_dashboard_load_{args.households}"
    args.database = database
    scratch = Path(tempfile.mkdtemp(prefix="bench-dashboard-load-"))
    results: dict[str, Any] = {}
    started = time.perf_counter()
    reuse = args.reuse and province.database_exists(server_url, database)
    try:
        if not reuse:
            server_execute(server_url, f'DROP DATABASE IF EXISTS "{database}"', f'CREATE DATABASE "{database}"')
            build_args = province.parse_args([f"--households={args.households}", f"--quarters={args.quarters}"])
            build_args.server_url = server_url
            results["build"] = province.run_child(build_args, "build", database, scratch)
            print(f"[build] {results['build']['counts']}", flush=True)
        else:
            print(f"[build] reusing {database}", flush=True)
        results["prepare"] = run_own_child(args, "prepare", database, scratch)
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            env=server_env(args, database),
            cwd=ROOT,
            check=True,
        )
        results["collectstatic_s"] = time.perf_counter() - began
        results["profile"] = run_own_child(args, "profile", database, scratch)
        print(format_profile(results["profile"]), flush=True)
        results["load"] = parent_load(args, database, results["prepare"]["users"], scratch)
    finally:
        if not args.keep:
            server_execute(server_url, f'DROP DATABASE IF EXISTS "{database}"')
        shutil.rmtree(scratch, ignore_errors=True)

    import psycopg

    with psycopg.connect(server_url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
        version = str(row[0]) if row else "?"
    counts = results["prepare"]["counts"]
    table = format_table(results, args)
    print()
    print(
        f"Dashboards under load: gunicorn -w {args.workers} ({SETTINGS}, DEBUG off), PostgreSQL {version}, "
        f"{os.cpu_count()} CPUs shared by server, database and wrk (1 thread, {args.users} connections); "
        f"{counts.get('households', 0):,} households, {counts.get('indicator values', 0):,} indicator values, "
        f"{counts.get('alerts', 0):,} alerts; {args.duration:g} s per run after {args.warmup:g} s of warm-up"
    )
    print()
    print(table)
    print()
    print(format_profile(results["profile"]))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    output = RESULTS_DIR / f"dashboard_load-{args.households}.json"
    payload = {
        "households": args.households,
        "users": args.users,
        "workers": args.workers,
        "rate": args.rate,
        "duration_s": args.duration,
        "server_version": version,
        "settings": SETTINGS,
    }
    write_results(output, payload, started=started, table=table, results=results)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--households", type=int, default=2_000_000, help="households in the province (2000000)")
    parser.add_argument("--quarters", type=int, default=4, help="quarters of income ending 2026Q3, all computed (4)")
    parser.add_argument("--users", type=int, default=32, help="concurrent users, i.e. wrk connections (32)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--duration", type=float, default=20, help="seconds per measured run (20)")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of warm-up before each page (5)")
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="requests/s of the paced runs (300)")
    parser.add_argument("--profile", action="store_true", help="cProfile 10 warm requests of each dashboard")
    parser.add_argument("--profile-repeat", type=int, default=20, help="warm in-process requests per level (20)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept database of the same size (no build)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


CHILDREN = {"prepare": child_prepare, "profile": child_profile}


def main() -> None:
    run_main(parse_args(), CHILDREN, parent_main)


if __name__ == "__main__":
    main()
