"""Checking a record register's file: every row parsed, its references found in the user's scope,
matched with its record by key, validated by the model itself (full_clean) and staged.

Files hold hundreds to tens of thousands of rows, so the plan is plain: a few queries per column
(references, existing records, scope), then one model instance per row that changes something.
A row that changes nothing is neither validated nor staged; a file of such rows is 无变化.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import Q

from workbooks.apply import create_fields
from workbooks.cells import CellError
from workbooks.models import StagedAction
from workbooks.plan import MAX_STORED_CHANGES, Change, Counter, Plan, shown
from workbooks.reader import RawRow, Table
from workbooks.records.declaration import Column, Lookup, Many, Planned, Record, Reference
from workbooks.rules import plain_message
from workbooks.staging import Stager

# A staged row carries a many-to-many field's target ids under this prefix (no column has such a name).
M2M_PREFIX = "m2m:"
CHUNK = 2000
BLANK = "必填项为空"


def m2m_key(field: str) -> str:
    return f"{M2M_PREFIX}{field}"


def quoted(value: Any) -> str:
    """A cell's value as a message quotes it: short, on one line."""
    text = " ".join(str(value).split())
    return text if len(text) <= 30 else text[:30] + "…"


def _blank(value: Any) -> bool:
    return value is None or value == ""


