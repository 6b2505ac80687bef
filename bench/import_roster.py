"""Roster and income import at county scale: dry run + import of N households on PostgreSQL.

Usage, from the repository root (no Makefile needed):

    scripts/with-services .venv/bin/python bench/import_roster.py --households 50000
    scripts/with-services .venv/bin/python bench/import_roster.py --households 5000 --profile

The parent process creates a fresh database on the PostgreSQL server DATABASE_URL names and
runs every step in a child process of its own, so one step's memory and caches never flatter
another's:

1. prepare: migrate the fresh database and create the demo regions, thresholds and accounts
   (no households); generate N households with the demo generator (seed --seed) and write two
   workbooks through households.excel.writer: a 花名册, one row per member, with the monitoring
   columns of every household whose case is open (a case the demo eliminated would need the
   income the roster does not carry), and a 收入表 of the same households' four quarters of
   --income-year, one row per household and quarter, with the columns the income export
   (households.excel.export.income_rows) writes. That database is then the template of the others.
2. roster (a clone of it): what `import_roster FILE --dry-run` and the confirmed import do, as the
   superuser `admin`, through the staged pipeline of workbooks.batches: import_batch_create +
   import_batch_check (parse in a spawned interpreter, validate with RosterPlanner, COPY the
   staged rows into the staging table: the preview), then import_batch_claim +
   import_batch_confirm (lock what the preview read and compare versions, then apply set-based
   INSERT … SELECT / UPDATE … FROM from the staging table with history rows, then the register's
   after_apply); then the same file once more (create + check, which must say UNCHANGED).
3. income (the same database, after the roster import): the same three runs of the 收入表 through
   the income register (IncomePlanner); its import creates N × 4 income records and refreshes the
   households' income facts.
   Memory, for 2 and 3: the parent samples the whole process tree of the step (the import process
   and its spawned parser) every 0.1 s from /proc, and attributes each sample to the run the child
   has announced (dry run, import, second run); the target is judged on the largest summed Rss,
   the summed Pss is printed beside it. getrusage's ru_maxrss of the process and of its largest
   child are printed for reference.
4. stock (a clone of the template, and for income a clone of the roster database taken before
   the income import): django-import-export's row-by-row path, ModelResources with
   clean_model_instances (the model rules) and simple_history's signals, on the first --stock-rows
   rows of the same file, dry_run=False in a transaction that is rolled back: Household + Member
   resources for the roster (cases are not imported, in its favour), an IncomeRecord resource for
   the income (households/resources.py has one, but for export: it has neither the amounts nor
   the household size, so the bench declares its own). The file's parsing, the label → value
   mapping and, for income, the household sizes are not timed (in its favour). Its rows/s is
   scaled to the whole file.
5. floor (another clone): python-calamine parses each file into tuples, then psycopg's
   cursor.copy writes every row into an UNLOGGED table of text columns: no validation, no
   lookups, no history, no indexes.

The parent prints one table for both registers (seconds, rows/s, ratios against the stock path
and the floor, peak memory), where the time of each run goes, and writes everything to
bench/results/import_roster-<N>.json. With --profile the import steps also write cProfile
statistics of every run next to it (*.prof, the spawned parser not included) and print their
top functions.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import run_main, server_execute, verdict, with_database, write_results  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
DEFAULT_SETTINGS = "config.settings.test"
TARGET_SECONDS = 30.0
TARGET_RSS_BYTES = 2**30
TARGET_STOCK_RATIO = 100.0
TARGET_FLOOR_RATIO = 2.0
KINDS = ("roster", "income")
SHEETS = {"roster": "花名册", "income": "收入表"}
RUNS = ("check", "confirm", "second")


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


def income_path(roster: Path) -> Path:
    """Where the 收入表 of a run goes: beside the 花名册."""
    return roster.with_name(f"{roster.stem}-income{roster.suffix}")


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


def income_rows(households: list[Any], year: int) -> Iterator[dict[str, Any]]:
    """收入表 rows with the keys households.excel.export.income_rows gives them: one per household and quarter."""
    from households import formulas
    from households.models import Relation

    for household in sorted(households, key=lambda h: h.number):
        head = next((m for m in household.members if m.relation == Relation.HEAD), None)
        for income in household.incomes:
            if income.year != year:
                continue
            yield {
                "household_number": household.number,
                "head_name": head.name if head else "",
                "year": income.year,
                "quarter": income.quarter,
                "household_size": income.household_size,
                **income.amounts,
                "net_income": income.net_income,
                "per_capita_net_income": formulas.per_capita(
                    net_income=income.net_income, household_size=income.household_size
                ),
            }


def workbook_facts(path: Path, kind: str) -> dict[str, int]:
    """Rows and distinct households of a workbook an earlier run wrote."""
    from households.excel.columns import INCOME_COLUMNS, ROSTER_COLUMNS
    from workbooks.reader import read_table

    columns = ROSTER_COLUMNS if kind == "roster" else INCOME_COLUMNS
    table = read_table(path, columns=columns, original_name=path.name, max_rows=10**7, max_uncompressed_bytes=2**40)
    facts = {
        "rows": len(table.rows),
        "households": len({row.values["household_number"] for row in table.rows}),
        "file_bytes": path.stat().st_size,
    }
    if kind == "roster":
        facts["open_cases"] = len({row.values["household_number"] for row in table.rows if row.values.get("category")})
    return facts


def child_prepare(args: argparse.Namespace) -> dict[str, Any]:
    """Migrate, demo regions/thresholds/users, then generate and write the two workbooks."""
    django_setup(args.settings, Path(args.scratch) / "media")
    from django.core.management import call_command

    from households.demo import generate_households
    from households.demo_names import PROVINCE
    from households.demo_writer import demo_regions_ensure, demo_thresholds_ensure, demo_users_ensure
    from households.excel.writer import rows_workbook_write
    from households.models import RiskType

    timings: dict[str, float] = {}
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    regions = demo_regions_ensure()
    demo_thresholds_ensure(province=regions[PROVINCE[0]])
    demo_users_ensure()
    timings["migrate_s"] = time.perf_counter() - started

    roster_file, income_file = Path(args.file), Path(args.income_file)
    if args.reuse:
        # --workbook named files an earlier run wrote: same N, seed and year, nothing to generate.
        roster, income = workbook_facts(roster_file, "roster"), workbook_facts(income_file, "income")
        return {
            "timings": {**timings, "generate_s": 0.0, "write_s": 0.0, "write_income_s": 0.0},
            "households": roster["households"],
            "rows": roster["rows"],
            "open_cases": roster["open_cases"],
            "file_bytes": roster["file_bytes"],
            "income_rows": income["rows"],
            "income_file_bytes": income["file_bytes"],
            "reused": True,
            "peak_rss": peak_rss(),
        }

    started = time.perf_counter()
    households = list(generate_households(count=args.households, seed=args.seed))
    timings["generate_s"] = time.perf_counter() - started

    risk_names = dict(RiskType.objects.values_list("code", "name"))
    names = list(RiskType.objects.order_by("sort_order", "code").values_list("name", flat=True))
    started = time.perf_counter()
    with roster_file.open("wb") as target:
        rows = rows_workbook_write(target, "roster", roster_rows(households, risk_names), risk_type_names=names)
    timings["write_s"] = time.perf_counter() - started
    started = time.perf_counter()
    with income_file.open("wb") as target:
        incomes = rows_workbook_write(
            target, "income", income_rows(households, args.income_year), risk_type_names=names
        )
    timings["write_income_s"] = time.perf_counter() - started
    open_cases = sum(1 for h in households if h.case is not None and h.case.eliminated_month is None)
    return {
        "timings": timings,
        "households": len(households),
        "rows": rows,
        "open_cases": open_cases,
        "file_bytes": roster_file.stat().st_size,
        "income_rows": incomes,
        "income_file_bytes": income_file.stat().st_size,
        "peak_rss": peak_rss(),
    }


class PhaseClock:
    """Seconds spent in the import's steps, per run, by wrapping the pipeline's functions.

    Time is exclusive: a step called within another (the spawned parse within the read, a
    COPY of staged rows within the validation, history rows within the apply) counts in its own
    line and not in the outer one, so the lines of a run add up to the time they cover.
    """

    # (where it may be defined, class or "", function, label). A module-level function is patched
    # in every project module that bound it by name (batches imports apply_steps, for instance).
    STEPS = (
        ("workbooks.batches", "", "import_batch_create", "store the upload (copy + sha256)"),
        ("workbooks.staging", "", "discard", "discard staged rows (DELETE)"),
        ("workbooks.reader", "", "read_table_isolated", "parse in the spawned child: waiting, unpickling its blocks"),
        ("households.excel.roster_rows", "ParsedColumns", "feed", "cells of each block parsed as it comes"),
        ("households.excel.roster_existing", "", "read_existing", "read existing households/members/cases"),
        ("households.excel.income", "IncomePlanner", "_households", "read existing households + sizes"),
        ("households.excel.income", "IncomePlanner", "_compare", "read + compare recorded quarters"),
        ("households.excel.roster", "RosterPlanner", "run", "validate + encode staged rows (RosterPlanner.run)"),
        ("households.excel.income", "IncomePlanner", "run", "validate + encode staged rows (IncomePlanner.run)"),
        ("workbooks.staging", "Stager", "_send", "rows into the open COPY (Stager._send)"),
        ("workbooks.staging", "Stager", "_end_copy", "end of a COPY: the server's rest (Stager._end_copy)"),
        ("workbooks.apply workbooks.staging", "", "lock_and_check", "lock + compare versions (lock_and_check)"),
        ("workbooks.apply workbooks.staging", "", "apply_steps", "INSERT … SELECT / UPDATE … FROM (apply_steps)"),
        ("workbooks.apply workbooks.staging", "", "_write_history", "history rows (INSERT … SELECT)"),
    )
    # The registers' after_apply hooks are found through the pipeline's registry, wherever declared.
    AFTER_APPLY = {"roster": "after_apply: risk types, versions", "income": "after_apply: income facts refresh"}

    def __init__(self, announce: Path | None = None) -> None:
        self.seconds: dict[str, dict[str, float]] = {}
        self.current = ""
        # [label, started, seconds of the steps within it] per step being timed, innermost last.
        self.stack: list[list[Any]] = []
        self.announce = announce
        self.missing: list[str] = []

    def start(self, label: str) -> None:
        self.current = label
        self.seconds[label] = {}
        if self.announce is not None:
            # The parent's memory sampler reads it to attribute its samples to this run.
            self.announce.write_text(label)

    def watch_import(self) -> None:
        import importlib
        import inspect

        import households.sheets  # noqa: F401  (loads the registers and the modules they use)
        import workbooks.batches  # noqa: F401

        for homes, class_name, name, label in self.STEPS:
            owner: Any = None
            for home in homes.split():
                try:
                    module = importlib.import_module(home)
                except ImportError:
                    continue
                candidate = getattr(module, class_name, None) if class_name else module
                if candidate is not None and hasattr(candidate, name):
                    owner = candidate
                    break
            if owner is None:
                self.missing.append(f"{homes}: {class_name + '.' if class_name else ''}{name}")
                continue
            original = getattr(owner, name)
            timed = self._timed(original, label)
            if class_name:
                if isinstance(inspect.getattr_static(owner, name), staticmethod):
                    timed = staticmethod(timed)
                setattr(owner, name, timed)
                continue
            for loaded in list(sys.modules.values()):
                project = getattr(loaded, "__name__", "").startswith(("workbooks.", "households."))
                if project and getattr(loaded, name, None) is original:
                    setattr(loaded, name, timed)
        from workbooks import registers

        for sheet in registers.all_registers():
            kind: Any = type(sheet)
            if "after_apply" in vars(kind):
                label = self.AFTER_APPLY.get(sheet.name, f"after_apply ({sheet.name})")
                kind.after_apply = self._timed(kind.after_apply, label)

    def _timed(self, function: Any, label: str) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            frame: list[Any] = [label, time.perf_counter(), 0.0]
            self.stack.append(frame)
            try:
                return function(*args, **kwargs)
            finally:
                self.stack.pop()
                elapsed = time.perf_counter() - frame[1]
                if self.stack:
                    self.stack[-1][2] += elapsed
                spent = self.seconds.setdefault(self.current, {})
                spent[label] = spent.get(label, 0.0) + elapsed - frame[2]

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


def table_counts(kind: str) -> dict[str, int]:
    from households.models import Household, IncomeRecord, Member, MonitoringCase

    if kind == "income":
        return {
            "income_records": IncomeRecord.objects.count(),
            "income_history": IncomeRecord.history.count(),
            "households_with_trailing_income": Household.objects.exclude(trailing_per_capita=None).count(),
        }
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


def child_import(args: argparse.Namespace) -> dict[str, Any]:
    """Dry run, import and a second run of one register's file, the way import_roster does them."""
    django_setup(args.settings, Path(args.scratch) / "media")
    from django.core.files.uploadedfile import SimpleUploadedFile

    from households.excel.models import ImportKind
    from regions.models import User
    from workbooks import batches
    from workbooks.models import ImportBatch, ImportStatus

    kind = str(args.child)
    admin = User.objects.get(username="admin")
    path = Path(args.file if kind == "roster" else args.income_file)
    profile_dir = RESULTS_DIR / f"import_roster-{args.households}-profile"
    reports: dict[str, str] = {}
    phases = PhaseClock(Path(args.announce) if args.announce else None)
    phases.watch_import()

    def dry_run(label: str) -> tuple[ImportBatch, float]:
        phases.start(label)
        started = time.perf_counter()
        with Profiled(args.profile, f"{kind}-{label}", profile_dir, args.profile_top) as profiled:
            upload = SimpleUploadedFile(path.name, path.read_bytes())
            batch = batches.import_batch_create(by=admin, kind=ImportKind(kind), upload=upload)
            del upload
            batch = batches.import_batch_check(batch_id=batch.pk)
        elapsed = time.perf_counter() - started
        reports[label] = profiled.report
        return batch, elapsed

    load_before = os.getloadavg()
    first, check_s = dry_run("check")
    if first.status != ImportStatus.READY:
        raise SystemExit(f"{kind} dry run: {first.status} {first.refusal} {first.errors[:10]}")
    print(f"  dry run {check_s:.1f} s: {first.counts}", flush=True)

    phases.start("confirm")
    started = time.perf_counter()
    with Profiled(args.profile, f"{kind}-confirm", profile_dir, args.profile_top) as profiled:
        batches.import_batch_claim(batch=first, by=admin)
        applied = batches.import_batch_confirm(batch_id=first.pk, by_id=admin.pk)
    confirm_s = time.perf_counter() - started
    reports["confirm"] = profiled.report
    if applied.status != ImportStatus.APPLIED:
        raise SystemExit(f"{kind} import: {applied.status} {applied.refusal} {applied.errors[:10]}")
    print(f"  import {confirm_s:.1f} s", flush=True)
    rss_first = peak_rss()
    counts = table_counts(kind)

    second, second_s = dry_run("second")
    if second.status != ImportStatus.UNCHANGED:
        raise SystemExit(f"{kind} second run: {second.status} {second.refusal} {second.errors[:10]}")
    print(f"  second run {second_s:.1f} s: {second.status}", flush=True)
    phases.start("done")
    return {
        "kind": kind,
        "rows": first.row_count,
        "counts": first.counts,
        "second_counts": second.counts,
        "tables": counts,
        "check_s": check_s,
        "confirm_s": confirm_s,
        "second_s": second_s,
        "peak_rss_after_import": rss_first,
        "peak_rss": peak_rss(),
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "phases": phases.seconds,
        "not_timed": phases.missing,
        "profiles": reports,
    }


