"""The read endpoints' records built from `values()` rows instead of model instances and DRF's per-field
serializers: the same dicts (tests/api/test_fast.py holds every resource's output equal to its serializer's,
masked and not), about ten times faster, so a full sync is not bound by object construction.

The plan of each resource is read from its serializer: a field the database gives as DRF would return it
(text, integers, choices, booleans) is copied; decimals, dates, datetimes, UUIDs are converted as DRF does;
a relation is read through its path (`village__code`); personal fields are masked by the same helpers;
many-to-many lists and a household's members come from one query each per page.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework import fields as drf
from rest_framework import relations, serializers

from api.resources import Resource
from api.serializers import (
    HouseholdNumberField,
    PersonalDataField,
    PersonalJSONField,
    PersonalTextField,
    _masked_json,
)
from households.personal_data import masked_text, may_view_personal_data, shown

Convert = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _decimal(places: int, field: drf.DecimalField) -> Convert:
    def convert(value: Decimal) -> Any:
        if isinstance(value, Decimal) and value.as_tuple().exponent == -places:
            return format(value, "f")
        return field.to_representation(value)

    return convert


def _date(value: Any) -> str:
    return value.isoformat()


def _moment(zone: Any) -> Convert:
    """DRF's DateTimeField.to_representation (ISO 8601) for an aware datetime, with the zone looked up once."""

    def convert(value: datetime) -> str:
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert


@dataclass(frozen=True)
class Plain:
    name: str
    path: str
    convert: Convert
    decimal: bool = False  # on PostgreSQL read as the database's text (numeric::text has DRF's digits)
    moment: bool = False  # a datetime: in the current time zone, ISO 8601, as DRF writes it


@dataclass(frozen=True)
class Many:
    name: str
    through: Any
    owner: str  # column of the through table naming the owner
    target_path: str  # path from the through table to the value shown, e.g. "risktype__code"
    order: tuple[str, ...]
    household_numbers: bool  # the values are 户编号s: masked as text


@dataclass(frozen=True)
class Nested:
    name: str
    plan: Plan
    rows: Callable[[list[int]], QuerySet[Any]]
    owner: str  # the nested rows' column naming the owner


@dataclass(frozen=True)
class Plan:
    """How to build a resource's records from values() rows."""

    names: tuple[str, ...]  # output order
    plain: tuple[Plain, ...]
    many: tuple[Many, ...]
    nested: tuple[Nested, ...]
    masked: tuple[tuple[str, str], ...]  # (output name, kind): personal data the viewer may not see in full


def _plain(name: str, field: Any) -> tuple[Plain, str | None]:
    """A plain field's path and conversion; a masking kind when it holds personal data."""
    source = field.source if field.source not in (None, "*") else name
    path = source.replace(".", "__")
    if isinstance(field, HouseholdNumberField):
        return Plain(name, f"{path}__number", _identity), "text"
    if isinstance(field, relations.SlugRelatedField):
        return Plain(name, f"{path}__{field.slug_field}", _identity), None
    if isinstance(field, relations.PrimaryKeyRelatedField):
        return Plain(name, f"{path}_id" if "__" not in path else f"{path}__id", _identity), None
    if isinstance(field, PersonalDataField):
        return Plain(name, path, _identity), "personal"
    if isinstance(field, PersonalTextField):
        return Plain(name, path, _identity), "text"
    if isinstance(field, PersonalJSONField):
        return Plain(name, path, _identity), "json"
    if isinstance(field, drf.DecimalField):
        return Plain(name, path, _decimal(field.decimal_places or 0, field), decimal=True), None
    if isinstance(field, drf.DateTimeField):
        return Plain(name, path, field.to_representation, moment=True), None
    if isinstance(field, drf.DateField):
        return Plain(name, path, _date), None
    if isinstance(field, drf.UUIDField):
        return Plain(name, path, str), None
    if isinstance(field, drf.FloatField):
        return Plain(name, path, float), None
    if isinstance(field, (drf.CharField, drf.IntegerField, drf.ChoiceField, drf.BooleanField, drf.JSONField)):
        return Plain(name, path, _identity), None
    raise TypeError(f"no fast conversion for {name} ({type(field).__name__})")


def plan_of(serializer: serializers.Serializer, model: Any, nested_rows: dict[str, Any] | None = None) -> Plan:
    plain: list[Plain] = []
    many: list[Many] = []
    nested: list[Nested] = []
    masked: list[tuple[str, str]] = []
    for name, field in serializer.fields.items():
        if isinstance(field, relations.ManyRelatedField):
            model_field = model._meta.get_field(field.source or name)
            through = model_field.remote_field.through
            child = field.child_relation
            target = model_field.m2m_reverse_field_name()
            key = "number" if isinstance(child, HouseholdNumberField) else getattr(child, "slug_field", "id")
            target_model = model_field.related_model
            order = tuple(
                f"{target}__{item.lstrip('-')}" if not item.startswith("-") else f"-{target}__{item[1:]}"
                for item in (target_model._meta.ordering or ["pk"])
            )
            many.append(Many(name, through, model_field.m2m_field_name(), f"{target}__{key}", order, key == "number"))
        elif isinstance(field, serializers.ListSerializer):
            nested_serializer = field.child
            assert isinstance(nested_serializer, serializers.ModelSerializer)
            child_model: Any = nested_serializer.Meta.model
            owner = next(f.name for f in child_model._meta.concrete_fields if f.related_model is model)
            rows = (nested_rows or {})[name]
            nested.append(Nested(name, plan_of(nested_serializer, child_model), rows, owner))
        else:
            entry, kind = _plain(name, field)
            plain.append(entry)
            if kind is not None:
                masked.append((name, kind))
    return Plan(tuple(serializer.fields), tuple(plain), tuple(many), tuple(nested), tuple(masked))


