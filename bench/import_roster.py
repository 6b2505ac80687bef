"""Roster import at county scale: dry run + import of an N-household 花名册 on PostgreSQL.

Usage, from the repository root (no Makefile needed):

    scripts/with-services .venv/bin/python bench/import_roster.py --households 50000
    scripts/with-services .venv/bin/python bench/import_roster.py --households 5000 --profile

The parent process creates a fresh database on the PostgreSQL server DATABASE_URL names and
runs every step in a child process of its own, so one step's memory and caches never flatter
another's:

1. prepare: migrate the fresh database and create the demo regions, thresholds and accounts
   (no households); generate N households with the demo generator (seed --seed) and write them
   as a 花名册 workbook through households.excel.writer, one row per member, with the monitoring
   columns of every household whose case is open (a case the demo eliminated would need the
   income the roster does not carry). That database is then the template of the others.
2. ours (a clone of it): what `import_roster FILE --dry-run` and the confirmed import do, as the
   superuser `admin`: import_batch_create + import_batch_check (the preview), then
   import_batch_confirm (on PostgreSQL it writes the rows the preview prepared, once it has
   checked under row locks that nothing they rely on has changed; otherwise it plans the file
   again); then the same file once more (create + check, which must say UNCHANGED).
   Memory: the parent samples the whole process tree of this step (the import process and its
   forked children: the isolated reader, the 身份证号 parser) every 0.1 s from /proc; the target
   is judged on the largest summed Rss, which counts a page shared by two processes twice (an
   over-estimate), and the summed Pss is printed beside it. getrusage's ru_maxrss of the process
   and of its largest child are printed for reference: their sum adds peaks that happen at
   different times, and pages the forked children share with their parent.
3. stock (another clone): django-import-export's row-by-row path, ModelResources for Household
   and Member with clean_model_instances (the model rules) and simple_history's signals, on the
   first --stock-rows member rows of the same file, dry_run=False in a transaction that is
   rolled back; the file's parsing and the label → value mapping are not timed (in its favour),
   cases are not imported (in its favour too). Its rows/s is scaled to the whole file.
4. floor (another clone): python-calamine parses the same file into tuples, then psycopg's
   cursor.copy writes every row into an UNLOGGED staging table of text columns: no validation,
   no lookups, no history, no indexes.

The parent prints one table (seconds, rows/s, ratios against the stock path and the floor) and
writes everything to bench/results/import_roster-<N>.json. With --profile the ours step also
writes cProfile statistics of the check and confirm phases next to it (*.prof) and prints their
top functions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
DEFAULT_SETTINGS = "config.settings.test"
TARGET_SECONDS = 30.0
TARGET_RSS_BYTES = 2**30
TARGET_STOCK_RATIO = 30.0
TARGET_FLOOR_RATIO = 2.0


# --------------------------------------------------------------------------------------------
# Children
# --------------------------------------------------------------------------------------------


def django_setup(settings_module: str, media_root: Path) -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django
    from django.conf import settings

    django.setup()
    # Batches store their uploaded file: keep them in the scratch directory, not in media/.
    settings.MEDIA_ROOT = media_root


def peak_rss() -> dict[str, int]:
    """ru_maxrss (KiB on Linux) of this process and of its largest waited-for child, in bytes."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {"self_bytes": own, "children_bytes": children, "total_bytes": own + children}


def roster_rows(households: list[Any], risk_names: dict[str, str]) -> Iterator[dict[str, Any]]:
    """花名册 rows (column key → stored value) as an export writes them, one per member."""
    from households.demo_names import COUNTY, TOWNSHIPS
    from households.excel.export import member_cells
    from households.models import Relation

    places = {
        township.village_code(index): (township.name, name)
        for township in TOWNSHIPS
        for index, name in enumerate(township.villages)
    }
    for household in households:
        township, village = places[household.village_code]
        head = next((m for m in household.members if m.relation == Relation.HEAD), None)
        shared: dict[str, Any] = {
            "county": COUNTY[1],
            "township": township,
            "village": village,
            "region_code": household.village_code,
            "household_number": household.number,
            "head_name": head.name if head else "",
            "household_type": household.household_type,
            "lifted_year": household.lifted_year,
            "relocated": household.relocated,
            "phone": household.phone,
        }
        case = household.case
        if case is not None and case.eliminated_month is None:
            shared["category"] = case.category
            shared["identified_month"] = case.identified_month
            for number, code in enumerate(case.risk_type_codes[:5], start=1):
                shared[f"risk_type_{number}"] = risk_names[code]
            shared["eliminated"] = False
        for member in household.members:
            yield {**shared, **member_cells(member, member.id_number)}