def sheet_rows(path: Path, kind: str) -> tuple[list[Any], Iterator[Any]]:
    """The columns of a workbook's header and an iterator over its data rows, as python-calamine reads them."""
    import python_calamine

    from households.excel.columns import INCOME_COLUMNS, ROSTER_COLUMNS

    workbook = python_calamine.load_workbook(str(path))
    rows = workbook.get_sheet_by_name(SHEETS[kind]).iter_rows()
    header = [str(text) for text in next(rows)]
    by_header = {column.header: column for column in (ROSTER_COLUMNS if kind == "roster" else INCOME_COLUMNS)}
    return [by_header[text] for text in header], rows


def stock_roster_datasets(path: Path, limit: int) -> tuple[Any, Any]:
    """The first `limit` member rows as tablib Datasets of stored values: households, members."""
    import tablib

    from households.excel.columns import Kind
    from households.excel.normalise import parse_cell
    from households.services import MEMBER_FIELDS

    columns, rows = sheet_rows(path, "roster")
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


def stock_income_dataset(path: Path, limit: int) -> Any:
    """The first `limit` 收入表 rows as a tablib Dataset of stored values, with each household's size."""
    from decimal import Decimal

    import tablib
    from django.db.models import Count

    from households.excel.normalise import parse_cell
    from households.models import AMOUNT_FIELDS, Member

    columns, rows = sheet_rows(path, "income")
    parsed = []
    for _, raw in zip(range(limit), rows, strict=False):
        parsed.append(
            {
                column.key: parse_cell(column, value)
                for column, value in zip(columns, raw, strict=False)
                if not column.derived
            }
        )
    # Where the file leaves 家庭人口数 blank, the size a form would read from the active members.
    sizes = dict(
        Member.objects.filter(is_active=True, household__number__in={values["household_number"] for values in parsed})
        .values_list("household__number")
        .annotate(size=Count("pk"))
        .values_list("household__number", "size")
    )
    dataset = tablib.Dataset(headers=["household", "year", "quarter", "household_size", *AMOUNT_FIELDS])
    for values in parsed:
        number = values["household_number"]
        amounts = [values.get(name) or Decimal("0.00") for name in AMOUNT_FIELDS]
        size = values.get("household_size") or sizes[number]
        dataset.append([number, values["year"], values["quarter"], size, *amounts])
    return dataset