@functools.cache
def resource_plan(name: str) -> Plan:
    from api.resources import RESOURCES
    from households.models import Member

    resource = RESOURCES[name]
    nested = {"members": lambda ids: Member.objects.in_family_order().filter(household_id__in=ids)}
    return plan_of(resource.serializer(), resource.model, nested)


def columns(plan: Plan, queryset: QuerySet[Any], *extra: str) -> QuerySet[Any]:
    """values_list() of the plan's plain fields in the serializer's order (then `extra`); on PostgreSQL a
    decimal as the database writes it (numeric::text has DRF's digits: no Decimal built and formatted)."""
    as_text = connection.vendor == "postgresql"
    selected = [Cast(plain.path, TextField()) if as_text and plain.decimal else plain.path for plain in plan.plain]
    return queryset.prefetch_related(None).values_list(*selected, *extra)


def build(plan: Plan, rows: list[tuple[Any, ...]], viewer: Any) -> list[dict[str, Any]]:
    """Records (dicts in the serializer's field order) from rows selected by `columns(plan, …)`."""
    names = [plain.name for plain in plan.plain]
    id_index = [plain.path for plain in plan.plain].index("id")
    ids = [row[id_index] for row in rows]
    lists: dict[str, dict[int, list[Any]]] = {}
    for entry in plan.many:
        grouped: dict[int, list[Any]] = defaultdict(list)
        links = entry.through._default_manager.filter(**{f"{entry.owner}__in": ids}).order_by(*entry.order)
        for owner, value in links.values_list(f"{entry.owner}_id", entry.target_path):
            grouped[owner].append(value)
        lists[entry.name] = grouped
    children: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for child in plan.nested:
        grouped_children: dict[int, list[dict[str, Any]]] = defaultdict(list)
        child_rows = list(columns(child.plan, child.rows(ids), f"{child.owner}_id"))
        owner_index = len(child.plan.plain)
        for record, row in zip(build(child.plan, child_rows, viewer), child_rows, strict=True):
            grouped_children[row[owner_index]].append(record)
        children[child.name] = grouped_children
    reveal = may_view_personal_data(viewer)
    as_text = connection.vendor == "postgresql"
    moment = _moment(timezone.get_current_timezone())  # DRF asks for the zone per value: slow (asgiref)
    # In full, personal data is only written as text (a birth date); masking is per value, in _mask.
    in_full = {name for name, kind in plan.masked if kind == "personal"} if reveal else set()
    converters = []
    for index, plain in enumerate(plan.plain):
        convert = _identity if as_text and plain.decimal else moment if plain.moment else plain.convert
        if plain.name in in_full:
            convert = _in_full
        if convert is not _identity:
            converters.append((index, plain.name, convert))
    reorder = bool(plan.many or plan.nested)
    masks = not reveal and bool(plan.masked or any(entry.household_numbers for entry in plan.many))
    records = []
    for row in rows:
        record = dict(zip(names, row, strict=False))  # (extra columns after); most values are as DRF gives them
        for index, name, convert in converters:
            value = row[index]
            if value is not None:
                record[name] = convert(value)
        if reorder:
            pk = row[id_index]
            for many in plan.many:
                record[many.name] = lists[many.name].get(pk, [])
            for child in plan.nested:
                record[child.name] = children[child.name].get(pk, [])
            record = {name: record[name] for name in plan.names}
        if masks:
            _mask(record, plan, viewer)
        records.append(record)
    return records


def _in_full(value: Any) -> str:
    """`shown(…, reveal=True)` of a value that is not None: a date as ISO 8601, anything else as text."""
    return value.isoformat() if isinstance(value, date) else str(value)


def _mask(record: dict[str, Any], plan: Plan, viewer: Any) -> None:
    """Personal data as the serializer's fields show it to a viewer who may not see it: numbers masked, a birth
    date as an age."""
    for name, kind in plan.masked:
        value = record[name]
        if value is None:
            continue
        if kind == "personal":
            record[name] = shown(name, value, reveal=False)
        elif kind == "text":
            record[name] = masked_text(value)
        elif kind == "json":
            record[name] = _masked_json(viewer, value)
    for entry in plan.many:
        if entry.household_numbers:
            record[entry.name] = [masked_text(value) for value in record[entry.name]]


def records(resource: Resource, queryset: QuerySet[Any], viewer: Any, limit: int | None = None) -> list[dict[str, Any]]:
    """The records of the rows of `queryset` (already scoped and ordered; the first `limit`), as the
    resource's serializer gives them."""
    plan = resource_plan(resource.name)
    if limit is not None:
        # The page's ids first, then their columns: in one query PostgreSQL may compute every column (an
        # income record's 21 amounts as text) of every row in scope before it sorts them to find the page.
        page = queryset.values("pk")[:limit]
        queryset = queryset.model._base_manager.filter(pk__in=page).order_by(*queryset.query.order_by)
    return build(plan, list(columns(plan, queryset)), viewer)


def ordered(ids: Iterable[int], found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {record["id"]: record for record in found}
    return [by_id[pk] for pk in ids if pk in by_id]
