"""The staging table: what a preview would write, with the version of every record it read.

A register's preview stages rows (StagedRow) through a Stager: each new record's values, each
changed record's new and old values, and the version of every record it read. workbooks.apply
then checks, applies and undoes them set-based.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connections, models, router

from workbooks.models import StagedRow

logger = logging.getLogger(__name__)

TABLE = StagedRow._meta.db_table
# Rows per INSERT on SQLite (executemany); on PostgreSQL, rows handed to the open COPY at a time.
CHUNK_ROWS = 5000
STREAM_ROWS = 500


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
    """Collects a preview's staged rows and writes them while the register is still planning.

    On PostgreSQL one COPY stays open while the planner works: the server stores the rows on the
    other core while the planner plans the next ones, instead of the planner waiting for a COPY
    of each chunk. A query the planner makes meanwhile (the connection cannot run one while a
    COPY is open) first ends that COPY; the next rows open another. Elsewhere rows go in chunks
    of INSERTs. Use it as a context manager: leaving normally ends the last COPY (a database
    error surfaces there), leaving on an exception abandons it, so the caller's transaction rolls
    back with nothing of the batch staged.
    """

    COLUMNS = ("batch_id", "phase", "seq", "target", "action", "object_id", "version", "parent_key", "row")

    def __init__(self, batch_id: int) -> None:
        self.batch_id = batch_id
        self.connection = connections[router.db_for_write(StagedRow)]
        self.streaming = self.connection.vendor == "postgresql"
        self.pending: list[tuple[Any, ...]] = []
        self.count = 0
        # While a COPY is open: psycopg's copy() context and the Django cursor it runs on.
        self._copy: tuple[Any, Any, Any] | None = None
        self._watching: Any = None

    def __enter__(self) -> Stager:
        if self.streaming:
            self._watching = self.connection.execute_wrapper(self._before_query)
            self._watching.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: Any) -> None:
        try:
            if error is None:
                self.flush()
        except BaseException as failure:
            error = failure
            raise
        finally:
            if error is not None:
                self._abandon(error)
            if self._watching is not None:
                watching, self._watching = self._watching, None
                watching.__exit__(None, None, None)

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
        if len(self.pending) >= (STREAM_ROWS if self.streaming else CHUNK_ROWS):
            self._send()

    def flush(self) -> None:
        """Write the rows not yet written and end the COPY: every row added so far is then in the table."""
        self._send()
        self._end_copy()

    def _send(self) -> None:
        rows, self.pending = self.pending, []
        if not rows:
            return
        if not self.streaming:
            columns = [*self.COLUMNS, "values", "before"]
            names = ", ".join(self.connection.ops.quote_name(c) for c in columns)
            marks = ", ".join(["%s"] * len(columns))
            with self.connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {self.connection.ops.quote_name(TABLE)} ({names}) VALUES ({marks})", rows
                )
            return
        if self._copy is None:
            self._open_copy()
        assert self._copy is not None
        write_row = self._copy[2].write_row
        with self.connection.wrap_database_errors:
            for staged in rows:
                write_row(staged)

    def _open_copy(self) -> None:
        quote = self.connection.ops.quote_name
        names = ", ".join(quote(c) for c in [*self.COLUMNS, "values", "before"])
        cursor = self.connection.cursor()
        try:
            context = cursor.cursor.copy(f"COPY {quote(TABLE)} ({names}) FROM STDIN")
            with self.connection.wrap_database_errors:
                copy = context.__enter__()
        except BaseException:
            cursor.close()
            raise
        self._copy = (context, cursor, copy)

    def _end_copy(self) -> None:
        """End the open COPY, waiting for the server to store what it was sent (its errors are raised here)."""
        if self._copy is None:
            return
        (context, cursor, _), self._copy = self._copy, None
        try:
            with self.connection.wrap_database_errors:
                context.__exit__(None, None, None)
        finally:
            cursor.close()

    def _abandon(self, error: BaseException) -> None:
        """Abort the open COPY (the server discards its rows) so the transaction can roll back."""
        self.pending = []
        if self._copy is None:
            return
        (context, cursor, _), self._copy = self._copy, None
        try:
            context.__exit__(type(error), error, error.__traceback__)
        except BaseException as failure:  # the error that brought us here is the one to report
            if failure is not error:
                logger.warning("Staging COPY of batch %s not ended cleanly: %s", self.batch_id, failure)
        finally:
            try:
                cursor.close()
            except Exception as failure:
                logger.warning("Staging cursor of batch %s not closed: %s", self.batch_id, failure)

    def _before_query(self, execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        """A query on the connection while a COPY is open: end the COPY first."""
        self._end_copy()
        return execute(sql, params, many, context)


def discard(batch_id: int) -> None:
    """Forget a batch's staged rows (a new check, or the retention period ended)."""
    StagedRow.objects.filter(batch_id=batch_id).delete()


def staged_ids(batch_id: int, model: type[models.Model], action: str) -> list[int]:
    """The object ids of a batch's staged updates or checks of one model."""
    rows = StagedRow.objects.filter(batch_id=batch_id, target=model._meta.label_lower, action=action)
    return [int(pk) for pk in rows.values_list("object_id", flat=True) if pk is not None]
