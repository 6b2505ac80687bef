"""A roster import's writes, prepared as PostgreSQL COPY text by the preview for the confirmation.

Planning a county roster against the registry is most of an import's time, and the confirmation
used to plan the whole file a second time, under row locks, to write exactly what the registry
allowed at that moment. On PostgreSQL the preview now also turns what it would write into COPY
text, kept next to the upload (signed, so nothing but the preview's own output is ever loaded),
together with the version of every household and open case it read.

The confirmation locks those households and writes the prepared rows when all of this holds:
the same user confirms with the same region and role; none of the households or their open
cases changed since the preview (every edit of a household or its members bumps the household's
version, every case edit the case's); no case is being eliminated (that rule reads incomes and
thresholds, which carry no version). A record created meanwhile with the same 户编号 or 身份证号
trips a unique constraint. In every other case — or when a constraint trips — it plans the file
again under the locks, as before, and writes that plan through the same code.

New rows are COPY lines without the values only the confirmation knows: ids (drawn from the
sequences then), the parent household's id when the household is new too, and the time. Updates
are kept as (id, new values) and applied to the rows as read under the lock, so their history
rows hold the whole record as it is written.
"""

from __future__ import annotations

import hmac
import pickle
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

from django.db import connections, models, router
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from psycopg.copy import QueuedLibpqWriter
from simple_history.utils import bulk_update_with_history

from households import services
from households.excel.plan import in_chunks
from households.models import Household, Member, MonitoringCase, Relation

HOUSEHOLD_FIELDS = ["household_type", "lifted_year", "relocated", "phone"]
# The member fields a roster row sets, besides the 身份证号 it is matched by.
MEMBER_FIELDS = [name for name in services.MEMBER_FIELDS if name != "id_number"]
CASE_FIELDS = ["category", "identified_month", "eliminated_month", "elimination_method"]
# What an import updates on an existing record (and what a prepared update keeps).
UPDATED = {
    "households": ["village_id", *HOUSEHOLD_FIELDS],
    "members": [*MEMBER_FIELDS, "is_active"],
    "cases": CASE_FIELDS,
}
MODELS: dict[str, type[models.Model]] = {"households": Household, "members": Member, "cases": MonitoringCase}
# Rows per COPY chunk (about 200 KB): small enough for the server to work on one while the next is made.
CHUNK_ROWS = 2000

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# Field types whose Python value _text writes exactly as Django would save it.
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


def _str_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return str.translate(value, _ESCAPES)
    return value  # a TextChoices member joins as its value


def _bool_text(value: Any) -> str:
    return "\\N" if value is None else ("t" if value else "f")


def _date_text(value: Any) -> str:
    if value is None:
        return "\\N"
    return value.isoformat()


def _number_text(value: Any) -> str:
    return "\\N" if value is None else str(value)  # int, Decimal, UUID; IntegerChoices members print their value


def _converter(field: models.Field[Any, Any]) -> Any:
    """The COPY text function for a field's values: one per field, chosen once (a county has millions)."""
    if isinstance(field, models.CharField):
        return _str_text
    if isinstance(field, models.BooleanField):
        return _bool_text
    if isinstance(field, models.DateField):
        return _date_text
    return _number_text