def child_prepare(args: argparse.Namespace) -> dict[str, Any]:
    """Migrate, demo regions/thresholds/users, then generate and write the workbook."""
    django_setup(args.settings, Path(args.scratch) / "media")
    from django.core.management import call_command

    from households.demo import generate_households
    from households.demo_names import PROVINCE
    from households.demo_writer import demo_regions_ensure, demo_thresholds_ensure, demo_users_ensure
    from households.excel.columns import ROSTER_COLUMNS
    from households.excel.writer import rows_workbook_write
    from households.models import RiskType

    timings: dict[str, float] = {}
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    regions = demo_regions_ensure()
    demo_thresholds_ensure(province=regions[PROVINCE[0]])
    demo_users_ensure()
    timings["migrate_s"] = time.perf_counter() - started

    path = Path(args.file)
    if args.reuse:
        # --workbook named a file an earlier run wrote: same N and seed, nothing to generate.
        from workbooks.reader import read_table

        table = read_table(
            path, columns=ROSTER_COLUMNS, original_name=path.name, max_rows=10**7, max_uncompressed_bytes=2**40
        )
        numbers = {row.values["household_number"] for row in table.rows}
        return {
            "timings": {"migrate_s": timings["migrate_s"], "generate_s": 0.0, "write_s": 0.0},
            "households": len(numbers),
            "rows": len(table.rows),
            "open_cases": len({row.values["household_number"] for row in table.rows if row.values.get("category")}),
            "file_bytes": path.stat().st_size,
            "reused": True,
            "peak_rss": peak_rss(),
        }

    started = time.perf_counter()
    households = list(generate_households(count=args.households, seed=args.seed))
    timings["generate_s"] = time.perf_counter() - started

    risk_names = dict(RiskType.objects.values_list("code", "name"))
    names = list(RiskType.objects.order_by("sort_order", "code").values_list("name", flat=True))
    started = time.perf_counter()
    with path.open("wb") as target:
        rows = rows_workbook_write(target, "roster", roster_rows(households, risk_names), risk_type_names=names)
    timings["write_s"] = time.perf_counter() - started
    open_cases = sum(1 for h in households if h.case is not None and h.case.eliminated_month is None)
    return {
        "timings": timings,
        "households": len(households),
        "rows": rows,
        "open_cases": open_cases,
        "file_bytes": path.stat().st_size,
        "peak_rss": peak_rss(),
    }


class PhaseClock:
    """Seconds spent in the import's main steps, per measured run, by wrapping their functions."""

    STEPS = (
        ("workbooks.batches", "", "import_batch_create", "create (store + hash)"),
        ("workbooks.batches", "", "read_table_isolated", "read (parse in the child)"),
        ("workbooks.batches", "", "read_table_kept", "read the kept table"),
        ("households.excel.roster", "RosterPlanner", "_run", "validate (plan)"),
        ("workbooks.batches", "", "roster_apply", "write (roster_apply)"),
        ("workbooks.batches", "PreparedRoster", "save", "keep the prepared writes"),
        ("workbooks.batches", "PreparedRoster", "load", "load the prepared writes"),
        ("workbooks.batches", "PreparedRoster", "still_valid", "lock + compare versions"),
        ("workbooks.batches", "PreparedRoster", "apply", "write the prepared rows"),
    )

    def __init__(self) -> None:
        self.seconds: dict[str, dict[str, float]] = {}
        self.current = ""
        self.inside = False

    def start(self, label: str) -> None:
        self.current = label
        self.seconds[label] = {}

    def watch_import(self) -> None:
        import importlib

        for module, class_name, name, label in self.STEPS:
            owner: Any = importlib.import_module(module)
            if class_name:
                owner = getattr(owner, class_name)
            setattr(owner, name, self._timed(getattr(owner, name), label))

    def _timed(self, function: Any, label: str) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self.inside:
                return function(*args, **kwargs)  # a step within a step counts once, in the outer one
            self.inside = True
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.inside = False
                spent = self.seconds.setdefault(self.current, {})
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - started

        return timed


