"""The everyday pages under load: the mix of household list, household page, home page and income
saves by county, township and village users, through gunicorn and PostgreSQL, with and without
think time, with and without a 20,000-household import running, against a static-file floor
measured in the same run.

Usage, from the repository root:

    scripts/with-services .venv/bin/python bench/load.py                    # 70,000 households
    scripts/with-services .venv/bin/python bench/load.py --households 5000 --duration 10 --import-households 2000
    # build once, measure again without building
    scripts/with-services bash -c '.venv/bin/python bench/load.py --keep &&
                                   .venv/bin/python bench/load.py --reuse --keep'
    # only the in-process profile of the pages (CPU ms and queries per page and role), with cProfile
    scripts/with-services .venv/bin/python bench/load.py --reuse --keep --profile-only --profile

The parent builds the database bench_load_<N> on the PostgreSQL server DATABASE_URL names (kept
with --keep, reused with --reuse) and measures a fresh copy of it (bench_load_<N>_run, CREATE
DATABASE … TEMPLATE, dropped afterwards), so the imports' households are new every time. Each
Django step runs in a child process of its own:

1. build (config.settings.test): migrate, `seed_demo --households N --seed 1`, the targets and the
   last four quarters computed as `make run` does (a county user's home page is its dashboard),
   VACUUM ANALYZE.
2. prepare (config.settings.prod): the pools the users draw from (households of each role's scope
   for the household page; for the income saves a few households per writing role whose latest
   quarter is open, so that two users sometimes edit the same record); and two roster workbooks,
   one per run with the import: --import-households new households each of the township user's
   township, from the demo generator (another seed, drawing only that township's villages, numbering
   after the households there and skipping every 身份证号 a member has), written by
   households.excel.writer as a 花名册 (bench/import_roster.py's rows).
3. profile (config.settings.prod, in process with django.test.Client): for each role the list, the
   household page, the home page and the income form: wall and CPU milliseconds per request (this
   process and its PostgreSQL backend), queries and SQL time; with --profile cProfile's top functions.
4. load: gunicorn -w 4 (bench/dashboard_load.py's Server, production settings, X-Forwarded-Proto:
   https), a Celery worker as deploy/ runs it, every session logged in through the login form. Then:
   the floors with wrk (a static file, and the login page of a logged-in user), and the mix runs with
   this script's client: --users threads, each a user of one role with a session of that role, each
   request on a new connection (gunicorn's sync workers close it anyway):
   - closed loop (no think time), without and with the import (uploaded by the township user through
     the import page, checked and confirmed by the worker, polled in the database until applied);
   - think time (--think-users users pausing --think seconds between requests), without and with it.
   The mix: list 60% / household page 25% / home 10% / income save 5% (a save is the income form's
   GET and its POST with the version and CSRF token the form carried, one amount set to a marker
   unique to the save). The county viewer may not save, so the township and village users save more
   often, by as much as keeps the whole mix at 5%.
5. verify: every save either committed (302) or was refused with a message on the form (200 with
   form errors); the history of the pooled records holds every committed marker and no refused one,
   and each record's current value is a committed marker.

Output: per run and request type the requests, requests/s, p50/p95/p99/max, answers that were not
what the page should answer; CPU per request of gunicorn, PostgreSQL, the worker and this client;
the load average before and after; the import's seconds; the aims judged; everything in
bench/results/load-<N>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import assessment_province as province  # noqa: E402
from bench import dashboard_load as dashboard  # noqa: E402
from bench.common import load_average, run_main, server_execute, verdict, with_database, write_results  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
SETTINGS = "config.settings.prod"
ROLES = ("county", "township", "village")
# A county user's home page is its dashboard (/ redirects there); the others' is the ledger's home page.
HOME = {"county": "/assessment/dashboard/", "township": "/", "village": "/"}
USERNAMES = {"county": "xian", "township": "xiang", "village": "cun"}
WRITERS = ("township", "village")
MIX = {"list": 60.0, "detail": 25.0, "home": 10.0, "save": 5.0}
KINDS = ("list", "detail", "home", "income form", "income save")
MARKER_FIELD = "property_other"
STATIC_FILE = dashboard.STATIC_FILE
AIM_RATE = 200.0
AIM_P95_MS = 150.0
AIM_IMPORT_COST = 0.20


# --------------------------------------------------------------------------------------------
# Children
# --------------------------------------------------------------------------------------------


def child_build(args: argparse.Namespace) -> dict[str, Any]:
    """Migrate, seed the demo county with N households, VACUUM ANALYZE."""
    province.django_setup("config.settings.test")
    from django.core.management import call_command
    from django.db import connection

    timings: dict[str, float] = {}
    began = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    timings["migrate_s"] = time.perf_counter() - began
    began = time.perf_counter()
    call_command("seed_demo", households=args.households, seed=1, stdout=sys.stdout)
    timings["seed_s"] = time.perf_counter() - began
    began = time.perf_counter()
    # As `make run` does: the targets, and the last four quarters computed (the county's home page
    # is its dashboard, which reads them).
    for command in ("seed_coverage_targets", "seed_fund_targets", "seed_targets"):
        call_command(command, stdout=sys.stdout)
    timings["targets_s"] = time.perf_counter() - began
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    timings["analyze_s"] = time.perf_counter() - began
    return {"timings": timings}


def _scoped_pick(user: Any) -> tuple[int, str]:
    """The household each role's profile opens: the first of its scope with 8 quarters and 4+ members
    (an open case preferred), and the period of its latest record."""
    from django.db.models import Count, Exists, OuterRef, Q

    from households.models import Household, HouseholdStatus, MonitoringCase

    first_ids = list(
        Household.objects.visible_to(user)
        .filter(status=HouseholdStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)[:2000]
    )
    chosen = (
        Household.objects.filter(pk__in=first_ids)
        .annotate(
            quarters=Count("income_records", distinct=True),
            people=Count("members", filter=Q(members__is_active=True), distinct=True),
            has_open_case=Exists(MonitoringCase.objects.open().filter(household=OuterRef("pk"))),
        )
        .filter(quarters=8, people__gte=4)
        .order_by("-has_open_case", "pk")
        .first()
    )
    assert chosen is not None, user.username
    record = chosen.income_records.order_by("-year", "-quarter").first()
    assert record is not None
    return chosen.pk, str(record.period)


def child_prepare(args: argparse.Namespace) -> dict[str, Any]:
    """Pools of households per role, the household and period each role's profile opens, the roster
    workbook of the import."""
    province.django_setup(SETTINGS)
    from django.core.management import call_command

    from households.closing import quarter_is_closed
    from households.models import AMOUNT_FIELDS, Household, HouseholdStatus, IncomeRecord
    from households.plausibility import wages_above_bound
    from regions.models import User

    call_command("migrate", verbosity=0, interactive=False)  # a kept database meets newer code
    from axes.utils import reset as axes_reset

    axes_reset()  # failed logins of an earlier run must not lock the bench's users out
    rng = random.Random(7)
    users = {role: User.objects.get(username=username) for role, username in USERNAMES.items()}
    for user in users.values():
        assert not user.must_change_password and user.is_active, user.username
        if not user.check_password(args.password):
            # Built with the test settings' fast hasher, which production settings do not accept.
            user.set_password(args.password)
            user.save(update_fields=["password"])
    pools: dict[str, Any] = {}
    for role, user in users.items():
        visible = Household.objects.visible_to(user).filter(status=HouseholdStatus.ACTIVE)
        ids = list(visible.order_by().values_list("pk", flat=True))
        rng.shuffle(ids)
        pools[role] = {"detail": ids[: args.detail_pool], "count": len(ids), "pick": _scoped_pick(user)}
    for role in WRITERS:
        # Few records, so that two users of a role sometimes open the same one: the second save is refused.
        saves: list[tuple[int, str]] = []
        for pk in pools[role]["detail"]:
            record = IncomeRecord.objects.filter(household_id=pk).order_by("-year", "-quarter").first()
            if record is None:
                continue
            village = record.household.village
            if quarter_is_closed(village_code=village.code, period=record.period):
                continue
            amounts = {name: getattr(record, name) for name in AMOUNT_FIELDS}
            if wages_above_bound(village=village, quarter=record.period, amounts=amounts):
                continue  # the form would ask to confirm the wages: a browser never posts that box unasked
            saves.append((pk, str(record.period)))
            if len(saves) == args.save_pool:
                break
        pools[role]["save"] = saves
    rosters = prepare_rosters(args, users["township"])
    return {"pools": pools, "rosters": rosters, "township": str(users["township"].region)}


def prepare_rosters(args: argparse.Namespace, township_user: Any) -> list[dict[str, Any]]:
    """Two 花名册 workbooks of --import-households new households each in the township user's
    township (one per run with the import: each run's households are new to the database)."""
    from datetime import date

    from django.db.models import Max

    from bench.import_roster import roster_rows
    from households.demo import DemoGenerator
    from households.excel.writer import rows_workbook_write
    from households.models import Household, Member, RiskType

    paths = [Path(args.roster.replace("{part}", part)) for part in ("a", "b")]
    if all(path.exists() for path in paths):
        return [{"path": str(path), "households": args.import_households, "reused": True} for path in paths]
    prefix = township_user.region.prefix
    began = time.perf_counter()
    # The demo generator with another seed, drawing only the township's villages, numbering after the
    # households there and handing out only 身份证号 no member has.
    generator = DemoGenerator(2)
    keep = [index for index, (_, code, _) in enumerate(generator.villages) if code.startswith(prefix)]
    generator.villages = [generator.villages[index] for index in keep]
    generator.village_weights = [generator.village_weights[index] for index in keep]
    for code, top in (
        Household.objects.filter(village__code__startswith=prefix)
        .values_list("village__code")
        .annotate(top=Max("number"))
    ):
        generator.next_number[code] = int(top[-5:])
    for id_number in Member.objects.values_list("id_number", flat=True).iterator(chunk_size=20_000):
        if len(id_number) != 18 or not id_number[6:17].isdigit():
            continue
        born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
        sequence = int(id_number[14:17])
        sex = "M" if sequence % 2 else "F"
        taken = (sequence - (1 if sex == "M" else 2)) // 2 + 1
        if generator.taken_sequences[(born, sex)] < taken:
            generator.taken_sequences[(born, sex)] = taken
    chosen = [generator.household() for _ in range(2 * args.import_households)]
    risk_names = dict(RiskType.objects.values_list("code", "name"))
    names = list(RiskType.objects.order_by("sort_order", "code").values_list("name", flat=True))
    rosters = []
    for index, path in enumerate(paths):
        part = chosen[index * args.import_households : (index + 1) * args.import_households]
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as target:
            rows = rows_workbook_write(target, "roster", roster_rows(part, risk_names), risk_type_names=names)
        rosters.append({"path": str(path), "households": len(part), "rows": rows, "bytes": path.stat().st_size})
    rosters[0]["seconds"] = time.perf_counter() - began
    return rosters


def _backend_cpu_seconds() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far (same machine, /proc)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile_pages(prepared: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(role, page, URL) of the in-process profile."""
    pages = []
    for role in ROLES:
        pk, period = prepared["pools"][role]["pick"]
        pages += [
            (role, "list", "/households/"),
            (role, "detail", f"/households/{pk}/"),
            (role, "home", HOME[role]),
        ]
        if role in WRITERS:
            pages.append((role, "income form", f"/households/{pk}/income/{period}/"))
    return pages


def child_profile(args: argparse.Namespace) -> dict[str, Any]:
    """Each role's pages in process (django.test.Client, production settings): wall and CPU ms per
    request of this process and of its PostgreSQL backend, queries and SQL time; cProfile if asked."""
    province.django_setup(SETTINGS)
    import cProfile
    import io
    import pstats

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from regions.models import User

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    prepared = json.loads(Path(args.prepared).read_text())
    clients: dict[str, Client] = {}
    for role, username in USERNAMES.items():
        client = Client()
        client.force_login(User.objects.get(username=username))
        clients[role] = client
    pages = profile_pages(prepared)

    def get(role: str, url: str) -> Any:
        response = clients[role].get(url, secure=True)
        assert response.status_code == 200, (role, url, response.status_code)
        return response

    for _ in range(3):
        for role, _page, url in pages:
            get(role, url)
    results = []
    # A parallel plan's workers are processes of their own, outside the backend's figure: the whole
    # server's CPU (nothing else uses this cluster while the profile runs) counts them.
    postmaster = dashboard.postmaster_pid(os.environ["DATABASE_URL"])
    for role, page, url in pages:
        walls, cpus = [], []
        db_before, server_before = _backend_cpu_seconds(), dashboard.cpu_seconds(postmaster)
        for _ in range(args.profile_repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            get(role, url)
            cpus.append((time.process_time() - cpu) * 1000)
            walls.append((time.perf_counter() - wall) * 1000)
        db_ms = (_backend_cpu_seconds() - db_before) * 1000 / args.profile_repeat
        server_ms = (dashboard.cpu_seconds(postmaster) - server_before) * 1000 / args.profile_repeat
        with CaptureQueriesContext(connection) as captured:
            response = get(role, url)
        result: dict[str, Any] = {
            "role": role,
            "page": page,
            "url": url,
            "wall_ms": statistics.median(walls),
            "cpu_ms": statistics.median(cpus),
            "db_cpu_ms": db_ms,
            "server_cpu_ms": server_ms,
            "queries": len(captured.captured_queries),
            "sql_ms": sum(float(query["time"]) for query in captured.captured_queries) * 1000,
            "bytes": len(response.content),
            "sql": [query["sql"][:400] for query in captured.captured_queries],
        }
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(10):
                get(role, url)
            profiler.disable()
            text = io.StringIO()
            stats = pstats.Stats(profiler, stream=text)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(40)
            result["cprofile"] = text.getvalue()
        results.append(result)
        print(
            f"  [profile] {role:<9}{page:<12} cpu {result['cpu_ms']:6.1f} ms + db {db_ms:5.1f} ms "
            f"(server {server_ms:5.1f} ms), "
            f"wall {result['wall_ms']:6.1f} ms, {result['queries']} queries",
            flush=True,
        )
    return {"pages": results, "load_average": load_average()}


def child_verify(args: argparse.Namespace) -> dict[str, Any]:
    """Every committed save is in the records' history and every refused one is not; each record's
    current value is a committed marker."""
    province.django_setup(SETTINGS)
    from datetime import datetime
    from decimal import Decimal

    from households.models import IncomeRecord
    from households.quarter import Quarter

    saves = json.loads(Path(args.saves).read_text())
    started = datetime.fromisoformat(saves["started_at"])
    by_record: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for save in saves["saves"]:
        by_record.setdefault((save["household"], save["period"]), []).append(save)
    problems: list[str] = []
    committed = refused = found = 0
    for (household, period), items in by_record.items():
        quarter = Quarter.parse(period)
        history = IncomeRecord.history.filter(
            household_id=household, year=quarter.year, quarter=quarter.number, history_date__gte=started
        ).order_by("history_date", "history_id")
        written = [Decimal(getattr(row, MARKER_FIELD)) for row in history]
        current = IncomeRecord.objects.get(household_id=household, year=quarter.year, quarter=quarter.number)
        markers = {Decimal(item["marker"]): item for item in items}
        for marker, item in markers.items():
            if item["outcome"] == "committed":
                committed += 1
                if marker in written:
                    found += 1
                else:
                    problems.append(f"save {item['n']} ({household} {period}) answered committed, not in history")
            elif item["outcome"] == "refused":
                refused += 1
                if marker in written:
                    problems.append(f"save {item['n']} ({household} {period}) answered refused, but written")
        ours = [value for value in written if value in markers]
        if len(ours) != len(written):
            problems.append(f"{household} {period}: {len(written) - len(ours)} history rows not made by this run")
        value = Decimal(getattr(current, MARKER_FIELD))
        if ours and (value != ours[-1] or markers[value]["outcome"] != "committed"):
            problems.append(f"{household} {period}: current {value} is not the last committed save")
    return {"records": len(by_record), "committed": committed, "refused": refused, "found": found, "problems": problems}


# --------------------------------------------------------------------------------------------
# Parent: HTTP, the users, the import
# --------------------------------------------------------------------------------------------


def http(
    port: int,
    method: str,
    path: str,
    *,
    cookies: dict[str, str] | None = None,
    body: bytes | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> tuple[int, dict[str, str], str]:
    """One request as a TLS-terminating proxy passes it on; (status, cookies set, body)."""
    headers = {"X-Forwarded-Proto": "https", "Host": f"127.0.0.1:{port}"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    if body is not None:
        headers["Content-Type"] = content_type
        headers["Origin"] = f"https://127.0.0.1:{port}"
        headers["Referer"] = f"https://127.0.0.1:{port}{path}"
    connection = HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers)
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


def remember(jar: dict[str, str], found: dict[str, str]) -> None:
    """Keep the cookies a response set; an emptied one (messages shown) is dropped."""
    for name, value in found.items():
        if value in ("", '""'):
            jar.pop(name, None)
        else:
            jar[name] = value


CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
INPUT = re.compile(r'<input[^>]*?name="(\w+)"[^>]*?value="([^"]*)"')
FORM_ERRORS = re.compile(r'data-testid="form-errors">(.*?)</div>', re.S)
FIELD_ERRORS = re.compile(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', re.S)
TAGS = re.compile(r"<[^>]+>")


def login(port: int, username: str, password: str) -> dict[str, str]:
    """The login form as a browser submits it; returns the cookie jar (session and CSRF)."""
    jar: dict[str, str] = {}
    status, found, html = http(port, "GET", "/login/")
    remember(jar, found)
    token = CSRF_FIELD.search(html)
    assert status == 200 and token, status
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password, "next": ""}
    ).encode()
    status, found, _ = http(port, "POST", "/login/", cookies=jar, body=body)
    remember(jar, found)
    if status != 302 or "sessionid" not in jar:
        raise SystemExit(f"login of {username} failed: {status}")
    return jar


@dataclass
class Sample:
    kind: str
    role: str
    started: float
    ms: float
    ok: bool


@dataclass
class Run:
    """What the users of one run share: the clock, the samples, the saves."""

    port: int
    measure_from: float
    until: float
    think: tuple[float, float] | None
    samples: list[Sample] = field(default_factory=list)
    saves: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


SAVE_COUNTER = iter(range(1, 10**9))
SAVE_COUNTER_LOCK = threading.Lock()


class User:
    """One virtual user: a role, a session of that role, its own random stream."""

    def __init__(
        self, run: Run, role: str, jar: dict[str, str], pools: dict[str, Any], seed: int, weights: dict[str, float]
    ):
        self.run, self.role, self.jar, self.pools = run, role, dict(jar), pools
        self.rng = random.Random(seed)
        self.kinds = [kind for kind, weight in weights.items() if weight > 0]
        self.weights = [weights[kind] for kind in self.kinds]

    def record(self, kind: str, started: float, ok: bool, detail: str = "") -> None:
        ms = (time.perf_counter() - started) * 1000
        if started < self.run.measure_from:
            return
        with self.run.lock:
            self.run.samples.append(Sample(kind, self.role, started, ms, ok))
            if not ok and len(self.run.failures) < 50:
                self.run.failures.append(f"{self.role} {kind}: {detail}")

    def get(self, kind: str, path: str) -> tuple[int, str]:
        started = time.perf_counter()
        try:
            status, found, html = http(self.run.port, "GET", path, cookies=self.jar)
        except OSError as error:
            self.record(kind, started, False, f"{path}: {error!r}")
            return 0, ""
        remember(self.jar, found)
        self.record(kind, started, status == 200, f"{path}: HTTP {status}")
        return status, html

    def list_path(self) -> str:
        """Page 1 mostly; sometimes a later page or one of the filters the home page links to."""
        pages = max(1, self.pools["count"] // 50)
        draw = self.rng.random()
        if draw < 0.55:
            return "/households/"
        if draw < 0.80:
            return f"/households/?page={self.rng.randint(2, min(pages, 40))}" if pages > 1 else "/households/"
        return "/households/?" + self.rng.choice(
            ["household_type=lifted", "risk=open", "below=on&risk=none", "sort=-income", "q=%E7%BD%97"]
        )

    def save(self) -> None:
        """The income form of a pooled record, then its POST with one amount set to a unique marker."""
        household, period = self.rng.choice(self.pools["save"])
        path = f"/households/{household}/income/{period}/"
        status, html = self.get("income form", path)
        if status != 200:
            return
        values = dict(INPUT.findall(html))
        token = CSRF_FIELD.search(html)
        with SAVE_COUNTER_LOCK:
            number = next(SAVE_COUNTER)
        marker = f"{100 + number // 100}.{number % 100:02d}"
        values[MARKER_FIELD] = marker
        values["csrfmiddlewaretoken"] = token.group(1) if token else ""
        body = urllib.parse.urlencode(values).encode()
        started = time.perf_counter()
        try:
            status, found, answer = http(self.run.port, "POST", path, cookies=self.jar, body=body)
        except OSError as error:
            status, found, answer = 0, {}, repr(error)
        remember(self.jar, found)
        message = ""
        if status == 302:
            outcome = "committed"
        elif status == 200:
            errors = FORM_ERRORS.search(answer)
            texts = [errors.group(1)] if errors else FIELD_ERRORS.findall(answer)
            message = " ".join(" ".join(TAGS.sub(" ", text).split()) for text in texts).strip()
            outcome = "refused" if message else "silent"
        else:
            outcome = "error"
        self.record("income save", started, outcome in ("committed", "refused"), f"{path}: {status} {outcome}")
        with self.run.lock:
            self.run.saves.append(
                {
                    "n": number,
                    "household": household,
                    "period": period,
                    "marker": marker,
                    "role": self.role,
                    "status": status,
                    "outcome": outcome,
                    "message": message[:200],
                }
            )

    def loop(self) -> None:
        while time.perf_counter() < self.run.until:
            kind = self.rng.choices(self.kinds, weights=self.weights)[0]
            if kind == "save":
                self.save()
            elif kind == "detail":
                self.get("detail", f"/households/{self.rng.choice(self.pools['detail'])}/")
            elif kind == "home":
                self.get("home", HOME[self.role])
            else:
                self.get("list", self.list_path())
            if self.run.think is not None:
                pause = self.rng.uniform(*self.run.think)
                time.sleep(max(0.0, min(pause, self.run.until - time.perf_counter())))


def role_weights(users_by_role: dict[str, int]) -> dict[str, dict[str, float]]:
    """Each role's mix; the county viewer may not save, so the writers save more, keeping 5% overall."""
    total = sum(users_by_role.values())
    writers = sum(users_by_role[role] for role in WRITERS) / total
    save = MIX["save"] / writers
    reads = {kind: weight for kind, weight in MIX.items() if kind != "save"}
    scale = (100.0 - save) / sum(reads.values())
    weights = {role: {**{kind: w * scale for kind, w in reads.items()}, "save": save} for role in WRITERS}
    county_scale = 100.0 / sum(reads.values())
    weights["county"] = {**{kind: w * county_scale for kind, w in reads.items()}, "save": 0.0}
    return weights


def split_users(total: int) -> dict[str, int]:
    """County 20%, township 30%, village 50% of the users (at least one each)."""
    county = max(1, round(total * 0.2))
    township = max(1, round(total * 0.3))
    return {"county": county, "township": township, "village": max(1, total - county - township)}


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(values)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1]}