def child_stock(args: argparse.Namespace) -> dict[str, Any]:
    """django-import-export's stock row-by-row path on a slice of one file, rolled back."""
    django_setup(args.settings, Path(args.scratch) / "media")
    from django.db import transaction
    from import_export import fields, resources, widgets

    from households.models import AMOUNT_FIELDS, Household, IncomeRecord, Member
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

    class IncomeResource(resources.ModelResource):
        household = fields.Field(
            attribute="household",
            column_name="household",
            widget=widgets.ForeignKeyWidget(Household, field="number"),
        )

        class Meta:
            model = IncomeRecord
            fields = ("household", "year", "quarter", "household_size", *AMOUNT_FIELDS)
            import_id_fields = ("household", "year", "quarter")
            clean_model_instances = True

    kind = "income" if args.child == "stock_income" else "roster"
    if kind == "roster":
        households, members = stock_roster_datasets(Path(args.file), args.stock_rows)
        imports: list[tuple[Any, Any]] = [(HouseholdResource(), households), (MemberResource(), members)]
        model: Any = Member
    else:
        records = stock_income_dataset(Path(args.income_file), args.stock_rows)
        imports = [(IncomeResource(), records)]
        model = IncomeRecord
    load_before = os.getloadavg()
    started = time.perf_counter()
    with transaction.atomic():
        results = [resource.import_data(dataset, dry_run=False, raise_errors=True) for resource, dataset in imports]
        written = model.objects.count()
        transaction.set_rollback(True)
    elapsed = time.perf_counter() - started
    if any(result.has_validation_errors() for result in results):
        raise SystemExit(f"stock {kind} path: validation errors in the slice")
    return {
        "kind": kind,
        "rows": len(imports[-1][1]),
        "written": written,
        "seconds": elapsed,
        "load_average": {"before": load_before, "after": os.getloadavg()},
    }