class Profiled:
    """cProfile around one phase when asked; writes <name>.prof and keeps the top lines."""

    def __init__(self, enabled: bool, name: str, directory: Path, top: int) -> None:
        self.enabled, self.name, self.directory, self.top = enabled, name, directory, top
        self.report = ""

    def __enter__(self) -> Profiled:
        if self.enabled:
            import cProfile

            self.profile = cProfile.Profile()
            self.profile.enable()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.enabled:
            return
        import io
        import pstats

        self.profile.disable()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.profile.dump_stats(self.directory / f"{self.name}.prof")
        out = io.StringIO()
        stats = pstats.Stats(self.profile, stream=out)
        stats.sort_stats("tottime").print_stats(self.top)
        self.report = out.getvalue()


def table_counts() -> dict[str, int]:
    from households.models import Household, Member, MonitoringCase

    through = MonitoringCase.risk_types.through
    return {
        "households": Household.objects.count(),
        "members": Member.objects.count(),
        "cases": MonitoringCase.objects.count(),
        "case_risks": through.objects.count(),
        "household_history": Household.history.count(),
        "member_history": Member.history.count(),
        "case_history": MonitoringCase.history.count(),
    }


def child_ours(args: argparse.Namespace) -> dict[str, Any]:
    """Dry run, import and a second run of the same file, the way import_roster does them."""
    django_setup(args.settings, Path(args.scratch) / "media")
    from django.core.files.uploadedfile import SimpleUploadedFile

    from households.excel.models import ImportKind
    from regions.models import User
    from workbooks import batches
    from workbooks.batches import import_batch_check, import_batch_confirm
    from workbooks.models import ImportBatch, ImportStatus

    admin = User.objects.get(username="admin")
    path = Path(args.file)
    profile_dir = RESULTS_DIR / f"import_roster-{args.households}-profile"
    reports: dict[str, str] = {}
    phases = PhaseClock()
    phases.watch_import()

    def dry_run(label: str) -> tuple[ImportBatch, float]:
        phases.start(label)
        started = time.perf_counter()
        with Profiled(args.profile, label, profile_dir, args.profile_top) as profiled:
            upload = SimpleUploadedFile(path.name, path.read_bytes())
            batch = batches.import_batch_create(by=admin, kind=ImportKind.ROSTER, upload=upload)
            del upload
            batch = import_batch_check(batch_id=batch.pk)
        elapsed = time.perf_counter() - started
        reports[label] = profiled.report
        return batch, elapsed

    load_before = os.getloadavg()
    first, check_s = dry_run("check")
    if first.status != ImportStatus.READY:
        raise SystemExit(f"dry run: {first.status} {first.refusal} {first.errors[:10]}")
    print(f"  dry run {check_s:.1f} s: {first.counts}", flush=True)

    phases.start("confirm")
    started = time.perf_counter()
    with Profiled(args.profile, "confirm", profile_dir, args.profile_top) as profiled:
        batches.import_batch_claim(batch=first, by=admin)
        applied = import_batch_confirm(batch_id=first.pk, by_id=admin.pk)
    confirm_s = time.perf_counter() - started
    reports["confirm"] = profiled.report
    if applied.status != ImportStatus.APPLIED:
        raise SystemExit(f"import: {applied.status} {applied.refusal} {applied.errors[:10]}")
    print(f"  import {confirm_s:.1f} s", flush=True)
    rss_first = peak_rss()
    counts = table_counts()

    second, second_s = dry_run("second")
    if second.status != ImportStatus.UNCHANGED:
        raise SystemExit(f"second run: {second.status} {second.refusal} {second.errors[:10]}")
    print(f"  second run {second_s:.1f} s: {second.status}", flush=True)
    return {
        "rows": first.row_count,
        "counts": first.counts,
        "second_counts": second.counts,
        "tables": counts,
        "check_s": check_s,
        "replan": args.replan,
        "confirm_s": confirm_s,
        "second_s": second_s,
        "peak_rss_after_import": rss_first,
        "peak_rss": peak_rss(),
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "phases": phases.seconds,
        "profiles": reports,
    }