class Worker:
    """A Celery worker as deploy/ runs it (2 processes, recycled after 100 tasks)."""

    def __init__(self, env: dict[str, str], scratch: Path) -> None:
        self.log = scratch / "worker.log"
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING",
            "--concurrency=2", "--max-tasks-per-child=100",
        ]  # fmt: skip
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Importer(threading.Thread):
    """The township user uploads the roster through the import page, waits for the worker's check,
    confirms, and waits until the worker has applied it (status polled in the database)."""

    def __init__(self, port: int, jar: dict[str, str], roster: Path, database_url: str) -> None:
        super().__init__(daemon=True)
        self.port, self.jar, self.roster, self.database_url = port, dict(jar), roster, database_url
        self.result: dict[str, Any] = {}

    def status(self, batch: int) -> tuple[str, str]:
        import psycopg

        with psycopg.connect(self.database_url) as connection:
            row = connection.execute(
                "SELECT status, progress_message || ' ' || refusal FROM households_importbatch WHERE id = %s", [batch]
            ).fetchone()
        assert row is not None
        return str(row[0]), str(row[1] or "")

    def wait(self, batch: int, busy: tuple[str, ...]) -> str:
        while True:
            status, message = self.status(batch)
            if status not in busy:
                self.result.setdefault("messages", []).append(message)
                return status
            time.sleep(0.5)

    def run(self) -> None:
        import psycopg

        began = time.perf_counter()
        status, found, html = http(self.port, "GET", "/imports/", cookies=self.jar)
        remember(self.jar, found)
        token = CSRF_FIELD.search(html)
        assert status == 200 and token, status
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{token.group(1)}\r\n',
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nroster\r\n',
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{self.roster.name}"\r\n'
            "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n",
        ]
        body = "".join(parts).encode() + self.roster.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        status, found, _ = http(
            self.port,
            "POST",
            "/imports/",
            cookies=self.jar,
            body=body,
            content_type=f"multipart/form-data; boundary={boundary}",
        )
        remember(self.jar, found)
        assert status == 302, f"upload answered {status}"
        with psycopg.connect(self.database_url) as connection:
            row = connection.execute(
                "SELECT max(b.id) FROM households_importbatch b JOIN regions_user u ON u.id = b.uploaded_by_id "
                "WHERE u.username = %s",
                [USERNAMES["township"]],
            ).fetchone()
        batch = int(row[0]) if row and row[0] else 0
        self.result["batch"] = batch
        self.result["upload_s"] = time.perf_counter() - began
        checked = self.wait(batch, ("queued", "parsing"))
        self.result["check_s"] = time.perf_counter() - began
        self.result["checked"] = checked
        if checked != "ready":
            self.result["seconds"] = time.perf_counter() - began
            return
        status, found, html = http(self.port, "GET", f"/imports/{batch}/", cookies=self.jar)
        remember(self.jar, found)
        token = CSRF_FIELD.search(html)
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1) if token else ""}).encode()
        status, found, _ = http(self.port, "POST", f"/imports/{batch}/confirm/", cookies=self.jar, body=body)
        remember(self.jar, found)
        self.result["applied"] = self.wait(batch, ("ready", "applying"))
        self.result["seconds"] = time.perf_counter() - began


