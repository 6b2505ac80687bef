"""Applying a batch's staged rows: lock and check what the preview read, write set-based, undo by batch id.

The confirmation locks the records the preview read and refuses the batch if any version moved
(StaleBatch); then one statement per step — INSERT … SELECT from the staging table, UPDATE … FROM
it — writes the rows, and their history rows carry the batch id. Undo deletes what the batch
created and puts back the `before` values of what it changed, unless a later change touched them.
Nothing here knows a register: the steps say which model, which fields, in which order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections, models, router
from django.utils import timezone

from regions.db import statistics_refresh
from workbooks.models import StagedAction, StagedRow
from workbooks.staging import TABLE


class StaleBatch(Exception):
    """A record the preview read has changed since (or a staged create now collides)."""


@dataclass(frozen=True)
class Parent:
    """How a staged create finds a parent created by the same batch: by the parent's natural key."""

    field: str  # the child's foreign key attname, e.g. "household_id"
    model: type[models.Model]
    key: str  # the parent's unique field, e.g. "number"


@dataclass(frozen=True)
class Step:
    """The staged rows of one model, action and phase, applied in one statement."""

    model: type[models.Model]
    action: str  # StagedAction.CREATE or UPDATE
    phase: int
    # Attnames written: for a create every column but the id and the auto times, for an update
    # the fields it may change (and that undo puts back).
    fields: tuple[str, ...]
    parent: Parent | None = None

    @property
    def target(self) -> str:
        return str(self.model._meta.label_lower)


