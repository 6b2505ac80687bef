"""The SQL of the change-log triggers, generated from the declaration in changes.tracked.

PostgreSQL: one statement-level trigger per table and event, reading the statement's transition tables,
so a set-based import of 50,000 rows logs them in one INSERT … SELECT (bench/change_log_triggers.py
measures the cost). SQLite: row-level triggers (it has no transition tables; one writer at a time).

When a row that other tracked rows hang from moves to another region (a household to another village),
its update trigger also logs an update of each of those rows (its members, cases, income…) with their
old and new region codes: their own tables did not change, but a client of the old region must see
them leave.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from changes.tracked import PARTS, TRACKED, Part, Tracked

PREFIX = "changes_log_"
COLUMNS = "resource, row_id, op, txid, region_code_old, region_code_new, at"
EVENTS = ("insert", "update", "delete")


@dataclass(frozen=True)
class Hop:
    column: str  # foreign key column on the table before, e.g. "household_id"
    table: str  # table it points to
    target: str  # the column it points to, e.g. "id"


@dataclass(frozen=True)
class Table:
    resource: str
    table: str
    pk: str
    hops: tuple[Hop, ...]  # from this table to the region table; empty for the region table itself


@dataclass(frozen=True)
class PartTable:
    """A table whose rows are part of another resource's records (changes.tracked.Part)."""

    resource: str  # the owner's resource
    table: str
    pk: str
    owner: str  # the column naming the owner row
    hops: tuple[Hop, ...]  # from this table to the region table


@dataclass(frozen=True)
class Cascade:
    """Rows of `child` that reach `parent.table` through `child.hops[:depth]` take its region."""

    child: Table
    depth: int


def _hops(model: Any, path: str) -> tuple[Hop, ...]:
    hops = []
    for name in path.split("__") if path else []:
        field = model._meta.get_field(name)
        model = field.related_model
        hops.append(Hop(field.column, model._meta.db_table, field.target_field.column))
    return tuple(hops)


def resolve(tracked: Iterable[Tracked], apps: Any) -> list[Table]:
    """Tables and foreign key columns of the declaration, from the models in `apps` (live or historical)."""
    tables = []
    for entry in tracked:
        try:
            model = apps.get_model(entry.model)
        except LookupError:  # a register declared later than this migration state: a later migrate installs it
            continue
        tables.append(Table(entry.resource, model._meta.db_table, model._meta.pk.column, _hops(model, entry.region)))
    return tables


def resolve_parts(parts: Iterable[Part], apps: Any) -> list[PartTable]:
    found = []
    for part in parts:
        try:
            model = apps.get_model(part.model)
        except LookupError:
            continue
        owner = model._meta.get_field(part.owner).column
        found.append(
            PartTable(part.resource, model._meta.db_table, model._meta.pk.column, owner, _hops(model, part.region))
        )
    return found


def cascades(parent: Table, tables: Sequence[Table]) -> list[Cascade]:
    """Tracked rows whose region is reached through `parent`'s table (its members, cases, income…)."""
    found = []
    for child in tables:
        for depth, hop in enumerate(child.hops[:-1], start=1):
            if hop.table == parent.table and child is not parent:
                found.append(Cascade(child, depth))
                break
    return found


def region_code(hops: Sequence[Hop], alias: str, pk: str = "id") -> str:
    """SQL for the region code of the row `alias` through `hops` (its own code when there are none)."""
    if not hops:
        return f"{alias}.code"
    joins = []
    for number, hop in enumerate(hops[1:], start=2):
        joins.append(f" JOIN {hop.table} j{number} ON j{number}.{hop.target} = j{number - 1}.{hop.column}")
    first, last, chain = hops[0], len(hops), "".join(joins)
    return f"(SELECT j{last}.code FROM {first.table} j1{chain} WHERE j1.{first.target} = {alias}.{first.column})"


def region_joins(hops: Sequence[Hop], alias: str, tag: str) -> tuple[str, str]:
    """LEFT JOINs from the rows `alias` to their region, and the region code's SQL: a transition table's
    rows are joined (the planner knows their number, and hashes the parents) rather than looked up one by one."""
    joins, previous = "", alias
    for number, hop in enumerate(hops, start=1):
        name = f"{tag}{number}"
        joins += f" LEFT JOIN {hop.table} {name} ON {name}.{hop.target} = {previous}.{hop.column}"
        previous = name
    return joins, f"{previous}.code"


def cascade_rows(cascade: Cascade, moved: str) -> str:
    """FROM-clause tail joining the moved parent rows (alias m, from `moved`) down to the child rows (alias t)."""
    hops = cascade.child.hops[: cascade.depth]
    # Walk back from the parent: the table before hop k holds hop k's column.
    tables = [cascade.child.table] + [hop.table for hop in hops[:-1]]
    sql, previous = f"FROM {moved} m", "m"
    for index in range(len(hops) - 1, -1, -1):
        alias = "t" if index == 0 else f"c{index}"
        sql += f" JOIN {tables[index]} {alias} ON {alias}.{hops[index].column} = {previous}.{hops[index].target}"
        previous = alias
    return sql