def stock_datasets(path: Path, limit: int) -> tuple[Any, Any]:
    """The first `limit` member rows as tablib Datasets of stored values: households, members."""
    import python_calamine
    import tablib

    from households.excel.columns import ROSTER_COLUMNS, Kind
    from households.excel.normalise import parse_cell
    from households.services import MEMBER_FIELDS

    workbook = python_calamine.load_workbook(str(path))
    rows = workbook.get_sheet_by_name("花名册").iter_rows()
    header = [str(text) for text in next(rows)]
    by_header = {column.header: column for column in ROSTER_COLUMNS}
    columns = [by_header[text] for text in header]
    households = tablib.Dataset(headers=["number", "village", "household_type", "lifted_year", "relocated", "phone"])
    members = tablib.Dataset(headers=["household", *MEMBER_FIELDS])
    seen: set[str] = set()
    for index, raw in enumerate(rows):
        if index >= limit:
            break
        values = {}
        for column, value in zip(columns, raw, strict=False):
            # Labels → stored values, as a hand-written resource would need widgets for.
            parsed = parse_cell(column, value)
            values[column.key] = "" if parsed is None else parsed
            if column.kind == Kind.BOOL and parsed is None:
                values[column.key] = ""
        number = values["household_number"]
        if number not in seen:
            seen.add(number)
            households.append(
                [
                    number,
                    values["region_code"],
                    values["household_type"],
                    values["lifted_year"],
                    values["relocated"],
                    values["phone"],
                ]
            )
        # In MEMBER_FIELDS' order; blank health and schooling as the model's defaults.
        members.append(
            [
                number,
                values["member_name"],
                values["id_number"],
                values["relation"],
                values["labour"],
                values["health"] or "healthy",
                values["schooling"] or "none",
                values["work_place"],
                values["work_months"],
                values["medical_insurance"],
            ]
        )
    return households, members


def child_stock(args: argparse.Namespace) -> dict[str, Any]:
    """django-import-export's stock row-by-row path on a slice of the file, rolled back."""
    django_setup(args.settings, Path(args.scratch) / "media")
    from django.db import transaction
    from import_export import fields, resources, widgets

    from households.models import Household, Member
    from households.services import MEMBER_FIELDS
    from regions.models import Region

    class HouseholdResource(resources.ModelResource):
        village = fields.Field(
            attribute="village", column_name="village", widget=widgets.ForeignKeyWidget(Region, field="code")
        )

        class Meta:
            model = Household
            fields = ("number", "village", "household_type", "lifted_year", "relocated", "phone")
            import_id_fields = ("number",)
            clean_model_instances = True

    class MemberResource(resources.ModelResource):
        household = fields.Field(
            attribute="household",
            column_name="household",
            widget=widgets.ForeignKeyWidget(Household, field="number"),
        )

        class Meta:
            model = Member
            fields = ("household", *MEMBER_FIELDS)
            import_id_fields = ("id_number",)
            clean_model_instances = True

    households, members = stock_datasets(Path(args.file), args.stock_rows)
    load_before = os.getloadavg()
    started = time.perf_counter()
    with transaction.atomic():
        household_result = HouseholdResource().import_data(households, dry_run=False, raise_errors=True)
        household_s = time.perf_counter() - started
        member_result = MemberResource().import_data(members, dry_run=False, raise_errors=True)
        written = Member.objects.count()
        transaction.set_rollback(True)
    elapsed = time.perf_counter() - started
    if household_result.has_validation_errors() or member_result.has_validation_errors():
        raise SystemExit("stock path: validation errors in the slice")
    return {
        "rows": len(members),
        "households": len(households),
        "members_written": written,
        "household_s": household_s,
        "seconds": elapsed,
        "load_average": {"before": load_before, "after": os.getloadavg()},
    }


def child_floor(args: argparse.Namespace) -> dict[str, Any]:
    """python-calamine parse + COPY into an UNLOGGED table of text columns: nothing else."""
    import psycopg
    import python_calamine

    load_before = os.getloadavg()
    started = time.perf_counter()
    workbook = python_calamine.load_workbook(str(args.file))
    rows = workbook.get_sheet_by_name("花名册").iter_rows()
    header = next(rows)
    data = [tuple(row) for row in rows]
    parse_s = time.perf_counter() - started
    columns = ", ".join(f"c{index} text" for index in range(len(header)))
    started = time.perf_counter()
    with psycopg.connect(args.database_url) as connection:
        connection.execute(f"CREATE UNLOGGED TABLE roster_staging ({columns})")
        with connection.cursor() as cursor, cursor.copy("COPY roster_staging FROM STDIN") as copy:
            for row in data:
                copy.write_row(row)
        copied = connection.execute("SELECT count(*) FROM roster_staging").fetchone()
    copy_s = time.perf_counter() - started
    return {
        "rows": len(data),
        "copied": copied[0] if copied else 0,
        "parse_s": parse_s,
        "copy_s": copy_s,
        "seconds": parse_s + copy_s,
        "load_average": {"before": load_before, "after": os.getloadavg()},
    }