class _Sql:
    """SQL fragments for one connection: reading a staged JSON value as a column's type."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.quote = connection.ops.quote_name

    def value(self, field: models.Field[Any, Any], column: str = "values", alias: str = "s") -> str:
        name = field.attname
        if self.postgres:
            return f"CAST({alias}.{self.quote(column)} ->> '{name}' AS {field.db_type(self.connection)})"
        return f"json_extract({alias}.{self.quote(column)}, '$.{name}')"

    def staged(self, model: type[models.Model], column: str = "values") -> tuple[str, Callable[[Any], str]]:
        """The staged rows (alias s) for a FROM clause, and how a field's staged value is read from them.

        PostgreSQL reads each staged row's JSON into the model's row type once (jsonb_populate_record,
        the column types' own input functions) instead of one ->> and cast per field and row.
        """
        staged = f"{self.quote(TABLE)} s"
        if not self.postgres:
            return staged, lambda field: self.value(field, column)
        record = f"jsonb_populate_record(NULL::{self.quote(model._meta.db_table)}, s.{self.quote(column)})"
        return f"{staged} CROSS JOIN LATERAL {record} r", lambda field: f"r.{self.quote(field.column)}"

    def ids(self, ids: Sequence[int]) -> tuple[str, list[Any]]:
        """`IN …` for a list of ids as one parameter."""
        if self.postgres:
            return "= ANY(%s)", [list(ids)]
        return "IN (SELECT value FROM json_each(%s))", [json.dumps(list(ids))]


def _fields(model: type[models.Model], names: Iterable[str]) -> list[models.Field[Any, Any]]:
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    return [by_attname[name] for name in names]


# The staged rows of one step, with _step_params.
STEP_ROWS = "s.batch_id = %s AND s.target = %s AND s.action = %s AND s.phase = %s"


def _step_params(batch_id: int, step: Step) -> list[Any]:
    return [batch_id, step.target, step.action, step.phase]


def _auto_times(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [
        f for f in model._meta.concrete_fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]


def _history_columns(model: type[models.Model]) -> tuple[str, list[str]]:
    """The history table and the model columns it copies."""
    history = model.history.model  # type: ignore[attr-defined]
    tracked = [f.column for f in history.tracked_fields]
    return history._meta.db_table, tracked


def _write_history(
    sql: _Sql,
    cursor: Any,
    model: type[models.Model],
    *,
    source: str,
    params: list[Any],
    kind: str,
    when: datetime,
    user_id: int | None,
    reason: str,
    batch_id: int | None,
) -> None:
    """One history row per row of `model` that `source` (a FROM … WHERE clause on alias t) selects."""
    statement, values = _history_insert(
        sql, model, source=source, kind=kind, when=when, user_id=user_id, reason=reason, batch_id=batch_id
    )
    cursor.execute(statement, [*values, *params])


def _history_insert(
    sql: _Sql,
    model: type[models.Model],
    *,
    source: str,
    kind: str,
    when: datetime,
    user_id: int | None,
    reason: str,
    batch_id: int | None,
) -> tuple[str, list[Any]]:
    """The INSERT … SELECT of _write_history and its parameters (the source's own come after them)."""
    table, columns = _history_columns(model)
    quote = sql.quote
    names = [*columns, "history_date", "history_change_reason", "history_type", "history_user_id", "import_batch_id"]
    picked = ", ".join(f"t.{quote(c)}" for c in columns)
    stamp = sql.connection.ops.adapt_datetimefield_value(when)
    statement = (
        f"INSERT INTO {quote(table)} ({', '.join(quote(n) for n in names)}) "
        f"SELECT {picked}, %s, %s, %s, %s, %s {source}"
    )
    return statement, [stamp, reason, kind, user_id, batch_id]


def _history_writer(
    sql: _Sql, cursor: Any, *, when: datetime, user_id: int | None, reason: str
) -> Callable[[type[models.Model], str, list[Any], str, int | None], None]:
    """history(model, source, params, kind, batch id): _write_history with this run's time, user and reason."""

    def history(model: type[models.Model], source: str, params: list[Any], kind: str, batch: int | None) -> None:
        _write_history(
            sql,
            cursor,
            model,
            source=source,
            params=params,
            kind=kind,
            when=when,
            user_id=user_id,
            reason=reason,
            batch_id=batch,
        )

    return history


def lock_and_check(batch_id: int, models_in_order: Sequence[type[models.Model]]) -> None:
    """Lock every record the batch read (in a fixed order) and refuse if any version moved."""
    connection = connections[router.db_for_write(StagedRow)]
    sql = _Sql(connection)
    quote = sql.quote
    with connection.cursor() as cursor:
        for model in models_in_order:
            table = quote(model._meta.db_table)
            target = model._meta.label_lower
            staged = (
                f"SELECT s.object_id FROM {quote(TABLE)} s WHERE s.batch_id = %s AND s.target = %s "
                "AND s.version IS NOT NULL"
            )
            if sql.postgres:
                cursor.execute(
                    f"SELECT t.id FROM {table} t WHERE t.id IN ({staged}) ORDER BY t.id FOR UPDATE",
                    [batch_id, target],
                )
            cursor.execute(
                f"SELECT COUNT(*) FROM {quote(TABLE)} s LEFT JOIN {table} t ON t.id = s.object_id "
                "WHERE s.batch_id = %s AND s.target = %s AND s.version IS NOT NULL "
                "AND (t.id IS NULL OR t.version <> s.version)",
                [batch_id, target],
            )
            if cursor.fetchone()[0]:
                raise StaleBatch(target)


def apply_steps(batch_id: int, steps: Sequence[Step], *, user_id: int | None, reason: str) -> dict[str, list[int]]:
    """Apply the batch's staged rows step by step; returns the ids created per model label."""
    connection = connections[router.db_for_write(StagedRow)]
    sql = _Sql(connection)
    quote = sql.quote
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    created: dict[str, list[int]] = {}
    grown: dict[type[models.Model], int] = {}
    with connection.cursor() as cursor:
        history = _history_writer(sql, cursor, when=now, user_id=user_id, reason=reason)

        def history_insert(
            model: type[models.Model], source: str, kind: str, batch: int | None
        ) -> tuple[str, list[Any]]:
            return _history_insert(
                sql, model, source=source, kind=kind, when=now, user_id=user_id, reason=reason, batch_id=batch
            )

        for step in sorted(steps, key=lambda s: s.phase):
            model = step.model
            table = quote(model._meta.db_table)
            fields = _fields(model, step.fields)
            autos = _auto_times(model)
            where = STEP_ROWS
            params = _step_params(batch_id, step)
            versioned = any(f.attname == "version" for f in model._meta.concrete_fields)
            if step.action == StagedAction.CREATE:
                columns = [f.column for f in fields]
                staged, value = sql.staged(model)
                values = [value(f) for f in fields]
                if step.parent is not None:
                    parent = step.parent
                    parent_table = quote(parent.model._meta.db_table)
                    position = [f.attname for f in fields].index(parent.field)
                    values[position] = (
                        f"COALESCE({values[position]}, (SELECT p.id FROM {parent_table} p "
                        f"WHERE p.{quote(parent.key)} = s.parent_key))"
                    )
                columns += [f.column for f in autos]
                values += ["%s"] * len(autos)
                insert = (
                    f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "
                    f"SELECT {', '.join(values)} FROM {staged} WHERE {where} ORDER BY s.seq"
                )
                insert_params = [*([stamp] * len(autos)), *params]
                if sql.postgres:
                    # The history rows from the inserted rows themselves, in the same statement: the
                    # new rows are not looked up again by their ids.
                    written, history_params = history_insert(model, "FROM inserted t", "+", batch_id)
                    cursor.execute(
                        f"WITH inserted AS ({insert} RETURNING *), written AS ({written}) SELECT id FROM inserted",
                        [*insert_params, *history_params],
                    )
                    ids = [row[0] for row in cursor.fetchall()]
                    created.setdefault(model._meta.label_lower, []).extend(ids)
                    grown[model] = grown.get(model, 0) + len(ids)
                    continue
                cursor.execute(f"{insert} RETURNING id", insert_params)
                ids = [row[0] for row in cursor.fetchall()]
                created.setdefault(model._meta.label_lower, []).extend(ids)
                if ids:
                    clause, id_params = sql.ids(ids)
                    history(model, f"FROM {table} t WHERE t.id {clause}", id_params, "+", batch_id)
                continue
            staged, value = sql.staged(model)
            assignments = [f"{quote(f.column)} = {value(f)}" for f in fields]
            if versioned:
                assignments.append(f"{quote('version')} = {table}.{quote('version')} + 1")
            assignments += [f"{quote(f.column)} = %s" for f in autos if getattr(f, "auto_now", False)]
            auto_params = [stamp for f in autos if getattr(f, "auto_now", False)]
            update = (
                f"UPDATE {table} SET {', '.join(assignments)} FROM {staged} WHERE {where} AND {table}.id = s.object_id"
            )
            if sql.postgres:
                written, history_params = history_insert(model, "FROM updated t", "~", batch_id)
                cursor.execute(
                    f"WITH updated AS ({update} RETURNING {table}.*) {written}",
                    [*auto_params, *params, *history_params],
                )
                continue
            cursor.execute(update, [*auto_params, *params])
            history(
                model,
                f"FROM {table} t JOIN {quote(TABLE)} s ON t.id = s.object_id WHERE {where}",
                params,
                "~",
                batch_id,
            )
    # A roster imported into a new county must not be planned on the statistics of an empty table
    # by the recomputation that follows it.
    for model, rows in grown.items():
        statistics_refresh(models=[model], written=rows)
    return created


class LaterChange(Exception):
    """A record the batch wrote has been changed since; the batch cannot be undone as a whole."""

    def __init__(self, model: type[models.Model]) -> None:
        super().__init__(str(model._meta.verbose_name))
        self.model = model


def undo_steps(batch_id: int, steps: Sequence[Step], *, user_id: int | None, reason: str) -> dict[str, list[int]]:
    """Undo an applied batch: delete what it created, restore what it changed; returns the deleted ids.

    Refused (LaterChange) when any record it wrote has a later history row.
    """
    connection = connections[router.db_for_write(StagedRow)]
    sql = _Sql(connection)
    quote = sql.quote
    now = timezone.now()
    written = {step.model for step in steps}
    with connection.cursor() as cursor:
        history = _history_writer(sql, cursor, when=now, user_id=user_id, reason=reason)

        for model in sorted(written, key=lambda m: m._meta.label_lower):
            history_table, _ = _history_columns(model)
            quoted = quote(history_table)
            cursor.execute(
                f"SELECT 1 FROM {quoted} h WHERE h.import_batch_id = %s AND EXISTS "
                f"(SELECT 1 FROM {quoted} later WHERE later.id = h.id AND later.history_id > h.history_id) LIMIT 1",
                [batch_id],
            )
            if cursor.fetchone():
                raise LaterChange(model)
        deleted: dict[str, list[int]] = {}
        for step in sorted(steps, key=lambda s: -s.phase):
            model = step.model
            table = quote(model._meta.db_table)
            if step.action == StagedAction.UPDATE:
                fields = _fields(model, step.fields)
                assignments = [f"{quote(f.column)} = {sql.value(f, 'before')}" for f in fields]
                if any(f.attname == "version" for f in model._meta.concrete_fields):
                    # Forward, never back to a version an open form or another preview already saw.
                    assignments.append(f"{quote('version')} = {table}.{quote('version')} + 1")
                where = STEP_ROWS
                params = _step_params(batch_id, step)
                cursor.execute(
                    f"UPDATE {table} SET {', '.join(assignments)} FROM {quote(TABLE)} s "
                    f"WHERE {where} AND {table}.id = s.object_id",
                    params,
                )
                history(
                    model,
                    f"FROM {table} t JOIN {quote(TABLE)} s ON t.id = s.object_id WHERE {where}",
                    params,
                    "~",
                    None,
                )
                continue
            history_table, _ = _history_columns(model)
            label = model._meta.label_lower
            if label in deleted:
                continue
            cursor.execute(
                f"SELECT id FROM {quote(history_table)} WHERE import_batch_id = %s AND history_type = '+'",
                [batch_id],
            )
            ids = [row[0] for row in cursor.fetchall()]
            deleted[label] = ids
            if not ids:
                continue
            clause, id_params = sql.ids(ids)
            history(model, f"FROM {table} t WHERE t.id {clause}", id_params, "-", None)
            cursor.execute(f"DELETE FROM {table} WHERE id {clause}", id_params)
    return deleted


def create_fields(model: type[models.Model]) -> tuple[str, ...]:
    """Every column a new row gets from the staging table: all but the id and the automatic times."""
    return tuple(
        f.attname
        for f in model._meta.concrete_fields
        if not f.primary_key and not getattr(f, "auto_now", False) and not getattr(f, "auto_now_add", False)
    )


def new_row_defaults(model: type[models.Model]) -> dict[str, Any]:
    """The default of every column create_fields names (a callable default called once: give such fields per row)."""
    return {f.attname: f.get_default() for f in model._meta.concrete_fields if f.attname in create_fields(model)}