def child_floor(args: argparse.Namespace) -> dict[str, Any]:
    """python-calamine parse + COPY into an UNLOGGED table of text columns, per file: nothing else."""
    import psycopg
    import python_calamine

    load_before = os.getloadavg()
    measured: dict[str, Any] = {}
    files = {"roster": args.file, **({"income": args.income_file} if not args.skip_income else {})}
    for kind, file in files.items():
        started = time.perf_counter()
        workbook = python_calamine.load_workbook(str(file))
        rows = workbook.get_sheet_by_name(SHEETS[kind]).iter_rows()
        header = next(rows)
        data = [tuple(row) for row in rows]
        parse_s = time.perf_counter() - started
        columns = ", ".join(f"c{index} text" for index in range(len(header)))
        started = time.perf_counter()
        with psycopg.connect(args.database_url) as connection:
            connection.execute(f"CREATE UNLOGGED TABLE {kind}_staging ({columns})")
            with connection.cursor() as cursor, cursor.copy(f"COPY {kind}_staging FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
            copied = connection.execute(f"SELECT count(*) FROM {kind}_staging").fetchone()
        copy_s = time.perf_counter() - started
        del data, workbook
        measured[kind] = {
            "rows": copied[0] if copied else 0,
            "parse_s": parse_s,
            "copy_s": copy_s,
            "seconds": parse_s + copy_s,
        }
    return {**measured, "load_average": {"before": load_before, "after": os.getloadavg()}}


# --------------------------------------------------------------------------------------------
# Parent
# --------------------------------------------------------------------------------------------


def clone(server_url: str, database: str, template: str) -> None:
    server_execute(
        server_url, f'DROP DATABASE IF EXISTS "{database}"', f'CREATE DATABASE "{database}" TEMPLATE "{template}"'
    )


def run_child(args: argparse.Namespace, step: str, database: str, scratch: Path) -> dict[str, Any]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = args.settings
    env["DEBUG"] = "0"
    env["DATABASE_URL"] = with_database(args.server_url, database)
    result_file = scratch / f"{step}.json"
    announce = scratch / f"{step}.phase"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        f"--child={step}",
        f"--households={args.households}",
        f"--seed={args.seed}",
        f"--stock-rows={args.stock_rows}",
        f"--income-year={args.income_year}",
        f"--settings={args.settings}",
        f"--scratch={scratch}",
        f"--file={args.file}",
        f"--income-file={args.income_file}",
        f"--result={result_file}",
        f"--announce={announce}",
        f"--database-url={env['DATABASE_URL']}",
        f"--profile-top={args.profile_top}",
        *(["--reuse"] if args.reuse else []),
        *(["--profile"] if args.profile else []),
        *(["--skip-income"] if args.skip_income else []),
    ]
    print(f"[{step}] database {database}", flush=True)
    started = time.perf_counter()
    with subprocess.Popen(command, env=env, cwd=ROOT) as process:
        sampled = sample_memory(process, announce)
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