# --------------------------------------------------------------------------------------------
# Parent
# --------------------------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def server_execute(server_url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def run_child(args: argparse.Namespace, step: str, database: str, scratch: Path, file: Path) -> dict[str, Any]:
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
        f"--stock-rows={args.stock_rows}",
        f"--settings={args.settings}",
        f"--scratch={scratch}",
        f"--file={file}",
        f"--result={result_file}",
        f"--database-url={env['DATABASE_URL']}",
        f"--profile-top={args.profile_top}",
        *(["--reuse"] if args.reuse else []),
        *(["--profile"] if args.profile else []),
        *(["--replan"] if args.replan else []),
    ]
    print(f"[{step}] database {database}", flush=True)
    started = time.perf_counter()
    with subprocess.Popen(command, env=env, cwd=ROOT) as process:
        sampled = sample_memory(process)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command)
    data: dict[str, Any] = json.loads(result_file.read_text())
    data["wall_s"] = time.perf_counter() - started
    data["sampled_memory"] = sampled
    return data


def process_tree(pid: int) -> list[int]:
    """pid and its descendants (Linux /proc)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                pending.extend(int(child) for child in task.read_text().split())
            except OSError:
                continue
    return found


def tree_memory(pid: int) -> tuple[int, int]:
    """Summed Pss and Rss (bytes) of a process tree: Pss counts a page shared by n processes 1/n each."""
    pss = rss = 0
    for member in process_tree(pid):
        try:
            text = Path(f"/proc/{member}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Pss:"):
                pss += int(line.split()[1]) * 1024
            elif line.startswith("Rss:"):
                rss += int(line.split()[1]) * 1024
    return pss, rss


def sample_memory(process: subprocess.Popen[bytes], interval: float = 0.1) -> dict[str, int]:
    """Poll the child's process tree until it exits: the peak of its summed Pss and Rss.

    From outside, so the measured process pays nothing for it. The child's forked reader shares
    most of its pages with its parent at first; summed Rss counts them twice, Pss once.
    """
    peak_pss = peak_rss = 0
    while process.poll() is None:
        pss, rss = tree_memory(process.pid)
        peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
        time.sleep(interval)
    return {"peak_pss_bytes": peak_pss, "peak_rss_sum_bytes": peak_rss}


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "-"


def format_table(results: dict[str, Any]) -> str:
    prepare, ours, stock, floor = (results.get(key) for key in ("prepare", "ours", "stock", "floor"))
    assert prepare is not None and ours is not None
    rows = ours["rows"]
    total = ours["check_s"] + ours["confirm_s"]
    stock_full = rows / (stock["rows"] / stock["seconds"]) if stock else None
    floor_s = floor["seconds"] if floor else None

    def line(label: str, seconds: float, count: int, note: str = "", ratios: bool = True) -> str:
        vs_stock = f"{stock_full / seconds:.1f}x" if stock_full and ratios else ""
        vs_floor = f"{seconds / floor_s:.2f}x" if floor_s and ratios else ""
        return f"{label:<44}{seconds:>9.1f}{rate(count, seconds):>11}{vs_stock:>11}{vs_floor:>11}  {note}"

    header = f"{'step':<44}{'seconds':>9}{'rows/s':>11}{'vs stock':>11}{'vs floor':>11}  note"
    lines = [header, "-" * (len(header) + 30)]
    if prepare.get("reused"):
        lines.append(f"(workbook reused from an earlier run: {prepare['file_bytes'] / 2**20:.1f} MiB, {rows:,} rows)")
    else:
        generate_label = f"generate {prepare['households']:,} households (demo.py)"
        lines.append(line(generate_label, prepare["timings"]["generate_s"], prepare["rows"], ratios=False))
        size = f"{prepare['file_bytes'] / 2**20:.1f} MiB, {prepare['rows']:,} rows"
        write_label = "write the xlsx (writer.rows_workbook_write)"
        lines.append(line(write_label, prepare["timings"]["write_s"], prepare["rows"], size, ratios=False))
    lines.append(line("dry run (create + check)", ours["check_s"], rows, "import_roster FILE --dry-run"))
    confirm_note = (
        "plan again under row locks, write (--replan)"
        if ours.get("replan")
        else "lock, check versions, write the prepared rows"
    )
    lines.append(line("import (confirm)", ours["confirm_s"], rows, confirm_note))
    verdict = "met" if total <= TARGET_SECONDS else "NOT met"
    lines.append(line("dry run + import", total, rows, f"target <= {TARGET_SECONDS:.0f} s: {verdict}"))
    second_verdict = "met" if ours["second_s"] <= total else "NOT met"
    lines.append(
        line(
            "second run, same file (create + check)",
            ours["second_s"],
            rows,
            f"UNCHANGED; <= first run ({total:.1f} s): {second_verdict}",
        )
    )
    if stock:
        lines.append(
            line(
                f"stock django-import-export, {stock['rows']:,} rows",
                stock["seconds"],
                stock["rows"],
                "Household + Member resources, full_clean, history; rolled back",
                ratios=False,
            )
        )
        assert stock_full is not None
        lines.append(line("  scaled to the whole file", stock_full, rows, "", ratios=False))
    if floor:
        lines.append(line("floor: calamine parse", floor["parse_s"], rows, ratios=False))
        lines.append(line("floor: COPY into an UNLOGGED text table", floor["copy_s"], rows, ratios=False))
        lines.append(line("floor: parse + COPY", floor["seconds"], rows, ratios=False))
    lines.append("")
    sampled = ours["sampled_memory"]
    verdict = "met" if sampled["peak_rss_sum_bytes"] <= TARGET_RSS_BYTES else "NOT met"
    lines.append(
        f"peak memory of the import's process tree, sampled every 0.1 s: Rss summed "
        f"{sampled['peak_rss_sum_bytes'] / 2**20:,.0f} MiB (target <= 1024 MiB: {verdict}; a page shared by "
        f"parent and forked child counted twice), Pss summed {sampled['peak_pss_bytes'] / 2**20:,.0f} MiB"
    )
    rss = ours["peak_rss"]
    lines.append(
        f"for reference, getrusage ru_maxrss: import process {rss['self_bytes'] / 2**20:,.0f} MiB, its largest "
        f"child {rss['children_bytes'] / 2**20:,.0f} MiB (peaks at different times, shared pages in both)"
    )
    aims = []
    if stock_full:
        ratio = stock_full / total
        aims.append(f"dry run + import is {ratio:.1f}x the stock path (aim >= {TARGET_STOCK_RATIO:.0f}x)")
    if floor_s:
        aims.append(
            f"dry run + import is {total / floor_s:.2f}x the floor, the import alone "
            f"{ours['confirm_s'] / floor_s:.2f}x (aim <= {TARGET_FLOOR_RATIO:.0f}x)"
        )
    lines.extend(aims)
    lines.append("(vs stock: how many times faster than the stock path scaled to the whole file;")
    lines.append(" vs floor: how many times slower than parse + COPY of the same file)")
    return "\n".join(lines)


def parent_main(args: argparse.Namespace) -> None:
    server_url = os.environ.get("DATABASE_URL", "")
    if not urlsplit(server_url).scheme.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL server (run under scripts/with-services)")
    args.server_url = server_url
    scratch = Path(tempfile.mkdtemp(prefix="bench-import-roster-"))
    file = Path(args.workbook).resolve() if args.workbook else scratch / f"roster-{args.households}.xlsx"
    args.reuse = bool(args.workbook) and file.is_file()
    base = f"bench_import_roster_{args.households}"
    databases = {step: f"{base}_{step}" for step in ("ours", "stock", "floor")}
    results: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        server_execute(server_url, f'DROP DATABASE IF EXISTS "{base}"', f'CREATE DATABASE "{base}"')
        results["prepare"] = run_child(args, "prepare", base, scratch, file)
        prepare = results["prepare"]
        print(
            f"[prepare] migrate + demo regions/users {prepare['timings']['migrate_s']:.1f} s, generate "
            f"{prepare['timings']['generate_s']:.1f} s, write {prepare['timings']['write_s']:.1f} s: "
            f"{prepare['rows']:,} rows, {prepare['file_bytes'] / 2**20:.1f} MiB",
            flush=True,
        )
        steps = ["ours", *([] if args.skip_stock else ["stock"]), *([] if args.skip_floor else ["floor"])]
        for step in steps:
            database = databases[step]
            server_execute(
                server_url, f'DROP DATABASE IF EXISTS "{database}"', f'CREATE DATABASE "{database}" TEMPLATE "{base}"'
            )
            try:
                results[step] = run_child(args, step, database, scratch, file)
            finally:
                if not args.keep:
                    server_execute(server_url, f'DROP DATABASE IF EXISTS "{database}"')
    finally:
        if not args.keep:
            server_execute(server_url, f'DROP DATABASE IF EXISTS "{base}"')
        shutil.rmtree(scratch, ignore_errors=True)

    import psycopg

    with psycopg.connect(server_url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
        version = str(row[0]) if row else "?"
    table = format_table(results)
    ours = results["ours"]
    print()
    print(
        f"Roster import on PostgreSQL {version}: {results['prepare']['households']:,} demo households "
        f"(seed {args.seed}), {ours['rows']:,} member rows, settings {args.settings}, "
        f"{os.cpu_count()} CPUs"
    )
    print()
    print(table)
    print()
    totals = {"check": ours["check_s"], "confirm": ours["confirm_s"], "second": ours["second_s"]}
    print("where the time goes (s):")
    for run, spent in ours.get("phases", {}).items():
        other = totals[run] - sum(spent.values())
        spent_text = ", ".join(f"{label} {seconds:.1f}" for label, seconds in spent.items())
        print(f"  {run:<8} {totals[run]:5.1f} = {spent_text}, other (commit, batch records) {other:.1f}")
    print(f"counts of the dry run: {ours['counts']}")
    print(f"rows after the import: {ours['tables']}")
    loads = ", ".join(
        f"{step} {results[step]['load_average']['before'][0]:.2f} → {results[step]['load_average']['after'][0]:.2f}"
        for step in ("ours", "stock", "floor")
        if step in results
    )
    print(f"load average (1 min) before → after each measurement: {loads}")
    for name, report in ours.get("profiles", {}).items():
        if report:
            print(f"\n--- cProfile of {name} (tottime) ---")
            print(report)

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    output = RESULTS_DIR / f"import_roster-{args.households}.json"
    payload = {
        "households": args.households,
        "seed": args.seed,
        "stock_rows": args.stock_rows,
        "server_version": version,
        "settings": args.settings,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "total_s": round(time.perf_counter() - started, 1),
        "table": table,
        "results": results,
    }
    output.write_text(json.dumps(payload, ensure_ascii=False, indent=1, default=str))
    print(f"results written to {output.relative_to(ROOT)}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--households", type=int, default=50000, help="demo households in the file (50000)")
    parser.add_argument("--seed", type=int, default=1, help="demo generator seed (1)")
    parser.add_argument("--stock-rows", type=int, default=10000, help="member rows the stock path imports (10000)")
    parser.add_argument("--skip-stock", action="store_true", help="do not measure the stock path")
    parser.add_argument("--skip-floor", action="store_true", help="do not measure the parse + COPY floor")
    parser.add_argument(
        "--replan",
        action="store_true",
        help="drop the preview's prepared rows, so the confirmation plans again (as after a change)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the check and confirm phases")
    parser.add_argument("--profile-top", type=int, default=30, help="functions to print per profile (30)")
    parser.add_argument("--settings", default=DEFAULT_SETTINGS, help=f"Django settings ({DEFAULT_SETTINGS})")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases afterwards")
    parser.add_argument(
        "--workbook",
        help="keep the generated workbook at this path, or reuse it if it exists (same --households and --seed)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--reuse", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


CHILDREN = {"prepare": child_prepare, "ours": child_ours, "stock": child_stock, "floor": child_floor}


def main() -> None:
    args = parse_args()
    if args.child:
        result = CHILDREN[args.child](args)
        Path(args.result).write_text(json.dumps(result, ensure_ascii=False, default=str))
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