def chunked(values: Iterable[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    ordered = list(values)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


class RecordPlanner:
    """Plans one file of a record register for one user; `run` returns the plan and stages the writes."""

    def __init__(self, record: Record, *, user: Any, sheet: str, stager: Stager) -> None:
        self.record = record
        self.model = record.model
        self.user = user
        self.stager = stager
        self.counter = Counter()
        self.plan = Plan(sheet=sheet, counts={record.name: self.counter})
        self.bad: set[int] = set()

    # Errors ---------------------------------------------------------------------------------

    def error(self, row: int, column: Column, message: str) -> None:
        self.plan.error(row, column, message)
        self.bad.add(row)

    def field_errors(self, row: int, error: ValidationError) -> None:
        """A model's ValidationError, each message on the column of the field it names."""
        errors = error.error_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.error_list}
        for name, items in errors.items():
            column = self.record.column_of_field(name, self.present) or self.record.key_column(self.present)
            self.error(row, column, "；".join(plain_message(item) for item in items))

    # The run --------------------------------------------------------------------------------

    def run(self, table: Table) -> Plan:
        record = self.record
        self.present = [key for key in table.column_map if key in record.by_key]
        rows = table.rows
        self.values = {row.row_number: self._parse(row) for row in rows}
        self.targets = {reference.field: self._resolve(reference, rows) for reference in record.references}
        keys = self._keys(rows)
        existing = self._existing(keys)
        found = [instance.pk for instance in existing.values()]
        self.visible = self._ids_within(record.visible(self.user), found)
        self.managed = self._ids_within(record.managed(self.user), found)
        self.names = {many.field: self._names(many, rows) for many in record.many if many.column in self.present}
        planned: list[tuple[int, models.Model, models.Model | None, dict[str, list[int]]]] = []
        finals: dict[int, models.Model] = {}
        seen: list[Planned] = []
        for row in rows:
            number = row.row_number
            if number in self.bad or number not in keys:
                continue
            outcome = self._plan_row(number, existing.get(keys[number]))
            if outcome is not None:
                candidate, before, many = outcome
                finals[number] = candidate
                seen.append(Planned(number, self.values[number], candidate, before))
                if candidate is not before:
                    planned.append((number, candidate, before, many))
        self._check_periods(finals)
        self._check_across([row for row in seen if row.number not in self.bad])
        planned = [plan for plan in planned if plan[0] not in self.bad]
        self.counter.new = sum(1 for plan in planned if plan[2] is None)
        self.counter.updated = len(planned) - self.counter.new
        self.counter.error = len(self.bad)
        if not self.bad:
            self._stage(planned)
        who = record.who
        self.plan.describe_rows(
            {
                row.row_number: " ".join(str(row.values.get(key) or "") for key in who)
                for row in rows
                if row.row_number in self.bad
            }
        )
        return self.plan

    def _parse(self, row: RawRow) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key in self.present:
            column = self.record.by_key[key]
            try:
                value = column.parse(row.values.get(key))
            except CellError as error:
                self.error(row.row_number, column, error.message)
                continue
            if column.required and _blank(value):
                self.error(row.row_number, column, BLANK)
                continue
            values[key] = value
        return values

    def _resolve(self, reference: Reference, rows: list[RawRow]) -> dict[int, models.Model | None]:
        """Row number → the target its lookup cells find in the user's scope (None: left blank)."""
        record = self.record
        field: Any = self.model._meta.get_field(reference.field)
        present = [lookup for lookup in reference.lookups if lookup.column in self.present]
        lookups = [lookup for lookup in present if not lookup.narrows]
        narrowing = [lookup for lookup in present if lookup.narrows] if lookups else []
        scope = reference.scope(self.user)
        found: dict[str, dict[Any, set[int]]] = {}
        for lookup in [*lookups, *narrowing]:
            wanted = {self.values[row.row_number].get(lookup.column) for row in rows} - {None, ""}
            matches: dict[Any, set[int]] = defaultdict(set)
            for chunk in chunked(wanted):
                condition = Q(**{f"{lookup.path}__in": chunk}) & (lookup.condition or Q())
                for value, pk in scope.filter(condition).values_list(lookup.path, "pk").distinct():
                    matches[value].add(pk)
            found[lookup.column] = matches
        chosen: dict[int, int | None] = {}
        noun = field.related_model._meta.verbose_name
        for row in rows:
            number = row.row_number
            values = self.values[number]
            # The targets every filled lookup agrees on: a name shared by two villages is settled by the code.
            agreed: set[int] | None = None
            first: Column | None = None
            for lookup in lookups:
                column = record.by_key[lookup.column]
                if lookup.column not in values:
                    break  # unreadable: reported already
                value = values[lookup.column]
                if _blank(value):
                    continue
                hits = found[lookup.column].get(value, set())
                if not hits:
                    self.error(number, column, self._unknown(column, value))
                    break
                if agreed is not None and first is not None and not agreed & hits:
                    self.error(number, column, f"{column.header}与{first.header}对应的不是同一{noun}")
                    break
                agreed, first = hits if agreed is None else agreed & hits, first or column
            else:
                if agreed and first is not None and narrowing:
                    agreed = self._narrow(number, narrowing, agreed, first, found, noun)
                    if not agreed:
                        continue
                if agreed is not None and first is not None and len(agreed) > 1:
                    self.error(number, first, self._ambiguous(reference, first, values[first.key]))
                elif agreed:
                    chosen[number] = next(iter(agreed))
                elif lookups and not field.null:
                    headers = "、".join(record.by_key[lookup.column].header for lookup in lookups)
                    message = BLANK if len(lookups) == 1 else f"{headers}至少填写一项"
                    self.error(number, record.by_key[lookups[0].column], message)
                else:
                    chosen[number] = None
        targets = {}
        for chunk in chunked({pk for pk in chosen.values() if pk is not None}):
            targets.update(scope.in_bulk(chunk))
        resolved: dict[int, models.Model | None] = {}
        for number, pk in chosen.items():
            target = targets.get(pk) if pk is not None else None
            if pk is not None and target is None:
                continue  # (found a moment ago, gone now: the row is simply not planned)
            if target is not None and not self._checks_pass(number, reference, target):
                continue
            resolved[number] = target
        return resolved

    def _narrow(
        self,
        number: int,
        narrowing: list[Lookup],
        agreed: set[int],
        first: Column,
        found: dict[str, dict[Any, set[int]]],
        noun: str,
    ) -> set[int]:
        """The targets the filled narrowing lookups keep of those found; empty (the error said) when none is left."""
        values = self.values[number]
        for lookup in narrowing:
            value = values.get(lookup.column)
            if _blank(value):
                continue
            kept = agreed & found[lookup.column].get(value, set())
            if not kept:
                column = self.record.by_key[lookup.column]
                named = f"{first.header}“{quoted(values[first.key])}”"
                self.error(number, column, f"{named}与{column.header}“{quoted(column.render(value))}”不对应同一{noun}")
                return set()
            agreed = kept
        return agreed

    def _ambiguous(self, reference: Reference, first: Column, value: Any) -> str:
        narrowing = [self.record.by_key[lookup.column].header for lookup in reference.lookups if lookup.narrows]
        hint = f"请填写{'、'.join(narrowing)}以确定" if narrowing else "请改填其他列以确定"
        return f"{first.header}“{quoted(value)}”对应多条记录，{hint}"

    @staticmethod
    def _unknown(column: Column, value: Any) -> str:
        """What a key that finds nothing is told: the same whether it does not exist or is out of the user's view."""
        if column.options is not None:
            return f"{column.header}“{quoted(value)}”不是可选的值，可选：{'、'.join(column.options())}"
        return f"{column.header}“{quoted(value)}”不存在或不在您的管辖范围内"

    def _checks_pass(self, number: int, reference: Reference, target: models.Model) -> bool:
        """The row's 仅供核对 cells agree with the target they name."""
        values = self.values[number]
        for check in reference.checks:
            value = values.get(check.column)
            actual = getattr(target, check.path)
            if not _blank(value) and value != actual:
                column = self.record.by_key[check.column]
                self.error(number, column, f"{column.header}“{quoted(value)}”与登记的“{actual}”不一致，请核对")
                return False
        return True

    def _keys(self, rows: list[RawRow]) -> dict[int, tuple[Any, ...]]:
        """Row number → its record's key, for the rows whose key cells could all be read; duplicates reported."""
        keys: dict[int, tuple[Any, ...]] = {}
        first_row: dict[tuple[Any, ...], int] = {}
        references = {reference.field for reference in self.record.references}
        for row in rows:
            number = row.row_number
            parts: list[Any] = []
            for name in self.record.key:
                if name in references:
                    target = self.targets[name].get(number)
                    parts.append(None if target is None else target.pk)
                    continue
                column = self.record.column_of_field(name, self.present)
                parts.append(self.values[number].get(column.key) if column is not None else None)
            # (A blank optional cell is a key value too: a payment without a 凭证号.)
            if any(part is None for part in parts):
                continue
            key = tuple(parts)
            earlier = first_row.setdefault(key, number)
            if earlier != number:
                self.error(number, self.record.key_column(self.present), f"与第{earlier}行重复（同一条记录）")
                continue
            keys[number] = key
        return keys

    def _existing(self, keys: dict[int, tuple[Any, ...]]) -> dict[tuple[Any, ...], models.Model]:
        """The recorded records with these keys, whoever's they are (a key is unique beyond any scope)."""
        record = self.record
        first = record.key_attnames[0]
        queryset = self.model._default_manager.select_related(*(r.field for r in record.references))
        queryset = queryset.prefetch_related(*(many.field for many in record.many)).order_by()
        found: dict[tuple[Any, ...], models.Model] = {}
        for chunk in chunked({key[0] for key in keys.values()}):
            for instance in queryset.filter(**{f"{first}__in": chunk}):
                found[tuple(getattr(instance, name) for name in record.key_attnames)] = instance
        return found

    @staticmethod
    def _ids_within(queryset: Any, ids: list[Any]) -> set[Any]:
        within: set[Any] = set()
        for chunk in chunked(ids):
            within.update(queryset.filter(pk__in=chunk).values_list("pk", flat=True))
        return within

    def _names(self, many: Many, rows: list[RawRow]) -> dict[str, list[Any]]:
        """Each name the many column's cells hold → the targets of that name in the user's scope."""
        wanted: set[str] = set()
        for row in rows:
            wanted.update(self._split(many, self.values[row.row_number].get(many.column)))
        by_name: dict[str, list[Any]] = defaultdict(list)
        scope = many.scope(self.user)
        for chunk in chunked(wanted):
            for target in scope.filter(**{f"{many.path}__in": chunk}):
                by_name[getattr(target, many.path)].append(target)
        return by_name

    @staticmethod
    def _split(many: Many, value: Any) -> list[str]:
        if _blank(value):
            return []
        text = str(value)
        for separator in many.separators[1:]:
            text = text.replace(separator, many.separators[0])
        return list(dict.fromkeys(part.strip() for part in text.split(many.separators[0]) if part.strip()))

    # One row --------------------------------------------------------------------------------

    def _plan_row(
        self, number: int, existing: models.Model | None
    ) -> tuple[models.Model, models.Model | None, dict[str, list[int]]] | None:
        """The row's record as the file wants it, its record before (None: new) and its many-to-many ids.

        The candidate is the very `before` object when nothing changes; None when the row has an error.
        """
        record = self.record
        values = self.values[number]
        key_column = record.key_column(self.present)
        if existing is not None and existing.pk not in self.visible:
            shown_key = quoted(values.get(key_column.key, ""))
            self.error(number, key_column, f"{key_column.header}“{shown_key}”{record.taken}")
            return None
        candidate = self._copy(existing) if existing is not None else self.model(**record.defaults())
        for key in self.present:
            column = record.by_key[key]
            if column.field is not None:
                setattr(candidate, column.field, values[key])
        for reference in record.references:
            if any(lookup.column in self.present and not lookup.narrows for lookup in reference.lookups):
                setattr(candidate, reference.field, self.targets[reference.field].get(number))
        many_ids = self._many_ids(number, candidate)
        if many_ids is None:
            return None
        before_ids = {} if existing is None else self._current_many(existing)
        if existing is not None and not self._differences(candidate, existing, many_ids, before_ids):
            self.counter.unchanged += 1
            return existing, existing, {}
        if existing is not None and existing.pk not in self.managed:
            noun = self.model._meta.verbose_name
            self.error(number, key_column, f"您无权修改该{noun}（{record.subject(existing)}）")
            return None
        if record.writable is not None:
            refused = record.writable(self.user, candidate)
            if refused is not None:
                name, message = refused
                self.error(number, record.column_of_field(name, self.present) or key_column, message)
                return None
        try:
            self._full_clean(candidate)
        except ValidationError as error:
            self.field_errors(number, error)
            return None
        if existing is not None and not self._differences(candidate, existing, many_ids, before_ids):
            self.counter.unchanged += 1  # (the model's clean() put it back as it was)
            return existing, existing, {}
        return candidate, existing, {m2m_key(field): ids for field, ids in many_ids.items()}

    def _full_clean(self, candidate: models.Model) -> None:
        """Model.full_clean() step by step as Django runs it, but without looking up again the foreign
        keys this row's references have just found in the user's scope (a query each, every row)."""
        attnames = self.record.reference_attnames
        found = {name for name, attname in attnames.items() if getattr(candidate, attname) is not None}
        errors: dict[str, Any] = {}
        try:
            candidate.clean_fields(exclude=found)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        try:
            candidate.clean()
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        failed = {name for name in errors if name != NON_FIELD_ERRORS}
        try:
            candidate.validate_unique(exclude=failed)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        try:
            candidate.validate_constraints(exclude=failed)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def _copy(self, existing: models.Model) -> models.Model:
        """A fresh instance holding the record's values and the related objects already loaded."""
        fields = self.model._meta.concrete_fields
        clone = self.model(**{field.attname: getattr(existing, field.attname) for field in fields})
        clone._state.adding = False
        clone._state.db = existing._state.db
        for reference in self.record.references:
            related = self.model._meta.get_field(reference.field)
            if related.is_cached(existing):  # type: ignore[union-attr]
                setattr(clone, reference.field, getattr(existing, reference.field))
        return clone

    def _many_ids(self, number: int, candidate: models.Model) -> dict[str, list[int]] | None:
        """The targets the row's many-to-many cells name, fitting the candidate; None after an error."""
        ids: dict[str, list[int]] = {}
        for many in self.record.many:
            if many.column not in self.present:
                continue
            column = self.record.by_key[many.column]
            chosen: list[int] = []
            for name in self._split(many, self.values[number].get(many.column)):
                named = self.names[many.field].get(name, [])
                fitting = [target for target in named if many.fits is None or many.fits(candidate, target)]
                if len(fitting) != 1:
                    message = many.unknown if not fitting else "“{value}”对应多项，无法确定"
                    self.error(number, column, message.format(value=quoted(name)))
                    return None
                chosen.append(fitting[0].pk)
            ids[many.field] = sorted(set(chosen))
        return ids

    def _current_many(self, existing: models.Model) -> dict[str, list[int]]:
        return {
            m2m_key(many.field): sorted(target.pk for target in getattr(existing, many.field).all())
            for many in self.record.many
        }

    def _differences(
        self,
        candidate: models.Model,
        existing: models.Model,
        many_ids: dict[str, list[int]],
        before_ids: dict[str, list[int]],
    ) -> list[str]:
        """The attnames (and many-to-many fields) the candidate changes."""
        changed = [name for name in self.record.updated_attnames if getattr(candidate, name) != getattr(existing, name)]
        changed += [field for field, ids in many_ids.items() if ids != before_ids.get(m2m_key(field))]
        return changed

    # Across rows ----------------------------------------------------------------------------

    def _check_across(self, rows: list[Planned]) -> None:
        """The register's own rules across rows (a sum within a limit), each error on the column it names."""
        if self.record.across is None:
            return
        for number, name, message in self.record.across(self.user, rows):
            self.error(number, self.record.column_named(name, self.present), message)

    def _check_periods(self, finals: dict[int, models.Model]) -> None:
        """Periods of the same group (the same household and cooperative…) may not overlap within the file."""
        for period in self.record.periods:
            groups: dict[tuple[Any, ...], list[tuple[date, date | None, int]]] = defaultdict(list)
            attnames = [self.model._meta.get_field(name).attname for name in period.group]  # type: ignore[union-attr]
            for number, instance in finals.items():
                start = getattr(instance, period.start)
                if start is not None:
                    group = tuple(getattr(instance, name) for name in attnames)
                    groups[group].append((start, getattr(instance, period.end), number))
            column = self.record.column_of_field(period.start, self.present) or self.record.key_column(self.present)
            for spans in groups.values():
                spans.sort()
                latest: tuple[date, date | None, int] | None = None
                for span in spans:
                    if latest is not None and (latest[1] is None or latest[1] > span[0]):
                        self.error(span[2], column, period.message.format(row=latest[2]))
                    if latest is None or (latest[1] is not None and (span[1] is None or span[1] > latest[1])):
                        latest = span

    # Staging --------------------------------------------------------------------------------

    def _stage(self, planned: list[tuple[int, models.Model, models.Model | None, dict[str, list[int]]]]) -> None:
        record, model, stager = self.record, self.model, self.stager
        created = create_fields(model)
        checked: set[tuple[str, Any]] = set()
        for number, candidate, before, many in planned:
            for reference in record.references:
                target = getattr(candidate, reference.field)
                wanted = reference.checked if reference.checked is not None else hasattr(target, "version")
                if target is None or not wanted or (reference.field, target.pk) in checked:
                    continue
                checked.add((reference.field, target.pk))
                stager.add(
                    phase=0, model=type(target), action=StagedAction.CHECK, object_id=target.pk, version=target.version
                )
            after = many
            if before is None:
                values = {name: getattr(candidate, name) for name in created}
                stager.add(phase=0, model=model, action=StagedAction.CREATE, values={**values, **after}, row=number)
                continue
            old = {name: value for name, value in self._current_many(before).items() if name in after}
            self._describe(number, candidate, before, after, old)
            stager.add(
                phase=0,
                model=model,
                action=StagedAction.UPDATE,
                object_id=before.pk,
                version=getattr(before, "version", None),
                values={**{name: getattr(candidate, name) for name in record.updated_attnames}, **after},
                before={**{name: getattr(before, name) for name in record.updated_attnames}, **old},
                row=number,
            )

    def _describe(
        self,
        number: int,
        candidate: models.Model,
        before: models.Model,
        after: dict[str, list[int]],
        old: dict[str, list[int]],
    ) -> None:
        """The preview's old → new lines of an update."""
        changes = self.plan.changes
        subject = self.record.subject(candidate)
        for name in self.record.updated_attnames:
            if len(changes) >= MAX_STORED_CHANGES:
                return
            if getattr(candidate, name) != getattr(before, name):
                field = next(f for f in self.model._meta.concrete_fields if f.attname == name)
                was, now = _display(before, field), _display(candidate, field)
                changes.append(Change(subject, number, str(field.verbose_name), was, now))
        for key, ids in after.items():
            if ids != old.get(key) and len(changes) < MAX_STORED_CHANGES:
                name = key[len(M2M_PREFIX) :]
                many = next(many for many in self.record.many if many.field == name)
                names = {target.pk: str(getattr(target, many.path)) for target in getattr(before, name).all()}
                names |= {t.pk: str(getattr(t, many.path)) for targets in self.names[name].values() for t in targets}
                label = str(self.model._meta.get_field(name).verbose_name)  # type: ignore[union-attr]
                old_names = shown("、".join(names.get(pk, str(pk)) for pk in old.get(key, [])))
                changes.append(Change(subject, number, label, old_names, shown("、".join(names[pk] for pk in ids))))


def _display(instance: models.Model, field: models.Field[Any, Any]) -> str:
    """A field's value as the preview shows it: a choice's label, a related record's name."""
    if field.is_relation:
        return shown(getattr(instance, field.name))
    if field.choices:
        return shown(dict(field.flatchoices).get(getattr(instance, field.attname), getattr(instance, field.attname)))
    return shown(getattr(instance, field.attname))
