"""Planner statistics after bulk writes.

PostgreSQL plans a query from the row counts its statistics hold (`pg_class.reltuples`), refreshed by
autovacuum a while after a table changes. A bulk write — the quarter's facts, an imported roster, the
demo county — can leave a table with many times the rows its statistics say, or with statistics taken
while it was empty: the planner then expects one row everywhere, chooses nested loops, and a query that
takes milliseconds runs for minutes (seen: the 联农带农 figure on a freshly seeded county). The writer
knows how much it wrote, so it refreshes the statistics itself when they are that far off.

ANALYZE inside a transaction counts the transaction's own new rows and takes a lock that only other
ANALYZE/VACUUM runs of the table wait for, held to the end of the transaction; hence only when the
statistics are far off, not after every write. SQLite plans without this problem and does nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection

# Refresh when a write adds more than this share of the rows the statistics count (or the table has
# never been analysed, or was analysed empty).
GROWTH_SHARE = 0.2
# Below this many rows no plan is slow enough to matter. (Not much more: a nest of four joins each
# guessed at one row explodes at a few hundred rows a table.)
MIN_ROWS = 50


def statistics_refresh(*, models: Iterable[type[Any]], written: int | None = None) -> list[str]:
    """ANALYZE the tables of `models` whose statistics undercount by much (after a write of `written`
    rows; None: compare with the table's actual size). Returns the tables analysed."""
    if connection.vendor != "postgresql":
        return []
    tables = [model._meta.db_table for model in models]
    if not tables:
        return []
    analysed = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint, relpages FROM pg_class WHERE relname = ANY(%s) AND relkind = 'r'",
            [tables],
        )
        for table, counted, pages in cursor.fetchall():
            if not _stale(cursor, table, counted, pages, written):
                continue
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
            analysed.append(table)
    return analysed


def _stale(cursor: Any, table: str, counted: int, pages: int, written: int | None) -> bool:
    if written is not None:
        return written >= MIN_ROWS and (counted <= 0 or written > counted * GROWTH_SHARE)
    # No count given: read the real one (only where the statistics count few rows, so it is cheap).
    if counted > 10_000:
        return False
    cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
    actual = cursor.fetchone()[0]
    return bool(actual >= MIN_ROWS and (counted <= 0 or actual > counted * (1 + GROWTH_SHARE)))