def sample_memory(process: subprocess.Popen[bytes], announce: Path, interval: float = 0.1) -> dict[str, Any]:
    """Poll the child's process tree until it exits: the peak of its summed Pss and Rss, overall and per run.

    From outside, so the measured process pays nothing for it; the run a sample belongs to is the
    one the child last wrote into `announce`.
    """
    peak_pss = peak_rss = 0
    by_run: dict[str, dict[str, int]] = {}
    while process.poll() is None:
        pss, rss = tree_memory(process.pid)
        peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
        try:
            run = announce.read_text() or "startup"
        except OSError:
            run = "startup"
        peaks = by_run.setdefault(run, {"peak_pss_bytes": 0, "peak_rss_sum_bytes": 0})
        peaks["peak_pss_bytes"] = max(peaks["peak_pss_bytes"], pss)
        peaks["peak_rss_sum_bytes"] = max(peaks["peak_rss_sum_bytes"], rss)
        time.sleep(interval)
    return {"peak_pss_bytes": peak_pss, "peak_rss_sum_bytes": peak_rss, "by_run": by_run}


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "-"


def mebibytes(value: int | None) -> str:
    return f"{value / 2**20:,.0f}" if value else ""


def register_figures(kind: str, results: dict[str, Any]) -> dict[str, Any]:
    """One register's measured seconds, the stock path scaled to its whole file, its floor and peaks."""
    ours = results[kind]
    stock = results.get("stock" if kind == "roster" else "stock_income")
    floor = results.get("floor", {}).get(kind)
    rows = ours["rows"]
    by_run = ours["sampled_memory"]["by_run"]
    peak = {run: by_run.get(run, {}).get("peak_rss_sum_bytes", 0) for run in RUNS}
    return {
        "rows": rows,
        "check_s": ours["check_s"],
        "confirm_s": ours["confirm_s"],
        "total_s": ours["check_s"] + ours["confirm_s"],
        "second_s": ours["second_s"],
        "stock": stock,
        "stock_full_s": rows / (stock["rows"] / stock["seconds"]) if stock else None,
        "floor": floor,
        "floor_s": floor["seconds"] if floor else None,
        "peak": peak,
        "peak_import": max(peak["check"], peak["confirm"]),
        "peak_tree": ours["sampled_memory"]["peak_rss_sum_bytes"],
        "peak_pss": ours["sampled_memory"]["peak_pss_bytes"],
    }


