"""The staging table: what a preview would write, with the version of every record it read.

A register's preview stages rows (StagedRow) through a Stager: each new record's values, each
changed record's new and old values, and the version of every record it read. workbooks.apply
then checks, applies and undoes them set-based.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connections, models, router

from workbooks.models import StagedRow

TABLE = StagedRow._meta.db_table
# Rows per INSERT on SQLite (executemany) and per COPY chunk on PostgreSQL.
CHUNK_ROWS = 5000


def _json_default(value: Any) -> Any:
    """Values json cannot write, as the SQL in apply.py reads them back: UUIDs as hex (what SQLite
    stores; PostgreSQL reads it too), amounts as exact text, dates in ISO form."""
    if value.__class__ is Decimal:  # the most frequent by far (an income row holds twenty)
        return str(value)
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be staged")


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default)
# What _encoder.encode() runs for a dict, without its Python layers and its check for circular
# references (staged values are flat): a preview encodes a quarter of a million of them.
_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_chunks = (
    _make_encoder(None, _json_default, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    if _make_encoder is not None
    else None
)


def _encode_json(values: dict[str, Any]) -> str:
    return "".join(_chunks(values, 0)) if _chunks is not None else _encoder.encode(values)


class Stager:
    """Collects a preview's staged rows and writes them in chunks (COPY on PostgreSQL)."""

    COLUMNS = ("batch_id", "phase", "seq", "target", "action", "object_id", "version", "parent_key", "row")

    def __init__(self, batch_id: int) -> None:
        self.batch_id = batch_id
        self.connection = connections[router.db_for_write(StagedRow)]
        self.pending: list[tuple[Any, ...]] = []
        self.count = 0

    def add(
        self,
        *,
        phase: int,
        model: type[models.Model],
        action: str,
        values: dict[str, Any] | None = None,
        object_id: int | None = None,
        version: int | None = None,
        parent_key: str = "",
        row: int | None = None,
        before: dict[str, Any] | None = None,
    ) -> None:
        self.count += 1
        self.pending.append(
            (
                self.batch_id,
                phase,
                self.count,
                model._meta.label_lower,
                action,
                object_id,
                version,
                parent_key,
                row,
                _encode_json(values or {}),
                None if before is None else _encode_json(before),
            )
        )
        if len(self.pending) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        rows, self.pending = self.pending, []
        if not rows:
            return
        columns = [*self.COLUMNS, "values", "before"]
        quote = self.connection.ops.quote_name
        names = ", ".join(quote(c) for c in columns)
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                with (
                    self.connection.wrap_database_errors,
                    cursor.cursor.copy(f"COPY {quote(TABLE)} ({names}) FROM STDIN") as copy,
                ):
                    for staged in rows:
                        copy.write_row(staged)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {quote(TABLE)} ({names}) VALUES ({marks})", rows)


def discard(batch_id: int) -> None:
    """Forget a batch's staged rows (a new check, or the retention period ended)."""
    StagedRow.objects.filter(batch_id=batch_id).delete()


def staged_ids(batch_id: int, model: type[models.Model], action: str) -> list[int]:
    """The object ids of a batch's staged updates or checks of one model."""
    rows = StagedRow.objects.filter(batch_id=batch_id, target=model._meta.label_lower, action=action)
    return [int(pk) for pk in rows.values_list("object_id", flat=True) if pk is not None]
