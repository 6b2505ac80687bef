"""Bulk inserts with their history rows, by COPY on PostgreSQL.

An import creates a county's households and members at once. bulk_create prepares every value
of every row through the field machinery, and bulk_create_with_history then builds a second
model instance per row for its history; together they were most of an import's write time.
On PostgreSQL the ids are drawn from the table's sequence up front and the rows and their
history rows are streamed with COPY, holding the same values bulk_create_with_history would
write (auto_now fields set to one `now`, history_type "+", the batch's user and reason). Other
databases use bulk_create_with_history itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connections, models, router
from simple_history.utils import bulk_create_with_history

# Field types whose Python value psycopg writes exactly as Django's own adaptation would.
_PLAIN_FIELDS = (
    models.CharField,
    models.IntegerField,
    models.BooleanField,
    models.DateField,  # DateTimeField too
    models.UUIDField,
    models.DecimalField,
    models.ForeignKey,
    models.AutoField,
    models.BigAutoField,
)


def create_with_history(
    objects: Sequence[models.Model],
    model: type[models.Model],
    *,
    user: Any,
    reason: str,
    now: datetime,
    batch_size: int = 2000,
) -> None:
    """Insert `objects` (unsaved) and one "+" history row each; sets their pk."""
    if not objects:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        bulk_create_with_history(
            objects, model, batch_size=batch_size, default_user=user, default_change_reason=reason, default_date=now
        )
        return
    table = model._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, model._meta.pk.column, len(objects)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    for instance, pk in zip(objects, ids, strict=True):
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = connection.alias
    fields = list(model._meta.concrete_fields)
    rows = _rows(objects, fields, connection, now)
    _copy(connection, quote(table), [quote(field.column) for field in fields], rows)

    history = model.history.model  # type: ignore[attr-defined]
    tracked = list(history.tracked_fields)
    extra = ["history_date", "history_change_reason", "history_type", "history_user_id"]
    history_columns = [quote(field.column) for field in tracked] + [quote(name) for name in extra]
    tail = (now, reason, "+", getattr(user, "pk", None))
    by_attname = {field.attname: index for index, field in enumerate(fields)}
    positions = [by_attname[field.attname] for field in tracked]
    history_rows = [(*[row[index] for index in positions], *tail) for row in rows]
    _copy(connection, quote(history._meta.db_table), history_columns, history_rows)


def _rows(
    objects: Sequence[models.Model], fields: list[models.Field[Any, Any]], connection: Any, now: datetime
) -> list[tuple[Any, ...]]:
    """Each instance's column values, as bulk_create would save them (auto_now fields set to now)."""
    getters: list[Any] = []
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            getters.append(("now", field.attname))
        elif isinstance(field, _PLAIN_FIELDS) and not isinstance(field, models.JSONField):
            getters.append(("plain", field.attname))
        else:
            getters.append(("prepare", field))
    rows = []
    for instance in objects:
        values = instance.__dict__
        row = []
        for kind, target in getters:
            if kind == "plain":
                row.append(values[target])
            elif kind == "now":
                values[target] = now
                row.append(now)
            else:
                row.append(target.get_db_prep_save(target.pre_save(instance, True), connection))
        rows.append(tuple(row))
    return rows


def _copy(connection: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