def register_lines(kind: str, results: dict[str, Any]) -> tuple[list[str], str]:
    """One register's lines of the table, and its line of verdicts."""
    prepare = results["prepare"]
    figures = register_figures(kind, results)
    rows, stock_full, floor_s = figures["rows"], figures["stock_full_s"], figures["floor_s"]
    lines: list[str] = []

    def line(
        label: str, seconds: float, count: int, note: str = "", ratios: bool = True, memory: int | None = None
    ) -> str:
        vs_stock = f"{stock_full / seconds:.1f}x" if stock_full and ratios else ""
        vs_floor = f"{seconds / floor_s:.2f}x" if floor_s and ratios else ""
        return (
            f"{label:<46}{seconds:>9.1f}{rate(count, seconds):>11}{vs_stock:>10}{vs_floor:>10}"
            f"{mebibytes(memory):>10}  {note}"
        )

    file_bytes = prepare["file_bytes"] if kind == "roster" else prepare["income_file_bytes"]
    unit = "member rows" if kind == "roster" else "household-quarter rows"
    lines.append(f"{SHEETS[kind]} ({kind}): {rows:,} {unit}, {file_bytes / 2**20:.1f} MiB")
    if prepare.get("reused"):
        lines.append("  (workbook reused from an earlier run)")
    else:
        if kind == "roster":
            generate_label = f"  generate {prepare['households']:,} households (demo.py)"
            lines.append(line(generate_label, prepare["timings"]["generate_s"], rows, ratios=False))
        write_s = prepare["timings"]["write_s" if kind == "roster" else "write_income_s"]
        lines.append(line("  write the xlsx (writer.rows_workbook_write)", write_s, rows, ratios=False))
    peak = figures["peak"]
    lines.append(
        line("  dry run (create + check)", figures["check_s"], rows, "parse, validate, stage", memory=peak["check"])
    )
    lines.append(
        line(
            "  import (claim + confirm)",
            figures["confirm_s"],
            rows,
            "lock, check versions, apply set-based, history",
            memory=peak["confirm"],
        )
    )
    total = figures["total_s"]
    lines.append(
        line(
            "  dry run + import",
            total,
            rows,
            f"target <= {TARGET_SECONDS:.0f} s: {verdict(total <= TARGET_SECONDS)}",
            memory=figures["peak_import"],
        )
    )
    second_s = figures["second_s"]
    lines.append(
        line(
            "  second run, same file (create + check)",
            second_s,
            rows,
            f"UNCHANGED; <= first run ({total:.1f} s): {verdict(second_s <= total)}",
            memory=peak["second"],
        )
    )
    stock = figures["stock"]
    if stock:
        what = "Household + Member" if kind == "roster" else "IncomeRecord"
        lines.append(
            line(
                f"  stock django-import-export, {stock['rows']:,} rows",
                stock["seconds"],
                stock["rows"],
                f"{what} resources, full_clean, history; rolled back",
                ratios=False,
            )
        )
        assert stock_full is not None
        lines.append(line("    scaled to the whole file", stock_full, rows, ratios=False))
    floor = figures["floor"]
    if floor:
        lines.append(line("  floor: calamine parse", floor["parse_s"], rows, ratios=False))
        lines.append(line("  floor: COPY into an UNLOGGED text table", floor["copy_s"], rows, ratios=False))
        lines.append(line("  floor: parse + COPY", floor["seconds"], rows, ratios=False))
    aims = [f"dry run + import {total:.1f} s (<= {TARGET_SECONDS:.0f} s: {verdict(total <= TARGET_SECONDS)})"]
    if stock_full:
        ratio = stock_full / total
        aims.append(f"{ratio:.1f}x stock (>= {TARGET_STOCK_RATIO:.0f}x: {verdict(ratio >= TARGET_STOCK_RATIO)})")
    if floor_s:
        alone = figures["confirm_s"] / floor_s
        aims.append(
            f"{total / floor_s:.2f}x the floor, the import alone {alone:.2f}x "
            f"(<= {TARGET_FLOOR_RATIO:.0f}x: {verdict(alone <= TARGET_FLOOR_RATIO)})"
        )
    tree = figures["peak_tree"]
    aims.append(
        f"peak {tree / 2**20:,.0f} MiB (<= {TARGET_RSS_BYTES / 2**20:,.0f} MiB: "
        f"{verdict(tree <= TARGET_RSS_BYTES)}; Pss {figures['peak_pss'] / 2**20:,.0f} MiB)"
    )
    aims.append(f"second run {second_s:.1f} s (<= {total:.1f} s: {verdict(second_s <= total)})")
    return lines, f"{kind}: " + ", ".join(aims)


