"""A record register as the pipeline knows it: steps, checks, and what set-based steps cannot say.

The pipeline applies the staged creates and updates (workbooks.apply); this register then writes
the many-to-many rows, checks every written record with the model's rules once more against the
data as it now stands (two rows of one file, or a change made meanwhile, can break a rule that each
row alone kept), copies the many-to-many rows into the history beside the rows' history, and tells
the figures which regions changed. Undo puts the many-to-many rows back first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Max

from regions.services import data_changed
from workbooks.apply import StaleBatch, Step, create_fields
from workbooks.models import StagedAction, StagedRow
from workbooks.plan import Plan
from workbooks.reader import Table
from workbooks.records.declaration import Many, Record
from workbooks.records.planner import RecordPlanner, chunked, m2m_key
from workbooks.registers import Register
from workbooks.staging import Stager, staged_ids


class RecordSheet(Register):
    """The register of one Record declaration."""

    def __init__(self, record: Record) -> None:
        model = record.model
        self.record = record
        self.name = record.name
        self.label = record.label
        self.columns = record.columns
        self.permission = record.permission
        self.undo_permission = record.undo_permission
        create = Step(model, StagedAction.CREATE, 0, create_fields(model))
        # A register whose key is every field (a link between two records) only ever creates.
        update = Step(model, StagedAction.UPDATE, 0, record.updated_attnames)
        self.steps = (create, update) if record.updated_attnames else (create,)
        targets: set[Any] = {model._meta.get_field(reference.field).related_model for reference in record.references}
        # (A model without a version, such as a link between two records, has nothing to check.)
        versioned = [m for m in {model, *targets} if any(f.attname == "version" for f in m._meta.concrete_fields)]
        # Locked in one fixed order (by label) whichever register confirms.
        self.checked = tuple(sorted(versioned, key=lambda m: m._meta.label_lower))

    def count_label(self, name: str) -> str:
        return self.record.label if name == self.record.name else name

    def stage(self, *, table: Table, user: Any, stager: Stager) -> Plan:
        return RecordPlanner(self.record, user=user, sheet=table.sheet, stager=stager).run(table)

    # Apply ----------------------------------------------------------------------------------

    def after_apply(self, *, batch_id: int, created: dict[str, list[int]]) -> None:
        model = self.record.model
        new_ids = created.get(model._meta.label_lower, [])
        updated = self._staged(batch_id, StagedAction.UPDATE)
        for many in self.record.many:
            self._write_many(many, self._created_many(batch_id, many, new_ids), updated, restore=False)
        written = [*new_ids, *(row.object_id for row in updated)]
        self._revalidate(written)
        history: Any = model.history.model  # type: ignore[attr-defined]
        rows = history.objects.filter(import_batch_id=batch_id).values_list("history_id", "id")
        self._snapshot_many(list(rows))
        self._announce(written)

    def _staged(self, batch_id: int, action: str) -> list[StagedRow]:
        label = self.record.model._meta.label_lower
        return list(StagedRow.objects.filter(batch_id=batch_id, target=label, action=action).order_by("seq"))

    def _created_many(self, batch_id: int, many: Many, new_ids: list[int]) -> dict[int, list[int]]:
        """New record id → the targets its staged row names (matched by the record's key)."""
        record = self.record
        fields = {field.attname: field for field in record.model._meta.concrete_fields}
        ids_by_key: dict[tuple[Any, ...], int] = {}
        for chunk in chunked(new_ids):
            for values in record.model._default_manager.filter(pk__in=chunk).values_list("pk", *record.key_attnames):
                ids_by_key[tuple(values[1:])] = values[0]
        found: dict[int, list[int]] = {}
        for row in self._staged(batch_id, StagedAction.CREATE):
            key = tuple(fields[name].to_python(row.values[name]) for name in record.key_attnames)
            if m2m_key(many.field) in row.values:
                found[ids_by_key[key]] = row.values[m2m_key(many.field)]
        return found

    def _write_many(self, many: Many, new: dict[int, list[int]], updated: list[StagedRow], *, restore: bool) -> None:
        """Set the many-to-many rows: of new records, and of updated ones whose targets changed
        (to the staged values, or with restore to the values before)."""
        _, through, source, target = _through(self.record.model, many)
        key = m2m_key(many.field)
        wanted: dict[int, Any] = dict(new)
        for row in updated:
            before = (row.before or {}).get(key)
            after = row.values.get(key)
            if after is not None and before != after and row.object_id is not None:
                wanted[int(row.object_id)] = before if restore else after
        for chunk in chunked(wanted):
            through.objects.filter(**{f"{source}__in": chunk}).delete()
        through.objects.bulk_create(
            [through(**{source: pk, target: other}) for pk, others in wanted.items() for other in others or []],
            batch_size=2000,
        )

    def _revalidate(self, ids: list[Any]) -> None:
        """Every written record against the model's clean() as the data now stands; StaleBatch if one fails.

        The preview ran the whole full_clean(); what can have changed since is what clean() reads from
        other rows (overlapping periods, a membership that year). Field rules do not change, and the
        database holds its own constraints and foreign keys.
        """
        record = self.record
        queryset = record.model._default_manager.select_related(*(r.field for r in record.references))
        for chunk in chunked(ids):
            for instance in queryset.filter(pk__in=chunk):
                try:
                    instance.clean()
                except ValidationError as error:
                    raise StaleBatch(f"{record.model._meta.label_lower} {instance.pk}: {error}") from error

    def _snapshot_many(self, history_rows: list[tuple[int, int]]) -> None:
        """Copy each record's many-to-many rows beside its history rows (what simple_history does on save)."""
        model = self.record.model
        history: Any = model.history.model  # type: ignore[attr-defined]
        tracked = getattr(history, "_history_m2m_fields", [])
        for many in self.record.many:
            field, through, source, target = _through(model, many)
            if field not in tracked or not history_rows:
                continue
            snapshot = getattr(history, field.name).model
            objects = {object_id for _, object_id in history_rows}
            links: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for chunk in chunked(objects):
                for pk, owner, other in through.objects.filter(**{f"{source}__in": chunk}).values_list(
                    "pk", source, target
                ):
                    links[owner].append((pk, other))
            snapshot.objects.bulk_create(
                [
                    snapshot(history_id=history_id, id=pk, **{source: object_id, target: other})
                    for history_id, object_id in history_rows
                    for pk, other in links[object_id]
                ],
                batch_size=2000,
            )

    def _announce(self, ids: Iterable[Any]) -> None:
        """The regions of these records have new data: their figures are recomputed."""
        codes: set[str] = set()
        for chunk in chunked(ids):
            rows = self.record.model._default_manager.filter(pk__in=chunk)
            codes.update(rows.values_list(self.record.region_code, flat=True).distinct())
        data_changed(codes=codes)

    # Undo -----------------------------------------------------------------------------------

    def before_undo(self, *, batch_id: int) -> None:
        model = self.record.model
        history: Any = model.history.model  # type: ignore[attr-defined]
        created = list(history.objects.filter(import_batch_id=batch_id, history_type="+").values_list("id", flat=True))
        updated = self._staged(batch_id, StagedAction.UPDATE)
        self._announce([*created, *(row.object_id for row in updated)])
        for many in self.record.many:
            _, through, source, _ = _through(model, many)
            for chunk in chunked(created):
                through.objects.filter(**{f"{source}__in": chunk}).delete()
            self._write_many(many, {}, updated, restore=True)

    def after_undo(self, *, batch_id: int, deleted: dict[str, list[int]]) -> None:
        model = self.record.model
        history: Any = model.history.model  # type: ignore[attr-defined]
        updated = staged_ids(batch_id, model, StagedAction.UPDATE)
        latest: list[tuple[int, int]] = []
        for chunk in chunked(updated):
            rows = history.objects.filter(id__in=chunk).values("id").annotate(latest=Max("history_id")).order_by()
            latest.extend((row["latest"], row["id"]) for row in rows)
        self._snapshot_many(latest)


def _through(model: type[models.Model], many: Many) -> tuple[Any, Any, str, str]:
    """A many-to-many field, its through model, and the through model's two foreign key attnames."""
    field: Any = model._meta.get_field(many.field)
    through = field.remote_field.through
    source = through._meta.get_field(field.m2m_field_name()).attname
    target = through._meta.get_field(field.m2m_reverse_field_name()).attname
    return field, through, source, target