def cpu_of_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def mix_run(
    args: argparse.Namespace,
    *,
    label: str,
    server: Any,
    worker: Worker,
    sessions: dict[str, list[dict[str, str]]],
    pools: dict[str, Any],
    users: int,
    think: tuple[float, float] | None,
    importer: Importer | None,
) -> dict[str, Any]:
    """One run of the mix: warm-up, then --duration seconds (or, with the import, until it is applied)."""
    by_role = split_users(users)
    weights = role_weights(by_role)
    start = time.perf_counter()
    measure_from = start + args.warmup
    run = Run(port=server.port, measure_from=measure_from, until=start + 10**6, think=think)
    threads = []
    seed = 0
    for role in ROLES:
        for index in range(by_role[role]):
            seed += 1
            jar = sessions[role][index % len(sessions[role])]
            user = User(run, role, jar, pools[role], seed, weights[role])
            threads.append(threading.Thread(target=user.loop, daemon=True))
    print(f"[load] {label}: {users} users {by_role}, load {load_average()}", flush=True)
    for thread in threads:
        thread.start()
        if think is not None:
            time.sleep(think[1] / len(threads))  # spread the first requests over one pause
    time.sleep(max(0.0, measure_from - time.perf_counter()))
    gunicorn, postgres, celery = server.process.pid, args.postmaster, worker.process.pid
    load_before = load_average()
    before = {
        "gunicorn": dashboard.cpu_seconds(gunicorn),
        "postgres": dashboard.cpu_seconds(postgres),
        "worker": dashboard.cpu_seconds(celery),
        "client": cpu_of_self(),
        "at": time.perf_counter(),
    }
    run.until = before["at"] + args.duration
    if importer is not None:
        importer.start()
        importer.join()
        run.until = max(run.until, time.perf_counter())
    time.sleep(max(0.0, run.until - time.perf_counter()))
    load_after = load_average()
    after = {
        "gunicorn": dashboard.cpu_seconds(gunicorn),
        "postgres": dashboard.cpu_seconds(postgres),
        "worker": dashboard.cpu_seconds(celery),
        "client": cpu_of_self(),
        "at": time.perf_counter(),
    }
    for thread in threads:
        thread.join(timeout=130)
    seconds = after["at"] - before["at"]
    window = [sample for sample in run.samples if sample.started < before["at"] + seconds]
    requests = len(window)
    per_kind: dict[str, Any] = {}
    for kind in ("all", *KINDS):
        chosen = [sample for sample in window if kind == "all" or sample.kind == kind]
        per_kind[kind] = {
            "requests": len(chosen),
            "rate_per_s": len(chosen) / seconds,
            "share": len(chosen) / max(requests, 1),
            "not_ok": sum(1 for sample in chosen if not sample.ok),
            **percentiles([sample.ms for sample in chosen]),
        }
    cpu = {
        name: (after[name] - before[name]) * 1000 / max(requests, 1)
        for name in ("gunicorn", "postgres", "worker", "client")
    }
    result = {
        "label": label,
        "users": users,
        "by_role": by_role,
        "weights": weights,
        "think_s": think,
        "seconds": seconds,
        "kinds": per_kind,
        "cpu_ms_per_request": cpu,
        "load_average": {"before": load_before, "after": load_after},
        "saves": run.saves,
        "failures": run.failures,
        "import": importer.result if importer is not None else None,
    }
    total = per_kind["all"]
    print(
        f"[load] {label}: {total['rate_per_s']:.0f}/s, p50 {total['p50']:.0f} ms, p95 {total['p95']:.0f} ms, "
        f"not ok {total['not_ok']}, cpu ms/request gunicorn {cpu['gunicorn']:.1f} postgres {cpu['postgres']:.1f} "
        f"worker {cpu['worker']:.1f} client {cpu['client']:.2f}, load {load_after}",
        flush=True,
    )
    return result