def format_table(results: dict[str, Any]) -> str:
    header = f"{'step':<46}{'seconds':>9}{'rows/s':>11}{'vs stock':>10}{'vs floor':>10}{'peak MiB':>10}  note"
    lines = [header, "-" * (len(header) + 40)]
    verdicts: list[str] = []
    for kind in KINDS:
        if kind in results:
            register, verdict_line = register_lines(kind, results)
            lines.extend(register)
            verdicts.append(verdict_line)
    lines.append("")
    lines.extend(verdicts)
    lines.append("(vs stock: how many times faster than the stock path scaled to the whole file;")
    lines.append(" vs floor: how many times slower than parse + COPY of the same file;")
    lines.append(" peak MiB: largest summed Rss of the import's process tree during that run, sampled every 0.1 s)")
    return "\n".join(lines)


def parent_main(args: argparse.Namespace) -> None:
    server_url = os.environ.get("DATABASE_URL", "")
    if not urlsplit(server_url).scheme.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL server (run under scripts/with-services)")
    args.server_url = server_url
    scratch = Path(tempfile.mkdtemp(prefix="bench-import-roster-"))
    file = Path(args.workbook).resolve() if args.workbook else scratch / f"roster-{args.households}.xlsx"
    args.file, args.income_file = file, income_path(file)
    args.reuse = bool(args.workbook) and file.is_file() and args.income_file.is_file()
    base = f"bench_import_roster_{args.households}"
    databases = {step: f"{base}_{step}" for step in ("ours", "stock", "stock_income", "floor")}
    results: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        server_execute(server_url, f'DROP DATABASE IF EXISTS "{base}"', f'CREATE DATABASE "{base}"')
        results["prepare"] = run_child(args, "prepare", base, scratch)
        prepare = results["prepare"]
        timings = prepare["timings"]
        print(
            f"[prepare] migrate + demo regions/users {timings['migrate_s']:.1f} s, generate "
            f"{timings['generate_s']:.1f} s, write {timings['write_s']:.1f} s + {timings['write_income_s']:.1f} s: "
            f"{prepare['rows']:,} roster rows ({prepare['file_bytes'] / 2**20:.1f} MiB), "
            f"{prepare['income_rows']:,} income rows ({prepare['income_file_bytes'] / 2**20:.1f} MiB)",
            flush=True,
        )
        # The roster import, then the income import on the same database (it needs the households).
        clone(server_url, databases["ours"], base)
        results["roster"] = run_child(args, "roster", databases["ours"], scratch)
        if not args.skip_income:
            if not args.skip_stock:
                # The stock income path starts from the households, before our income import.
                clone(server_url, databases["stock_income"], databases["ours"])
            results["income"] = run_child(args, "income", databases["ours"], scratch)
        if not args.keep:
            server_execute(server_url, f'DROP DATABASE IF EXISTS "{databases["ours"]}"')
        if not args.skip_stock:
            clone(server_url, databases["stock"], base)
            results["stock"] = run_child(args, "stock", databases["stock"], scratch)
            if not args.skip_income:
                results["stock_income"] = run_child(args, "stock_income", databases["stock_income"], scratch)
        if not args.skip_floor:
            clone(server_url, databases["floor"], base)
            results["floor"] = run_child(args, "floor", databases["floor"], scratch)
    finally:
        if not args.keep:
            for database in (*databases.values(), base):
                server_execute(server_url, f'DROP DATABASE IF EXISTS "{database}"')
        shutil.rmtree(scratch, ignore_errors=True)

    import psycopg

    with psycopg.connect(server_url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
        version = str(row[0]) if row else "?"
    table = format_table(results)
    print()
    print(
        f"Roster and income import on PostgreSQL {version}: {results['prepare']['households']:,} demo households "
        f"(seed {args.seed}, income of {args.income_year}), settings {args.settings}, {os.cpu_count()} CPUs"
    )
    print()
    print(table)
    print()
    print("where the time goes (s; exclusive: a step inside another counts only in its own line):")
    for kind in KINDS:
        if kind not in results:
            continue
        ours = results[kind]
        for run, spent in ours.get("phases", {}).items():
            if run not in RUNS:
                continue
            total = ours[f"{run}_s"]
            other = total - sum(spent.values())
            print(f"  {kind} {run}: {total:.1f}")
            for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
                print(f"    {seconds:6.2f}  {label}")
            print(f"    {other:6.2f}  other (batch records, preview counts, commit)")
        print(f"  {kind}: counts of the dry run {ours['counts']}; rows after the import {ours['tables']}")
        if ours.get("not_timed"):
            print(f"  {kind}: not found, so not timed (their time is in the step around them): {ours['not_timed']}")
    loads = ", ".join(
        f"{step} {results[step]['load_average']['before'][0]:.2f} → {results[step]['load_average']['after'][0]:.2f}"
        for step in ("roster", "income", "stock", "stock_income", "floor")
        if step in results
    )
    print(f"load average (1 min) before → after each measurement: {loads}")
    for kind in KINDS:
        for name, report in results.get(kind, {}).get("profiles", {}).items():
            if report:
                print(f"\n--- cProfile of the {kind} {name} (tottime) ---")
                print(report)

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    output = RESULTS_DIR / f"import_roster-{args.households}.json"
    payload = {
        "households": args.households,
        "seed": args.seed,
        "income_year": args.income_year,
        "stock_rows": args.stock_rows,
        "server_version": version,
        "settings": args.settings,
    }
    write_results(output, payload, started=started, table=table, results=results)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--households", type=int, default=50000, help="demo households in the files (50000)")
    parser.add_argument("--seed", type=int, default=1, help="demo generator seed (1)")
    parser.add_argument(
        "--income-year", type=int, default=2025, help="year whose four quarters the 收入表 holds (2025)"
    )
    parser.add_argument("--stock-rows", type=int, default=10000, help="rows the stock path imports per file (10000)")
    parser.add_argument("--skip-stock", action="store_true", help="do not measure the stock path")
    parser.add_argument("--skip-floor", action="store_true", help="do not measure the parse + COPY floor")
    parser.add_argument("--skip-income", action="store_true", help="measure the roster only")
    parser.add_argument("--profile", action="store_true", help="cProfile every run of the imports")
    parser.add_argument("--profile-top", type=int, default=30, help="functions to print per profile (30)")
    parser.add_argument("--settings", default=DEFAULT_SETTINGS, help=f"Django settings ({DEFAULT_SETTINGS})")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases afterwards")
    parser.add_argument(
        "--workbook",
        help="keep the generated 花名册 at this path and the 收入表 beside it (<name>-income.xlsx), "
        "or reuse both if they exist (same --households, --seed and --income-year)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--income-file", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--announce", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--reuse", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


CHILDREN = {
    "prepare": child_prepare,
    "roster": child_import,
    "income": child_import,
    "stock": child_stock,
    "stock_income": child_stock,
    "floor": child_floor,
}


def main() -> None:
    run_main(parse_args(), CHILDREN, parent_main)


if __name__ == "__main__":
    main()
