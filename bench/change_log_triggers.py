"""What the change-log triggers (changes.triggers) cost a set-based write of 50,000 households, on PostgreSQL.

Usage, from the repository root:

    scripts/with-services .venv/bin/python bench/change_log_triggers.py                  # 50,000 households
    scripts/with-services .venv/bin/python bench/change_log_triggers.py --households 5000 --repeat 1

One process: a fresh database `bench_change_log_<N>` on the server DATABASE_URL names (dropped
afterwards), migrated, with the demo regions. Then, holding the flock on /tmp/bench.lock, --repeat
rounds of the same writes under three trigger setups taken in turn — none; the app's statement-level
triggers with transition tables; and hand-written row-level plpgsql triggers on the two tables (the
design the statement-level ones replaced; they do not cascade a move to the members) — each step in
its own committed transaction, as the import's apply runs them:

1. INSERT … SELECT of N households (copies of a template row spread over the demo villages);
2. INSERT … SELECT of 3 members per household;
3. UPDATE of every household's phone (what a bulk_update or an import's UPDATE … FROM does);
4. UPDATE moving every household to another village (statement-level: also logs its 3 members);
5. DELETE of the members, then of the households.

Between rounds the log is truncated and the tables vacuumed. Prints the median seconds of each step
per setup, the change rows written and the load average before and after.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import server_execute  # noqa: E402

LOCK = "/tmp/bench.lock"
SETUPS = ("none", "statement", "row")
STEPS = ("insert households", "insert members", "update phone", "move village", "delete")

ROW_LEVEL = """
CREATE FUNCTION bench_row_log() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    code_old text;
    code_new text;
BEGIN
    IF TG_TABLE_NAME = 'households_household' THEN
        IF TG_OP <> 'INSERT' THEN SELECT code INTO code_old FROM regions_region WHERE id = OLD.village_id; END IF;
        IF TG_OP <> 'DELETE' THEN SELECT code INTO code_new FROM regions_region WHERE id = NEW.village_id; END IF;
    ELSE
        IF TG_OP <> 'INSERT' THEN
            SELECT r.code INTO code_old FROM households_household h JOIN regions_region r ON r.id = h.village_id
            WHERE h.id = OLD.household_id;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            SELECT r.code INTO code_new FROM households_household h JOIN regions_region r ON r.id = h.village_id
            WHERE h.id = NEW.household_id;
        END IF;
    END IF;
    INSERT INTO changes_change (resource, row_id, op, txid, region_code_old, region_code_new, at)
    VALUES (TG_ARGV[0], CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, left(TG_OP, 1),
            pg_current_xact_id()::text::bigint, code_old, code_new, now());
    RETURN NULL;
END
$$;
CREATE TRIGGER bench_row_write AFTER INSERT OR DELETE ON households_household
    FOR EACH ROW EXECUTE FUNCTION bench_row_log('households');
CREATE TRIGGER bench_row_update AFTER UPDATE ON households_household
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION bench_row_log('households');
CREATE TRIGGER bench_row_write AFTER INSERT OR DELETE ON households_member
    FOR EACH ROW EXECUTE FUNCTION bench_row_log('members');