def run_child(args: argparse.Namespace, step: str, env: dict[str, str], scratch: Path, *extra: str) -> dict[str, Any]:
    result_file = scratch / f"{step}.json"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        f"--child={step}",
        f"--households={args.households}",
        f"--import-households={args.import_households}",
        f"--detail-pool={args.detail_pool}",
        f"--save-pool={args.save_pool}",
        f"--profile-repeat={args.profile_repeat}",
        f"--roster={args.roster}",
        f"--password={args.password}",
        f"--result={result_file}",
        *(["--profile"] if args.profile else []),
        *extra,
    ]
    print(f"[{step}] load {load_average()}", flush=True)
    began = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True)
    data: dict[str, Any] = json.loads(result_file.read_text())
    data["wall_s"] = time.perf_counter() - began
    return data


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def format_profile(profile: dict[str, Any]) -> str:
    lines = [
        "In process (django.test.Client, production settings), median of the timed requests:",
        f"  {'role':<10}{'page':<13}{'CPU ms':>8}{'+ db CPU':>10}{'(server)':>10}{'wall ms':>9}{'queries':>9}"
        f"{'SQL ms':>8}{'bytes':>9}",
    ]
    for page in profile["pages"]:
        server = page.get("server_cpu_ms")
        lines.append(
            f"  {page['role']:<10}{page['page']:<13}{page['cpu_ms']:>8.1f}{page['db_cpu_ms']:>10.1f}"
            f"{'—' if server is None else f'{server:.1f}':>10}"
            f"{page['wall_ms']:>9.1f}{page['queries']:>9}{page['sql_ms']:>8.1f}{page['bytes']:>9,}"
        )
    lines.append(f"  (load average after: {profile['load_average']})")
    return "\n".join(lines)


