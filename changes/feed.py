"""The change feed: which rows of a resource changed after a cursor, exactly once in order, never behind it.

PostgreSQL orders the log by (txid, id) and serves only changes of transactions older than the oldest
one still running (`pg_snapshot_xmin`): those have all committed or rolled back, so no change can
later appear before a cursor already handed out, even when two transactions commit in the opposite
order to the one in which they started. SQLite has one writer at a time, so the id order is the
commit order and every committed change is settled.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

from changes.models import Change, Op, PrunedThrough
from changes.tracked import RESOURCES

MAX_ID = 2**63 - 1
MAX_LIMIT = 10_000
CURSOR = re.compile(r"(\d{1,19})\.(\d{1,19})")


class InvalidCursor(ValueError):
    """The cursor is not one this feed hands out (HTTP 400)."""


class CursorExpired(Exception):
    """Changes after the cursor have been pruned: the client must sync in full again (HTTP 410)."""


@dataclass(frozen=True, order=True)
class Position:
    """A place in the feed's order: everything at or before it has been served."""

    txid: int
    id: int

    def encode(self) -> str:
        return f"{self.txid}.{self.id}"

    @classmethod
    def decode(cls, cursor: str) -> Position:
        match = CURSOR.fullmatch(cursor)
        if match is None or max(int(match[1]), int(match[2])) > MAX_ID:
            raise InvalidCursor(f"无效的同步游标：{cursor[:40]}")
        return cls(int(match[1]), int(match[2]))

    def after(self) -> RawSQL:
        """Changes after this position: a row comparison, which the (resource, txid, id) index ranges over
        (an OR of two conditions would be scanned from the resource's first change)."""
        return RawSQL("(changes_change.txid, changes_change.id) > (%s, %s)", (self.txid, self.id), BooleanField())

    def at_or_before(self) -> RawSQL:
        return RawSQL("(changes_change.txid, changes_change.id) <= (%s, %s)", (self.txid, self.id), BooleanField())


START = Position(0, 0)


@dataclass(frozen=True)
class FeedItem:
    row_id: int
    op: str  # the row's latest change in this page: Op.INSERT, UPDATE or DELETE
    in_scope: bool  # False: a tombstone — deleted, or moved out of the client's region


@dataclass(frozen=True)
class FeedPage:
    items: list[FeedItem]
    next_cursor: str
    has_more: bool  # False: every settled change was served; ask again later with next_cursor


@dataclass(frozen=True)
class Horizon:
    """What is settled now: changes before `txid` (PostgreSQL) or up to `change_id` (SQLite)."""

    txid: int | None
    change_id: int | None

    def settled(self) -> Q:
        return Q(txid__lt=self.txid) if self.txid is not None else Q(id__lte=self.change_id or 0)

    def position(self) -> Position:
        """The position right after every settled change."""
        if self.txid is not None:
            return Position(self.txid - 1, MAX_ID)
        return Position(0, self.change_id or 0)


def horizon() -> Horizon:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            return Horizon(txid=int(cursor.fetchone()[0]), change_id=None)
    latest = Change.objects.order_by("-id").values_list("id", flat=True).first()
    return Horizon(txid=None, change_id=latest or 0)


def current_cursor() -> str:
    """Where a full sync starts following the feed: take it before reading the records."""
    return horizon().position().encode()


def in_scope(prefix: str, codes: Sequence[str] = ()) -> Q:
    """Changes that concern a client of region prefix `prefix`: the row was or is inside it, or in one of the
    regions `codes` (those above the client's, whose thresholds and targets it inherits)."""
    if prefix == "":
        return Q()
    scope = Q(region_code_old__startswith=prefix) | Q(region_code_new__startswith=prefix)
    if codes:
        scope |= Q(region_code_old__in=codes) | Q(region_code_new__in=codes)
    return scope


def settled_changes(
    resource: str, prefix: str, since: Position, now: Horizon, codes: Sequence[str] = ()
) -> QuerySet[Change]:
    return Change.objects.filter(since.after(), now.settled(), in_scope(prefix, codes), resource=resource).order_by(
        "txid", "id"
    )


def read(resource: str, prefix: str, cursor: str | None, limit: int, codes: Sequence[str] = ()) -> FeedPage:
    """The rows of `resource` that changed after `cursor` inside region prefix `prefix` ('' = all) or in the
    regions `codes`."""
    if resource not in RESOURCES:
        raise ValueError(f"unknown resource {resource!r}")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    since = START if cursor is None else Position.decode(cursor)
    now = horizon()
    rows = list(
        settled_changes(resource, prefix, since, now, codes).values_list(
            "txid", "id", "row_id", "op", "region_code_new"
        )[:limit]
    )
    # After reading: a prune that committed before the read above is seen here.
    pruned = PrunedThrough.objects.order_by("-txid", "-change_id").first()
    if pruned is not None and since < Position(pruned.txid, pruned.change_id):
        raise CursorExpired("同步游标之后的变更记录已被清理，请重新全量同步")
    latest: dict[int, FeedItem] = {}
    for _txid, _id, row_id, op, code_new in rows:
        inside = op != Op.DELETE and (prefix == "" or (code_new or "").startswith(prefix) or code_new in codes)
        earlier = latest.pop(row_id, None)  # a row sits where its latest change in the page is
        if earlier is not None and earlier.op == Op.INSERT and op == Op.UPDATE:
            op = Op.INSERT  # created and then changed since the cursor: still new to the client
        latest[row_id] = FeedItem(row_id=row_id, op=op, in_scope=inside)
    has_more = len(rows) == limit
    # A short page served every settled change: the cursor moves to the horizon, so the next read
    # does not scan again the other regions' changes it passed over.
    following = Position(rows[-1][0], rows[-1][1]) if has_more else max(since, now.position())
    return FeedPage(items=list(latest.values()), next_cursor=following.encode(), has_more=has_more)