CREATE TRIGGER bench_row_update AFTER UPDATE ON households_member
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION bench_row_log('members');
"""


@contextmanager
def bench_lock() -> Iterator[None]:
    with open(LOCK, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"  waiting for {LOCK} …", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def copy_sql(model: Any, overrides: dict[str, str], source: str) -> str:
    """INSERT … SELECT of every column but the id, from the template row `t`, with some replaced."""
    columns = [field.column for field in model._meta.concrete_fields if field.column != "id"]
    values = [overrides.get(column, f"t.{column}") for column in columns]
    return f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(values)} {source}"


def setup(name: str) -> None:
    from django.apps import apps
    from django.db import connection

    from changes import triggers

    triggers.uninstall(connection)
    with connection.cursor() as cursor:
        cursor.execute("DROP FUNCTION IF EXISTS bench_row_log() CASCADE")
        if name == "statement":
            triggers.install(connection, apps)
        elif name == "row":
            cursor.execute(ROW_LEVEL)


def round_of(households: int, villages: list[int]) -> dict[str, float]:
    from django.db import connection, transaction

    from households.models import Household, Member

    template_household = Household.objects.order_by("id").first()
    template_member = Member.objects.order_by("id").first()
    assert template_household is not None and template_member is not None
    spread = f"(ARRAY{villages})[1 + mod(g, {len(villages)})]"
    statements = {
        "insert households": [
            copy_sql(
                Household,
                {"uuid": "gen_random_uuid()", "number": "'B' || g", "village_id": spread},
                f"FROM households_household t, generate_series(1, {households}) g WHERE t.id = {template_household.pk}",
            )
        ],
        "insert members": [
            copy_sql(
                Member,
                {
                    "household_id": "h.id",
                    "id_number": "lpad((h.id * 3 + k)::text, 18, '0')",
                    "relation": "CASE k WHEN 1 THEN 'head' WHEN 2 THEN 'spouse' ELSE 'son' END",
                },
                "FROM households_member t, households_household h, generate_series(1, 3) k"
                f" WHERE t.id = {template_member.pk} AND h.number LIKE 'B%%'",
            )
        ],
        "update phone": [
            "UPDATE households_household SET phone = '1390000' || lpad(id::text, 4, '0') WHERE number LIKE 'B%%'"
        ],
        "move village": [
            f"UPDATE households_household SET village_id = (ARRAY{villages})[1 + mod(id + 1, {len(villages)})]"
            " WHERE number LIKE 'B%%'"
        ],
        "delete": [
            "DELETE FROM households_member WHERE household_id IN"
            " (SELECT id FROM households_household WHERE number LIKE 'B%%')",
            "DELETE FROM households_household WHERE number LIKE 'B%%'",
        ],
    }
    seconds = {}
    for step in STEPS:
        began = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements[step]:
                cursor.execute(statement, [])
        seconds[step] = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM changes_change")
        seconds["change rows"] = cursor.fetchone()[0]
        cursor.execute("TRUNCATE changes_change")
        cursor.execute("VACUUM ANALYZE households_household, households_member, changes_change")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    server_url = os.environ["DATABASE_URL"]
    name = f"bench_change_log_{args.households}"
    server_execute(server_url, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from households.demo_writer import demo_regions_ensure
    from households.models import Household, Member
    from regions.models import Level

    try:
        call_command("migrate", verbosity=0, interactive=False)
        regions = demo_regions_ensure()
        villages = sorted(region.pk for region in regions.values() if region.level == Level.VILLAGE)
        template = Household.objects.create(
            number="TEMPLATE", village_id=villages[0], household_type="lifted", lifted_year=2019
        )
        Member.objects.create(
            household=template,
            name="张三",
            id_number="53232619800101001X",
            sex="M",
            birth_date="1980-01-01",
            relation="head",
            labour="ordinary",
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE changes_change"
            )  # the regions and the template, logged by the migration's triggers
        results: dict[str, list[dict[str, float]]] = {setup_name: [] for setup_name in SETUPS}
        with bench_lock():
            load_before = os.getloadavg()
            for _ in range(args.repeat):
                for setup_name in SETUPS:
                    setup(setup_name)
                    results[setup_name].append(round_of(args.households, villages))
            load_after = os.getloadavg()
        connection.close()
    finally:
        from django.db import connections

        connections.close_all()
        server_execute(server_url, f"DROP DATABASE IF EXISTS {name}")

    print(f"\n{args.households:,} households, {3 * args.households:,} members; median of {args.repeat} rounds, seconds")
    print(f"{'step':<20}" + "".join(f"{setup_name:>14}" for setup_name in SETUPS))
    for step in (*STEPS, "change rows"):
        medians = [statistics.median(run[step] for run in results[setup_name]) for setup_name in SETUPS]
        cells = "".join(f"{value:>14,.0f}" if step == "change rows" else f"{value:>14.2f}" for value in medians)
        print(f"{step:<20}{cells}")
    totals = {s: statistics.median(sum(run[step] for step in STEPS) for run in results[s]) for s in SETUPS}
    print(f"{'total':<20}" + "".join(f"{totals[s]:>14.2f}" for s in SETUPS))
    print(
        f"load average before {tuple(round(v, 2) for v in load_before)}, after {tuple(round(v, 2) for v in load_after)}"
    )


if __name__ == "__main__":
    main()