def format_table(results: dict[str, Any], args: argparse.Namespace) -> str:
    load = results["load"]
    lines = [
        f"{'run':<34}{'request':<13}{'requests':>9}{'share':>7}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}"
        f"{'p99 ms':>8}{'max ms':>8}{'not ok':>7}   CPU ms/request: gunicorn postgres worker client   load",
    ]
    for key in ("static", "page"):
        floor = load["floors"][key]
        cpu = floor["cpu_ms_per_request"]
        failed = floor["not_200"] + floor["connect_errors"] + floor["read_errors"] + floor["timeouts"]
        lines.append(
            f"{floor['label']:<34}{'GET':<13}{floor['requests']:>9,}{'':>7}{floor['rate_per_s']:>8.0f}"
            f"{floor['p50_us'] / 1000:>8.1f}{floor['p95_us'] / 1000:>8.1f}{floor['p99_us'] / 1000:>8.1f}"
            f"{floor['max_us'] / 1000:>8.1f}{failed:>7}   {cpu['gunicorn']:>24.2f} {cpu['postgres']:>8.2f} "
            f"{'—':>6} {cpu['wrk']:>6.2f}   {floor['load_average']['before'][0]:.2f} -> "
            f"{floor['load_average']['after'][0]:.2f}"
        )
    for run in load["runs"].values():
        cpu = run["cpu_ms_per_request"]
        for index, kind in enumerate(("all", *KINDS)):
            figures = run["kinds"][kind]
            tail = ""
            if index == 0:
                tail = (
                    f"   {cpu['gunicorn']:>24.2f} {cpu['postgres']:>8.2f} {cpu['worker']:>6.2f} {cpu['client']:>6.2f}"
                    f"   {run['load_average']['before'][0]:.2f} -> {run['load_average']['after'][0]:.2f}"
                )
            lines.append(
                f"{run['label'] if index == 0 else '':<34}{kind:<13}{figures['requests']:>9,}"
                f"{figures['share'] * 100:>6.1f}%{figures['rate_per_s']:>8.1f}{figures['p50']:>8.1f}"
                f"{figures['p95']:>8.1f}{figures['p99']:>8.1f}{figures['max']:>8.1f}{figures['not_ok']:>7}{tail}"
            )
        if run.get("import"):
            imported = run["import"]
            lines.append(
                f"{'':<34}import of {args.import_households:,} households (batch {imported.get('batch')}): "
                f"checked {imported.get('checked')} after {imported.get('check_s', 0):.1f} s, "
                f"{imported.get('applied')} after {imported.get('seconds', 0):.1f} s"
            )
    lines.append("")
    runs = load["runs"]
    closed, closed_import = runs.get("closed"), runs.get("closed_import")
    think, think_import = runs.get("think"), runs.get("think_import")
    static = load["floors"]["static"]
    if closed:
        rate = closed["kinds"]["all"]["rate_per_s"]
        lines.append(
            f"aim: mix >= {AIM_RATE:.0f} requests/s with no think time ({closed['users']} users): {rate:.0f}/s "
            f"{verdict(rate >= AIM_RATE and not closed['kinds']['all']['not_ok'])} "
            f"(static-file floor {static['rate_per_s']:.0f}/s in the same run)"
        )
    for run in (think, think_import):
        if run:
            p95 = run["kinds"]["all"]["p95"]
            lines.append(
                f"aim: p95 <= {AIM_P95_MS:.0f} ms with think time ({run['label']}): {p95:.0f} ms "
                f"{verdict(p95 <= AIM_P95_MS and not run['kinds']['all']['not_ok'])}"
            )
    if closed and closed_import:
        cost = 1 - closed_import["kinds"]["all"]["rate_per_s"] / max(closed["kinds"]["all"]["rate_per_s"], 1e-9)
        applied = (closed_import.get("import") or {}).get("applied") == "applied"
        lines.append(
            f"aim: the import costs <= {AIM_IMPORT_COST:.0%} of the throughput: {cost:.0%} "
            f"{verdict(cost <= AIM_IMPORT_COST and applied)}"
        )
    verify = results.get("verify")
    if verify:
        clean = not verify["problems"] and not verify["silent"] and not verify["errors"]
        lines.append(
            f"saves: {verify['committed'] + verify['refused']} answered, {verify['committed']} committed "
            f"({verify['found']} found in the history), {verify['refused']} refused with a message, "
            f"{verify['silent']} without one, {verify['errors']} errors, on {verify['records']} records; "
            f"{len(verify['problems'])} problems {verdict(clean)}"
        )
        for message, count in verify["messages"][:5]:
            lines.append(f"  refused {count}×: {message}")
        for problem in verify["problems"][:10]:
            lines.append(f"  PROBLEM {problem}")
    lines.append(
        "(closed loop: each user sends the next request as soon as the last is answered; think time: a pause "
        f"drawn uniformly from {args.think} s after each; CPU per request of gunicorn (master + workers), the whole"
    )
    lines.append(
        f" PostgreSQL server, the Celery worker and this client (wrk for the floors), all on the same {os.cpu_count()} "
        "CPUs with whatever else the machine runs: see the load average)"
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Parent
# --------------------------------------------------------------------------------------------


def parent_load(
    args: argparse.Namespace, env: dict[str, str], database_url: str, prepared: dict[str, Any], scratch: Path
) -> dict[str, Any]:
    server = dashboard.Server(args, args.database, scratch)
    worker = Worker(env, scratch)
    try:
        began = time.perf_counter()
        needed = {
            role: max(1, min(args.sessions, split_users(max(args.users, args.think_users))[role])) for role in ROLES
        }
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            sessions = {
                role: list(
                    pool.map(
                        login,
                        [server.port] * needed[role],
                        [USERNAMES[role]] * needed[role],
                        [args.password] * needed[role],
                    )
                )
                for role in ROLES
            }
        print(f"[load] {sum(needed.values())} logins in {time.perf_counter() - began:.1f} s", flush=True)
        for role in ROLES:  # every session sees its own pages
            status, _, html = http(server.port, "GET", "/households/", cookies=sessions[role][0])
            assert status == 200 and "农户台账" in html, (role, status)
        floors = {}
        with flock(args):
            for key, label, path in (
                ("static", "floor: static file (wrk)", STATIC_FILE),
                ("page", "floor: login page, logged in (wrk)", "/login/"),
            ):
                target = dashboard.Target(key, label, path, "county")
                cookies = [jar["sessionid"] for jar in sessions["county"]]
                dashboard.wrk_run(args, server, target, cookies, seconds=args.warmup, rate=0, scratch=scratch)
                floors[key] = dashboard.wrk_run(
                    args, server, target, cookies, seconds=args.duration, rate=0, scratch=scratch
                )
                floors[key]["label"] = label
                print(f"[load] {label}: {floors[key]['rate_per_s']:.0f}/s, load {load_average()}", flush=True)
        pools = prepared["pools"]
        runs: dict[str, Any] = {}
        # The verification reads the history written from here on.
        args.started_at = datetime.now(UTC).isoformat()
        rosters = [Path(roster["path"]) for roster in prepared["rosters"]]
        think = tuple(float(part) for part in args.think.split(":"))
        assert len(think) == 2
        plan = [
            ("closed", "mix, no think time", args.users, None, False),
            ("closed_import", "mix, no think time, import", args.users, None, True),
            ("think", "mix, think time", args.think_users, think, False),
            ("think_import", "mix, think time, import", args.think_users, think, True),
        ]
        for key, label, users, pause, with_import in plan:
            if with_import and args.import_households == 0:
                continue
            importer = None
            if with_import:
                importer = Importer(server.port, sessions["township"][0], rosters.pop(0), database_url)
            with flock(args):
                runs[key] = mix_run(
                    args,
                    label=label,
                    server=server,
                    worker=worker,
                    sessions=sessions,
                    pools=pools,
                    users=users,
                    think=pause,
                    importer=importer,
                )
        return {"floors": floors, "runs": runs, "sessions": {role: len(sessions[role]) for role in ROLES}}
    finally:
        worker.stop()
        server.stop()
        log = server.log.read_text() if server.log.exists() else ""
        errors = [line for line in log.splitlines() if "Traceback" in line or "ERROR" in line]
        if errors:
            print(f"gunicorn logged {len(errors)} errors; last lines:\n" + "\n".join(log.splitlines()[-30:]))
        if worker.log.exists():
            failures = [line for line in worker.log.read_text().splitlines() if "ERROR" in line]
            if failures:
                print("worker logged errors:\n" + "\n".join(failures[-10:]))


class flock:
    """Hold an exclusive lock on --lock (what `flock /tmp/bench.lock` takes) while measuring."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.path = args.lock

    def __enter__(self) -> flock:
        import fcntl

        if self.path:
            self.handle = open(self.path, "a")
            began = time.perf_counter()
            fcntl.flock(self.handle, fcntl.LOCK_EX)
            waited = time.perf_counter() - began
            if waited > 1:
                print(f"[lock] waited {waited:.0f} s for {self.path}", flush=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.path:
            self.handle.close()


def summarise_saves(runs: dict[str, Any], verified: dict[str, Any]) -> dict[str, Any]:
    saves = [save for run in runs.values() for save in run["saves"]]
    messages: dict[str, int] = {}
    for save in saves:
        if save["outcome"] == "refused":
            messages[save["message"]] = messages.get(save["message"], 0) + 1
    return {
        **verified,
        "silent": sum(1 for save in saves if save["outcome"] == "silent"),
        "errors": sum(1 for save in saves if save["outcome"] == "error"),
        "messages": sorted(messages.items(), key=lambda item: -item[1]),
    }


def parent_main(args: argparse.Namespace) -> None:
    server_url = os.environ.get("DATABASE_URL", "")
    if not urllib.parse.urlsplit(server_url).scheme.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL server (run under scripts/with-services)")
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("REDIS_URL must name a Redis server: the cache and the worker's broker")
    args.wrk = shutil.which("wrk")
    if not args.wrk:
        raise SystemExit("wrk not found: apt-get install wrk")
    args.server_url = server_url
    args.postmaster = dashboard.postmaster_pid(server_url)
    args.secret_key = secrets.token_urlsafe(40)
    # Built once into a template (kept with --keep, reused with --reuse); every run measures a fresh copy
    # of it, so that the imports' households are new each time.
    template = f"bench_load_{args.households}"
    args.database = f"bench_load_{args.households}_run"
    database_url = with_database(server_url, args.database)
    scratch = Path(tempfile.mkdtemp(prefix="bench-load-"))
    if not args.roster:
        args.roster = str(RESULTS_DIR / f"load-roster-{args.households}-{args.import_households}-{{part}}.xlsx")
    # Uploads of the bench's imports go to its scratch directory, not media/ (web, worker and children).
    os.environ["STORAGE_ROOT"] = str(scratch / "storage")
    env = dashboard.server_env(args, args.database)
    results: dict[str, Any] = {}
    started = time.perf_counter()
    reuse = args.reuse and province.database_exists(server_url, template)
    try:
        if not reuse:
            server_execute(server_url, f'DROP DATABASE IF EXISTS "{template}"', f'CREATE DATABASE "{template}"')
            build_env = dict(env, DJANGO_SETTINGS_MODULE="config.settings.test")
            build_env["DATABASE_URL"] = with_database(server_url, template)
            results["build"] = run_child(args, "build", build_env, scratch)
        else:
            print(f"[build] reusing {template}", flush=True)
        began = time.perf_counter()
        server_execute(
            server_url,
            f'DROP DATABASE IF EXISTS "{args.database}"',
            f'CREATE DATABASE "{args.database}" TEMPLATE "{template}"',
        )
        results["clone_s"] = time.perf_counter() - began
        results["prepare"] = run_child(args, "prepare", env, scratch)
        prepared_file = scratch / "prepared.json"
        prepared_file.write_text(json.dumps(results["prepare"]))
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            env=env,
            cwd=ROOT,
            check=True,
        )
        with flock(args):
            results["profile"] = run_child(args, "profile", env, scratch, f"--prepared={prepared_file}")
        print(format_profile(results["profile"]), flush=True)
        if args.profile:
            for page in results["profile"]["pages"]:
                print(f"--- {page['role']} {page['page']} {page['url']}\n{page.get('cprofile', '')}")
        if not args.profile_only:
            results["load"] = parent_load(args, env, database_url, results["prepare"], scratch)
            saves_file = scratch / "saves.json"
            all_saves = [save for run in results["load"]["runs"].values() for save in run["saves"]]
            saves_file.write_text(json.dumps({"started_at": args.started_at, "saves": all_saves}))
            verified = run_child(args, "verify", env, scratch, f"--saves={saves_file}")
            results["verify"] = summarise_saves(results["load"]["runs"], verified)
    finally:
        server_execute(server_url, f'DROP DATABASE IF EXISTS "{args.database}"')
        if not args.keep:
            server_execute(server_url, f'DROP DATABASE IF EXISTS "{template}"')
        shutil.rmtree(scratch, ignore_errors=True)

    import psycopg

    with psycopg.connect(server_url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
        version = str(row[0]) if row else "?"
    print()
    print(
        f"The mix under load: gunicorn -w {args.workers} ({SETTINGS}, DEBUG off), PostgreSQL {version}, Redis, "
        f"a Celery worker; {args.households:,} households; {os.cpu_count()} CPUs shared by all of them and the client; "
        f"{args.duration:g} s per run after {args.warmup:g} s of warm-up"
    )
    print()
    print(format_profile(results["profile"]))
    table = ""
    if "load" in results:
        table = format_table(results, args)
        print()
        print(table)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    output = RESULTS_DIR / f"load-{args.households}.json"
    payload = {
        "households": args.households,
        "args": {key: value for key, value in vars(args).items() if key not in ("secret_key",)},
        "server_version": version,
    }
    write_results(output, payload, started=started, table=table, results=results)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--households", type=int, default=70_000, help="seed_demo --households (70000)")
    parser.add_argument("--users", type=int, default=50, help="users of the closed-loop runs (50)")
    parser.add_argument("--think-users", type=int, default=150, help="users of the think-time runs (150)")
    parser.add_argument("--think", default="3:10", help="think time between requests, min:max seconds (3:10)")
    parser.add_argument("--sessions", type=int, default=5, help="logins per role, shared by its users (5)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--duration", type=float, default=30, help="seconds per measured run (30)")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of warm-up before each run (5)")
    parser.add_argument(
        "--import-households", type=int, default=20_000, help="households in the import (20000; 0: none)"
    )
    parser.add_argument("--detail-pool", type=int, default=300, help="households per role the users open (300)")
    parser.add_argument("--save-pool", type=int, default=8, help="records per writing role the users save (8)")
    parser.add_argument("--profile-repeat", type=int, default=20, help="timed in-process requests per page (20)")
    parser.add_argument("--profile", action="store_true", help="cProfile 10 in-process requests of each page")
    parser.add_argument("--profile-only", action="store_true", help="only the in-process profile, no load")
    parser.add_argument("--password", default="zhenxing-demo", help="the demo accounts' password")
    parser.add_argument("--lock", default="/tmp/bench.lock", help="flock held while measuring ('' for none)")
    parser.add_argument("--roster", default="", help="the imports' workbooks, {part} = a, b (made once, then reused)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept database of the same size (no build)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--prepared", help=argparse.SUPPRESS)
    parser.add_argument("--saves", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.started_at = ""
    return args


CHILDREN = {
    "build": child_build,
    "prepare": child_prepare,
    "profile": child_profile,
    "verify": child_verify,
}


def main() -> None:
    run_main(parse_args(), CHILDREN, parent_main)


if __name__ == "__main__":
    main()