class Dialect:
    vendor: str
    txid: str
    now: str

    def bodies(self, table: Table, tables: Sequence[Table]) -> dict[str, list[str]]:
        """The statements logging a tracked table's inserts, updates and deletes (and its cascades)."""
        raise NotImplementedError

    def part_bodies(self, part: PartTable) -> dict[str, list[str]]:
        """The statements logging a change of a part row as an update of its owner."""
        raise NotImplementedError

    def wrap(self, table: str, bodies: dict[str, list[str]]) -> list[str]:
        """The functions and triggers running `bodies` after each event on `table`."""
        raise NotImplementedError

    def drop_all(self, cursor: Any) -> None:
        raise NotImplementedError


class Postgres(Dialect):
    vendor = "postgresql"
    txid = "pg_current_xact_id()::text::bigint"  # per output row, so a statement that changed nothing takes no xid
    now = "now()"

    def bodies(self, table: Table, tables: Sequence[Table]) -> dict[str, list[str]]:
        to_new, code_new = region_joins(table.hops, "n", "rn")
        to_old, code_old = region_joins(table.hops, "o", "ro")
        pair = f"new_rows n JOIN old_rows o ON o.{table.pk} = n.{table.pk}"
        log = f"INSERT INTO changes_change ({COLUMNS}) SELECT '{table.resource}', "
        bodies = {
            "insert": [f"{log}n.{table.pk}, 'I', {self.txid}, NULL, {code_new}, {self.now} FROM new_rows n{to_new}"],
            "update": [
                f"{log}n.{table.pk}, 'U', {self.txid}, {code_old}, {code_new}, {self.now} FROM {pair}{to_old}{to_new}"
                " WHERE ROW(o.*) IS DISTINCT FROM ROW(n.*)"
            ],
            "delete": [f"{log}o.{table.pk}, 'D', {self.txid}, {code_old}, NULL, {self.now} FROM old_rows o{to_old}"],
        }
        for cascade in cascades(table, tables):
            rest = cascade.child.hops[cascade.depth :]
            # Only rows whose own foreign key towards the region changed can have moved.
            moved = (
                f"(SELECT n.{table.pk} AS id, {region_code(rest, 'o')} AS code_old,"
                f" {region_code(rest, 'n')} AS code_new"
                f" FROM {pair} WHERE o.{rest[0].column} IS DISTINCT FROM n.{rest[0].column})"
            )
            bodies["update"].append(
                f"INSERT INTO changes_change ({COLUMNS}) SELECT '{cascade.child.resource}', t.{cascade.child.pk}, 'U', "
                f"{self.txid}, m.code_old, m.code_new, {self.now} {cascade_rows(cascade, moved)}"
                " WHERE m.code_old IS DISTINCT FROM m.code_new"
            )
        return bodies

    def part_bodies(self, part: PartTable) -> dict[str, list[str]]:
        to_new, code_new = region_joins(part.hops, "n", "rn")
        to_old, code_old = region_joins(part.hops, "o", "ro")
        pair = f"new_rows n JOIN old_rows o ON o.{part.pk} = n.{part.pk}"
        changed = "WHERE ROW(o.*) IS DISTINCT FROM ROW(n.*)"
        # One update of each owner per statement, however many of its parts the statement wrote.
        touched = {
            "insert": f"SELECT n.{part.owner} AS owner, {code_new} AS code FROM new_rows n{to_new} GROUP BY 1, 2",
            "update": f"SELECT o.{part.owner} AS owner, {code_old} AS code FROM {pair}{to_old} {changed}"
            f" UNION SELECT n.{part.owner}, {code_new} FROM {pair}{to_new} {changed}",
            "delete": f"SELECT o.{part.owner} AS owner, {code_old} AS code FROM old_rows o{to_old} GROUP BY 1, 2",
        }
        log = f"INSERT INTO changes_change ({COLUMNS}) SELECT '{part.resource}', t.owner, 'U', {self.txid}"
        return {event: [f"{log}, t.code, t.code, {self.now} FROM ({sql}) t"] for event, sql in touched.items()}

    def wrap(self, table: str, bodies: dict[str, list[str]]) -> list[str]:
        transition = {
            "insert": "NEW TABLE AS new_rows",
            "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            "delete": "OLD TABLE AS old_rows",
        }
        sql = []
        for event in EVENTS:
            name = f"{PREFIX}{table}_{event}"
            body = ";\n    ".join(bodies[event])
            sql.append(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                f"BEGIN\n    {body};\n    RETURN NULL;\nEND\n$$"
            )
            sql.append(f"DROP TRIGGER IF EXISTS {PREFIX}{event} ON {table}")
            sql.append(
                f"CREATE TRIGGER {PREFIX}{event} AFTER {event.upper()} ON {table} "
                f"REFERENCING {transition[event]} FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
        return sql

    def drop_all(self, cursor: Any) -> None:
        cursor.execute(
            "SELECT oid::regprocedure::text FROM pg_proc WHERE proname LIKE %s", [PREFIX.replace("_", r"\_") + "%"]
        )
        for (function,) in cursor.fetchall():
            cursor.execute(f"DROP FUNCTION IF EXISTS {function} CASCADE")


class Sqlite(Dialect):
    vendor = "sqlite"
    txid = "0"  # one writer at a time: the id order is the commit order
    now = "strftime('%Y-%m-%d %H:%M:%f', 'now')"

    def bodies(self, table: Table, tables: Sequence[Table]) -> dict[str, list[str]]:
        code_new, code_old = region_code(table.hops, "NEW"), region_code(table.hops, "OLD")
        log = f"INSERT INTO changes_change ({COLUMNS}) SELECT '{table.resource}', "
        bodies = {
            "insert": [f"{log}NEW.{table.pk}, 'I', {self.txid}, NULL, {code_new}, {self.now}"],
            "update": [f"{log}NEW.{table.pk}, 'U', {self.txid}, {code_old}, {code_new}, {self.now}"],
            "delete": [f"{log}OLD.{table.pk}, 'D', {self.txid}, {code_old}, NULL, {self.now}"],
        }
        for cascade in cascades(table, tables):
            rest = cascade.child.hops[cascade.depth :]
            moved = (
                f"(SELECT NEW.{table.pk} AS id, {region_code(rest, 'OLD')} AS code_old,"
                f" {region_code(rest, 'NEW')} AS code_new"
                f" WHERE OLD.{rest[0].column} IS NOT NEW.{rest[0].column})"
            )
            bodies["update"].append(
                f"INSERT INTO changes_change ({COLUMNS}) SELECT '{cascade.child.resource}', t.{cascade.child.pk}, 'U', "
                f"{self.txid}, m.code_old, m.code_new, {self.now} {cascade_rows(cascade, moved)}"
                " WHERE m.code_old IS NOT m.code_new"
            )
        return bodies

    def part_bodies(self, part: PartTable) -> dict[str, list[str]]:
        code_new, code_old = region_code(part.hops, "NEW"), region_code(part.hops, "OLD")
        log = f"INSERT INTO changes_change ({COLUMNS}) SELECT '{part.resource}', "
        new = f"{log}NEW.{part.owner}, 'U', {self.txid}, {code_new}, {code_new}, {self.now}"
        old = f"{log}OLD.{part.owner}, 'U', {self.txid}, {code_old}, {code_old}, {self.now}"
        return {
            "insert": [new],
            "update": [old, f"{new} WHERE OLD.{part.owner} IS NOT NEW.{part.owner}"],
            "delete": [old],
        }

    def wrap(self, table: str, bodies: dict[str, list[str]]) -> list[str]:
        sql = []
        for event in EVENTS:
            name = f"{PREFIX}{table}_{event}"
            body = ";\n    ".join(bodies[event])
            sql.append(f"DROP TRIGGER IF EXISTS {name}")
            sql.append(f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table} FOR EACH ROW BEGIN\n    {body};\nEND")
        return sql

    def drop_all(self, cursor: Any) -> None:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s", [PREFIX + "%"])
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


DIALECTS: dict[str, Dialect] = {"postgresql": Postgres(), "sqlite": Sqlite()}


def trigger_sql(
    vendor: str, apps: Any, tracked: Iterable[Tracked] = TRACKED, parts: Iterable[Part] = PARTS
) -> list[str]:
    """Every statement that (re)creates the triggers of the declaration on `vendor`."""
    dialect = DIALECTS[vendor]
    tables = resolve(tracked, apps)
    bodies: dict[str, dict[str, list[str]]] = {}
    for table in tables:
        bodies[table.table] = dialect.bodies(table, tables)
    for part in resolve_parts(parts, apps):
        into = bodies.setdefault(part.table, {event: [] for event in EVENTS})
        for event, statements in dialect.part_bodies(part).items():
            into[event].extend(statements)
    return [statement for table, events in bodies.items() for statement in dialect.wrap(table, events)]


def install(connection: Any, apps: Any, tracked: Iterable[Tracked] = TRACKED, parts: Iterable[Part] = PARTS) -> None:
    """Drop every change-log trigger on the database and create those of the declaration."""
    dialect = DIALECTS[connection.vendor]
    with connection.cursor() as cursor:
        dialect.drop_all(cursor)
        for statement in trigger_sql(connection.vendor, apps, tracked, parts):
            cursor.execute(statement)


def uninstall(connection: Any) -> None:
    with connection.cursor() as cursor:
        DIALECTS[connection.vendor].drop_all(cursor)