class _Layout:
    """How one model's new rows and their history rows are laid out as COPY lines.

    A line holds the "early" columns (known at planning, kept as a tuple of values), then the
    "late" ones the confirmation appends: the id, the parent household's id (members, cases) and
    the auto_now times.
    """

    def __init__(self, model: type[models.Model], parent: str | None) -> None:
        meta = model._meta
        fields = list(meta.concrete_fields)
        auto = [f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
        self.model = model
        self.late = [meta.pk.attname, *([parent] if parent else []), *auto]
        self.auto_count = len(auto)
        early = [f for f in fields if f.attname not in self.late]
        unusual = [f.name for f in early if not isinstance(f, _PLAIN_FIELDS)]
        if unusual:
            raise TypeError(f"{meta.label}: no COPY text for fields {unusual}")
        self.early = [f.attname for f in early]
        self.values: Any = itemgetter(*self.early)  # instance.__dict__ → the early values
        self.converters = [_converter(f) for f in early]
        column = {f.attname: f.column for f in fields}
        self.columns = [column[name] for name in [*self.early, *self.late]]

        history = model.history.model  # type: ignore[attr-defined]
        tracked = [f.attname for f in history.tracked_fields]
        history_early = [name for name in self.early if name in tracked]
        positions = [self.early.index(name) for name in history_early]
        # None: the history keeps every early column, in the same order.
        self.history_pick: Any = None if positions == list(range(len(self.early))) else itemgetter(*positions)
        if meta.pk.attname not in tracked:
            raise TypeError(f"{meta.label}: the history must keep the id")
        self.history_parent = parent is not None and parent in tracked
        self.history_auto_count = len([name for name in auto if name in tracked])
        extra = ["history_date", "history_change_reason", "history_type", "history_user_id"]
        self.history_table = history._meta.db_table
        self.history_columns = [
            *[column[n] for n in history_early],
            *[column[n] for n in self.late if n in tracked],
            *extra,
        ]

    def lines(
        self, rows: list[tuple[Any, ...]], ids: list[int], parents: list[int], now: str, tail: str, histories: list[str]
    ) -> Iterator[str]:
        """COPY lines of the rows, and their history lines appended to `histories`, as they go."""
        converters, pick = self.converters, self.history_pick
        autos = f"\t{now}" * self.auto_count
        history_end = ("\t" + now) * self.history_auto_count + f"\t{tail}\n"
        keep_parent = self.history_parent
        for position, (row, pk) in enumerate(zip(rows, ids, strict=True)):
            texts = [convert(value) for convert, value in zip(converters, row, strict=True)]
            line = "\t".join(texts)
            history = line if pick is None else "\t".join(pick(texts))
            if parents:
                parent = parents[position]
                yield f"{line}\t{pk}\t{parent}{autos}\n"
                late = f"\t{pk}\t{parent}" if keep_parent else f"\t{pk}"
            else:
                yield f"{line}\t{pk}{autos}\n"
                late = f"\t{pk}"
            histories.append(f"{history}{late}{history_end}")


_KINDS = {f"{change}_{plural}": (change == "new", plural) for change in ("new", "updated") for plural in UPDATED}
LAYOUTS = {
    "households": _Layout(Household, None),
    "members": _Layout(Member, "household_id"),
    "cases": _Layout(MonitoringCase, "household_id"),
}


# What saved rows mean: a different one (the models' columns changed since) is never loaded.
LAYOUT_FINGERPRINT = repr(
    [(kind, layout.early, layout.columns, layout.history_columns) for kind, layout in LAYOUTS.items()]
    + [sorted(UPDATED.items())]
)


class PreparedRoster:
    """What a roster import writes, in a form the confirmation can write without planning."""

    def __init__(self, user: Any) -> None:
        self.user = (getattr(user, "pk", None), getattr(user, "region_id", None), getattr(user, "role", ""))
        # Per kind: the early values of each new row (_Layout), and each row's parent household
        # (its id, or -1 - index among the new households). Made into COPY text only when
        # written, while the server takes in the previous lines.
        self.rows: dict[str, list[Any]] = {kind: [] for kind in LAYOUTS}
        self.parents: dict[str, list[int]] = {kind: [] for kind in LAYOUTS}
        # New households are numbered when first referred to (their members are planned first).
        self.new_households = 0
        self.updates: dict[str, list[tuple[int, tuple[Any, ...]]]] = {kind: [] for kind in UPDATED}
        # (case: id, or -1 - index among the new cases; risk type ids)
        self.case_risks: list[tuple[int, list[int]]] = []
        # The registry as the plan read it: household id → version, open case id → version.
        self.household_versions: dict[int, int] = {}
        self.case_versions: dict[int, int] = {}
        self.eliminates = False

    # -- filled by the planner -------------------------------------------------------------

    def household_ref(self, household: Household) -> int:
        if household.pk is not None:
            return int(household.pk)
        return -1 - self._new_household_index(household)

    def _new_household_index(self, household: Household) -> int:
        # Kept on the instance: the planner lets a household go once planned, and id() is reused.
        index = household.__dict__.get("_prepared_index")
        if index is None:
            index = household.__dict__["_prepared_index"] = self.new_households
            self.new_households += 1
        return int(index)

    def add(self, kind: str, item: Any) -> None:
        """One write of RosterPlanner's kinds (new_households, updated_members, case_risks, …)."""
        if kind == "case_risks":
            case, risks = item
            ref = case.pk if case.pk is not None else -len(self.rows["cases"])  # the case just added
            self.case_risks.append((ref, [risk.pk for risk in risks]))
            return
        new, plural = _KINDS[kind]
        if not new:
            values = item.__dict__
            self.updates[plural].append((item.pk, tuple(values[name] for name in UPDATED[plural])))
            if plural == "cases" and item.eliminated_month is not None:
                self.eliminates = True
            return
        values = LAYOUTS[plural].values(item.__dict__)
        if plural == "households":
            index = self._new_household_index(item)
            rows = self.rows["households"]
            rows.extend([None] * (index + 1 - len(rows)))
            rows[index] = values
            return
        self.rows[plural].append(values)
        self.parents[plural].append(self.household_ref(item._state.fields_cache["household"]))
        if plural == "cases" and item.eliminated_month is not None:
            self.eliminates = True

    def remember(self, households: Iterable[Household], cases: Iterable[MonitoringCase]) -> None:
        """The versions the plan read (households, open cases): what the confirmation checks."""
        self.household_versions.update((h.pk, h.version) for h in households)
        self.case_versions.update((c.pk, c.version) for c in cases)

    # -- kept between the preview and the confirmation -------------------------------------

    SALT = "households.excel.prepared"

    def save(self, path: Path, *, batch_id: int, file_sha256: str) -> None:
        if self.new_households != len(self.rows["households"]) or None in self.rows["households"]:
            raise ValueError("a new household was referred to but never planned")
        # (Birth dates are shared objects, one per day (id_numbers.birth_date_of): pickled once each.)
        payload = pickle.dumps(
            (LAYOUT_FINGERPRINT, batch_id, file_sha256, self.__dict__), protocol=pickle.HIGHEST_PROTOCOL
        )
        signature = salted_hmac(self.SALT, payload, algorithm="sha256").digest()
        path.write_bytes(signature + payload)

    @classmethod
    def load(cls, path: Path, *, batch_id: int, file_sha256: str) -> PreparedRoster | None:
        """The writes save() kept for this batch and file, or None (missing, foreign or altered)."""
        try:
            data = path.read_bytes()
        except OSError:
            return None
        signature, payload = data[:32], data[32:]
        if not hmac.compare_digest(signature, salted_hmac(cls.SALT, payload, algorithm="sha256").digest()):
            return None
        layout, saved_batch, saved_sha, state = pickle.loads(payload)
        if (layout, saved_batch, saved_sha) != (LAYOUT_FINGERPRINT, batch_id, file_sha256):
            return None  # another batch's, or kept before the models' columns changed
        prepared = cls.__new__(cls)
        prepared.__dict__.update(state)
        return prepared

    # -- the confirmation ------------------------------------------------------------------

    def still_valid(self, user: Any) -> bool:
        """Lock the households the plan read; True when nothing the plan relied on has changed."""
        if self.eliminates or self.user != (user.pk, user.region_id, user.role):
            return False
        locked = Household.objects.order_by("pk").select_for_update().values_list("pk", "version")
        if dict(in_chunks(locked, "pk", list(self.household_versions))) != self.household_versions:
            return False
        # Case edits claim the case's version, not the household's: the open cases are locked too.
        cases = MonitoringCase.objects.open().order_by().select_for_update().values_list("pk", "version")
        return dict(in_chunks(cases, "household", list(self.household_versions))) == self.case_versions

    def apply(self, *, user: Any, reason: str) -> dict[str, Any]:
        """Write everything (the caller holds the transaction); returns the undo data."""
        connection = connections[router.db_for_write(Household)]
        now = timezone.now()
        tail = (_date_text(now), _str_text(reason), "+", _number_text(getattr(user, "pk", None)))
        new_households = self._insert(connection, "households", [], now, tail)
        updated_households = set(self._update("households", now, user, reason))
        # Existing members first: a 户主 demoted in the file makes way for a new one.
        touched = set(self._update("members", now, user, reason))
        self._insert(connection, "members", new_households, now, tail)
        touched.update(self._update("cases", now, user, reason))
        new_cases = self._insert(connection, "cases", new_households, now, tail)
        touched.update(ref for kind in ("members", "cases") for ref in self.parents[kind] if ref >= 0)
        households_moved_on(touched - updated_households)
        return self._write_risks(new_cases)

    def _insert(
        self, connection: Any, kind: str, new_households: list[int], now: datetime, tail: tuple[str, ...]
    ) -> list[int]:
        rows = self.rows[kind]
        if not rows:
            return []
        layout = LAYOUTS[kind]
        table = layout.model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, layout.model._meta.pk.column, len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
        parents = [ref if ref >= 0 else new_households[-1 - ref] for ref in self.parents[kind]]
        histories: list[str] = []
        lines = layout.lines(rows, ids, parents, _date_text(now), "\t".join(tail), histories)
        _copy(connection, table, layout.columns, lines)
        _copy(connection, layout.history_table, layout.history_columns, histories)
        return ids

    def _update(self, kind: str, now: datetime, user: Any, reason: str) -> list[int]:
        """Apply the updates of one kind to the rows as they are now; returns their households' ids."""
        updates = self.updates[kind]
        if not updates:
            return []
        model: Any = MODELS[kind]
        names = UPDATED[kind]
        instances = {obj.pk: obj for obj in in_chunks(model.objects.order_by(), "pk", [pk for pk, _ in updates])}
        changed = []
        for pk, values in updates:
            instance = instances[pk]
            for name, value in zip(names, values, strict=True):
                setattr(instance, name, value)
            changed.append(instance)
        fields = [name.removesuffix("_id") for name in names]
        if hasattr(model, "version"):
            for instance in changed:
                instance.version += 1
            fields.append("version")
        if kind == "households":
            for instance in changed:
                instance.updated_at = now
            fields.append("updated_at")
        history = {"batch_size": 2000, "default_user": user, "default_change_reason": reason}
        if kind == "members":
            for group in heads_last(changed):
                bulk_update_with_history(group, model, fields, **history)
            return [member.household_id for member in changed]
        bulk_update_with_history(changed, model, fields, **history)
        return [instance.pk if kind == "households" else instance.household_id for instance in changed]

    def _write_risks(self, new_cases: list[int]) -> dict[str, Any]:
        through: Any = MonitoringCase.risk_types.through
        case_ids = [ref if ref >= 0 else new_cases[-1 - ref] for ref, _ in self.case_risks]
        updated = [pk for pk, _ in self.updates["cases"]]
        previous: dict[str, list[int]] = {}
        for case_id, risk_id in in_chunks(
            through.objects.order_by().values_list("monitoringcase_id", "risktype_id"), "monitoringcase_id", updated
        ):
            previous.setdefault(str(case_id), []).append(risk_id)
        for start in range(0, len(updated), 5000):
            through.objects.filter(monitoringcase_id__in=updated[start : start + 5000]).delete()
        through.objects.bulk_create(
            [
                through(monitoringcase_id=case_id, risktype_id=risk_id)
                for case_id, (_, risk_ids) in zip(case_ids, self.case_risks, strict=True)
                for risk_id in risk_ids
            ],
            batch_size=5000,
        )
        return {"case_risks": previous}


def heads_last(members: Iterable[Member]) -> tuple[list[Member], list[Member]]:
    """Updated members in two groups to write in turn, those who are 户主 after the update last.

    One active 户主 per household is a unique index, checked row by row: a 户主 demoted in the file
    must be written before the member who takes over.
    """
    others: list[Member] = []
    heads: list[Member] = []
    for member in members:
        (heads if member.relation == Relation.HEAD else others).append(member)
    return others, heads


def households_moved_on(household_ids: Iterable[int]) -> None:
    """Bump the version of households whose members or cases an import wrote.

    A household's version is what tells a prepared import (and an open edit form) that the
    household changed under it; changing its members or cases changes it.
    """
    ids = sorted(set(household_ids))
    for start in range(0, len(ids), 5000):
        Household.objects.filter(pk__in=ids[start : start + 5000]).update(version=F("version") + 1)


def _copy(connection: Any, table: str, columns: Sequence[str], lines: Iterable[str]) -> None:
    """COPY the lines; a writer thread sends each chunk while the next one is being made."""
    quote = connection.ops.quote_name
    statement = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor
        with raw.copy(statement, writer=QueuedLibpqWriter(raw)) as copy:
            chunk: list[str] = []
            for line in lines:
                chunk.append(line)
                if len(chunk) == CHUNK_ROWS:
                    copy.write("".join(chunk).encode())
                    chunk.clear()
            if chunk:
                copy.write("".join(chunk).encode())
