"""The reference mirror client (manage.py sync_pull): a county's records from a source's API into a database of
the same schema, kept current through the change feeds.

Protocol, per resource: the first run takes the feed's current cursor (GET …/changes/ without since), then
reads every record through the list endpoint and applies them; every later run reads the feed from the
saved cursor. A change made while the full read runs is in the feed after that cursor, so nothing falls in
between (a record read in full and then again from the feed is applied twice, to the same result).

Each run is one transaction on the mirror: tombstones first (in reverse dependency order: payments before
their fundings, income before its household), then records (in dependency order), then the cursors. A run
that fails changes nothing, and running it again is harmless. Records are written with the source's ids;
related rows named by a natural key (a region's code, a household's 户编号, an entity's credit code, a
reference list's code) are found in the mirror by that key, so reference lists, seeded by migrations in
both databases, keep the mirror's own ids.
"""

from __future__ import annotations

import gzip
import http.client
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import orjson
from django.db import connections, models, transaction
from django.utils import timezone
from rest_framework import relations

from api.models import MirrorCursor
from api.resources import RESOURCES, Resource
from households.models import Household, Member
from workbooks.plan import without_cycle_collection

# Dependency order: every resource after those its records name.
ORDER = (
    "regions",
    "industries",
    "households",
    "monitoring-cases",
    "income-records",
    "thresholds",
    "targets",
    "indicator-values",
    "entities",
    "bindings",
    "memberships",
    "allocations",
    "projects",
    "fundings",
    "payments",
    "collective-income",
    "alerts",
)
LIST_LIMIT = 1000
FEED_LIMIT = 5000
RETRIES = 3


class MirrorError(Exception):
    """Why the mirror cannot go on, in Chinese."""


class Unresolved(MirrorError):
    """A record names a row the mirror does not hold yet: its own change is not in the feed yet."""


@dataclass(frozen=True)
class Relation:
    name: str  # the record's key
    model_field: Any  # the model's ForeignKey or ManyToManyField
    key: str  # the related model's field the record names it by ("id", "code", "number", …)


@dataclass
class Plan:
    """What one run applies: per resource the records to write and the ids to delete, and the new cursors."""

    upserts: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    deletes: dict[str, set[int]] = field(default_factory=dict)
    cursors: dict[str, str] = field(default_factory=dict)
    full: set[str] = field(default_factory=set)


class Source:
    """The source's API over one kept-alive HTTP connection, with the client's token."""

    def __init__(self, url: str, token: str, *, timeout: float = 120, headers: dict[str, str] | None = None) -> None:
        self.base = url if url.endswith("/") else url + "/"
        parts = urlsplit(self.base)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise MirrorError(f"源站地址应为 http(s)://主机/api/v1/，而不是 {url}")
        self.parts = parts
        self.token = token
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None
        self.requests = 0
        self.extra_headers = headers or {}

    def _connect(self) -> http.client.HTTPConnection:
        if self.connection is None:
            kind = http.client.HTTPSConnection if self.parts.scheme == "https" else http.client.HTTPConnection
            self.connection = kind(self.parts.netloc, timeout=self.timeout)
        return self.connection

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        url = urljoin(self.base, path)
        target = urlsplit(url)
        query = urlencode(params or {})
        address = target.path + (f"?{query}" if query else "")
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept-Encoding": "gzip",
            "Accept": "application/json",
            **self.extra_headers,
        }
        for attempt in range(5):
            connection = self._connect()
            try:
                connection.request("GET", address, headers=headers)
                response = connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as error:
                self.close()
                if attempt == 4:
                    raise MirrorError(f"无法连接源站 {self.parts.netloc}：{error}") from error
                time.sleep(1 + attempt)
                continue
            self.requests += 1
            if response.getheader("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if response.status == 429:
                time.sleep(float(response.getheader("Retry-After") or 1))
                continue
            # A page of 5,000 records makes some 100,000 dicts and lists and no garbage: the collector's
            # passes in between would take longer than the parse (0.14 s against 0.05 s for households).
            with without_cycle_collection():
                data = orjson.loads(body) if body else None
            if response.status != 200:
                message = data.get("message") if isinstance(data, dict) else body[:200].decode(errors="replace")
                raise MirrorError(f"源站拒绝 {address}（{response.status}）：{message}")
            return data
        raise MirrorError(f"源站持续限流：{address}")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def relations_of(resource: Resource) -> list[Relation]:
    """How the resource's records name related rows, read from its serializer."""
    found = []
    for name, serializer_field in resource.serializer().fields.items():
        child = serializer_field.child_relation if isinstance(serializer_field, relations.ManyRelatedField) else None
        relation = child or serializer_field
        source = str(serializer_field.source or name)
        if not isinstance(relation, relations.RelatedField) or "." in source:
            continue
        model_field = resource.model._meta.get_field(source)
        found.append(Relation(name, model_field, getattr(relation, "slug_field", "id")))
    return found


class Mirror:
    """Applies records and tombstones to the database `alias`, finding related rows by their natural keys."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.connection = connections[alias]
        self.relations = {name: relations_of(resource) for name, resource in RESOURCES.items()}

    # ---- reading the mirror

    def resolve(self, model: Any, key: str, values: Iterable[Any]) -> dict[Any, int]:
        wanted = {value for value in values if value is not None}
        if not wanted:
            return {}
        if key == "id":
            found = set(model._default_manager.using(self.alias).filter(pk__in=wanted).values_list("pk", flat=True))
            return {value: value for value in wanted if value in found}
        rows = model._default_manager.using(self.alias).filter(**{f"{key}__in": wanted}).values_list(key, "pk")
        return dict(rows)

    # ---- writing

    def upsert(self, model: Any, rows: list[dict[str, Any]]) -> None:
        """INSERT … ON CONFLICT (id) DO UPDATE: the stored values as they are (no auto_now, no save())."""
        if not rows:
            return
        fields = [f for f in model._meta.concrete_fields]
        quote = self.connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        pk = quote(model._meta.pk.column)
        updates = ", ".join(f"{quote(f.column)} = excluded.{quote(f.column)}" for f in fields if not f.primary_key)
        sql = (
            f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"
            f" ON CONFLICT ({pk}) DO UPDATE SET {updates}"
        )
        params = [[f.get_db_prep_save(row[f.attname], self.connection) for f in fields] for row in rows]
        self._park(model, rows)
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, params)

    def _park(self, model: Any, rows: list[dict[str, Any]]) -> None:
        """Give a row of the mirror that holds a unique value these rows bring under another id (two
        户编号 or 身份证号 swapped on the source) a placeholder of its own first. The source holds no
        value twice, so that row has changed too and is written later in the run, which is one
        transaction: the placeholder never outlives it."""
        pk = model._meta.pk
        quote = self.connection.ops.quote_name
        for unique in _unique_text_fields(model):
            incoming = {row[unique.attname]: row[pk.attname] for row in rows if row[unique.attname] is not None}
            if not incoming:
                continue
            holders = (
                model._default_manager.using(self.alias)
                .filter(**{f"{unique.attname}__in": list(incoming)})
                .values_list(unique.attname, "pk")
            )
            parked = [other for value, other in holders if incoming[value] != other]
            if not parked:
                continue
            sql = f"UPDATE {quote(model._meta.db_table)} SET {quote(unique.column)} = %s WHERE {quote(pk.column)} = %s"
            with self.connection.cursor() as cursor:
                cursor.executemany(sql, [[f"~{other}", other] for other in parked])

    def remove(self, model: Any, field_name: str, values: Iterable[Any], keep: Iterable[Any] = ()) -> None:
        """DELETE rows of `model` whose `field_name` is among `values` (and whose id is not in `keep`), in
        plain SQL: no signals (no history rows on a mirror) and no PROTECT check before the other tombstones
        of the run are applied (the foreign keys are checked at commit)."""
        values, kept = list(values), list(keep)
        quote = self.connection.ops.quote_name
        column = quote(model._meta.get_field(field_name).column)
        table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
        with self.connection.cursor() as cursor:
            for start in range(0, len(values), 500):
                chunk = values[start : start + 500]
                sql = f"DELETE FROM {table} WHERE {column} IN ({', '.join(['%s'] * len(chunk))})"
                if kept:
                    sql += f" AND {pk} NOT IN ({', '.join(['%s'] * len(kept))})"
                cursor.execute(sql, [*chunk, *kept])

    def delete(self, model: Any, ids: Iterable[int]) -> None:
        """Delete rows and what is part of them: their many-to-many links, a household's members."""
        ids = list(ids)
        if not ids:
            return
        for many in model._meta.many_to_many:
            self.remove(many.remote_field.through, many.m2m_field_name(), ids)
        for related in model._meta.related_objects:
            if related.many_to_many:
                self.remove(related.through, related.field.m2m_reverse_field_name(), ids)
        if model is Household:
            self.remove(Member, "household", ids)
        self.remove(model, model._meta.pk.name, ids)

    def apply(self, name: str, records: list[dict[str, Any]]) -> int:
        """Write the records of one resource (with their members and many-to-many links)."""
        resource = RESOURCES[name]
        if name == "regions":  # a parent before its children: a child's parent is found by its code
            records = sorted(records, key=lambda record: (record["level"], record["code"]))
            for level in sorted({record["level"] for record in records}):
                self._apply(resource, [record for record in records if record["level"] == level])
            return len(records)
        self._apply(resource, records)
        return len(records)

    def _apply(self, resource: Resource, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        model = resource.model
        ids: dict[str, dict[Any, int]] = {}
        for relation in self.relations[resource.name]:
            values: set[Any] = set()
            for record in records:
                value = record.get(relation.name)
                values.update(value if isinstance(value, list) else [value])
            ids[relation.name] = self.resolve(relation.model_field.related_model, relation.key, values)
            if relation.model_field.related_model is model and relation.key == "id":  # an allocation's parent
                ids[relation.name].update({record["id"]: record["id"] for record in records})
        rows = []
        links: dict[Any, list[tuple[int, int]]] = {}
        by_field = {relation.model_field: relation for relation in self.relations[resource.name]}
        for record in records:
            row = {}
            for model_field in model._meta.concrete_fields:
                value = record.get(model_field.name)
                if model_field in by_field:
                    row[model_field.attname] = self._found(resource, by_field[model_field], ids, value, record)
                else:
                    row[model_field.attname] = model_field.to_python(value) if value is not None else None
            rows.append(row)
            for relation in self.relations[resource.name]:
                if relation.model_field.many_to_many:
                    pairs = links.setdefault(relation.model_field, [])
                    for value in record[relation.name]:
                        target = self._found(resource, relation, ids, value, record)
                        assert target is not None
                        pairs.append((record["id"], target))
        self.upsert(model, rows)
        owners = [record["id"] for record in records]
        for relation in self.relations[resource.name]:
            if relation.model_field.many_to_many:
                self._replace_links(relation.model_field, owners, links.get(relation.model_field, []))
        if model is Household:
            self._replace_members(records)

    def _found(
        self, resource: Resource, relation: Relation, ids: dict[str, dict[Any, int]], value: Any, record: dict[str, Any]
    ) -> int | None:
        if value is None:
            return None
        found = ids[relation.name].get(value)
        if found is None:
            raise Unresolved(
                f"{resource.title} {record.get('id')} 的“{relation.model_field.verbose_name}”为 {value}，"
                "镜像中还没有这条记录"
            )
        return found

    def _replace_links(self, many: Any, owners: list[int], pairs: list[tuple[int, int]]) -> None:
        through = many.remote_field.through
        source, target = many.m2m_field_name(), many.m2m_reverse_field_name()
        self.remove(through, source, owners)
        through._default_manager.using(self.alias).bulk_create(
            [through(**{f"{source}_id": owner, f"{target}_id": other}) for owner, other in pairs], batch_size=1000
        )

    def _replace_members(self, households: list[dict[str, Any]]) -> None:
        """A household's members are part of its record: those it no longer lists go, the rest are written."""
        members = [
            {**person, "household": household["id"]} for household in households for person in household["members"]
        ]
        owners = [household["id"] for household in households]
        # Every member of these households goes and the listed ones are written again: written over one
        # by one, a 户主 handed to the spouse would be two heads of one household in between (a unique
        # index). The foreign keys that name members are checked at commit.
        for start in range(0, len(owners), 200):
            self.remove(Member, "household", owners[start : start + 200])
        rows = []
        for person in members:
            row = {}
            for model_field in Member._meta.concrete_fields:
                if model_field.name == "household":
                    row[model_field.attname] = person["household"]
                else:
                    value = person.get(model_field.name)
                    row[model_field.attname] = model_field.to_python(value) if value is not None else None
            rows.append(row)
        self.upsert(Member, rows)


def _unique_text_fields(model: Any) -> list[Any]:
    """The model's text columns that are unique on their own (户编号, 身份证号, a code)."""
    single = {constraint.fields[0] for constraint in model._meta.constraints if _single_unique(constraint)}
    return [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and isinstance(field, models.CharField) and (field.unique or field.name in single)
    ]


def _single_unique(constraint: Any) -> bool:
    return (
        isinstance(constraint, models.UniqueConstraint) and len(constraint.fields) == 1 and constraint.condition is None
    )


@dataclass
class Report:
    full: dict[str, int] = field(default_factory=dict)  # resource → records read in full
    upserts: dict[str, int] = field(default_factory=dict)
    deletes: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # resource → why
    requests: int = 0
    attempts: int = 0


def readable(source: Source) -> list[str]:
    names = set(source.get("") or {})
    return [name for name in ORDER if name in names]


def skipped(names: list[str]) -> dict[str, str]:
    """Resources that cannot be mirrored because a resource their records name is not readable."""
    models_of = {RESOURCES[name].model: name for name in ORDER}
    why: dict[str, str] = {}
    for name in names:
        for relation in relations_of(RESOURCES[name]):
            needed = models_of.get(relation.model_field.related_model)
            if needed is not None and (needed not in names or needed in why):
                why[name] = f"须同时可读“{RESOURCES[needed].title}”"
    return why


def sync(*, source: Source, alias: str, say: Callable[[str], None] = print) -> Report:
    """One run: full sync of resources without a cursor, incremental sync of the rest; all or nothing."""
    report = Report()
    names = readable(source)
    report.skipped = skipped(names)
    names = [name for name in names if name not in report.skipped]
    if not names:
        raise MirrorError("该客户端没有可读的资源")
    _require_personal_data(source.get(f"{names[0]}/changes/"))  # before anything is written
    mirror = Mirror(alias)
    for attempt in range(1, RETRIES + 1):
        report.attempts = attempt
        try:
            with transaction.atomic(using=alias):
                _run(source, mirror, names, report, say)
            break
        except Unresolved as error:
            if attempt == RETRIES:
                raise MirrorError(f"{error}；重试 {RETRIES} 次仍未取到，请稍后再同步") from error
            say(f"  {error}，稍后重试")
            time.sleep(attempt)
    report.requests = source.requests
    return report


def _run(source: Source, mirror: Mirror, names: list[str], report: Report, say: Callable[[str], None]) -> None:
    saved = dict(MirrorCursor.objects.using(mirror.alias).filter(source=source.base).values_list("resource", "cursor"))
    report.full, report.upserts, report.deletes = {}, {}, {}
    plan = Plan()
    # Cursors of the resources read in full are taken first, before any of their records are read.
    for name in names:
        if name not in saved:
            page = source.get(f"{name}/changes/")
            _require_personal_data(page)
            plan.cursors[name] = page["cursor"]
            plan.full.add(name)
    for name in names:
        if name in plan.full:
            continue
        upserts: dict[int, dict[str, Any]] = {}
        deletes: set[int] = set()
        cursor = saved[name]
        while True:
            page = source.get(f"{name}/changes/", {"since": cursor, "limit": FEED_LIMIT})
            _require_personal_data(page)
            for change in page["changes"]:
                if change["op"] == "delete":
                    upserts.pop(change["id"], None)
                    deletes.add(change["id"])
                else:
                    deletes.discard(change["id"])
                    upserts[change["id"]] = change["record"]
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        plan.upserts[name], plan.deletes[name], plan.cursors[name] = upserts, deletes, cursor
    for name in reversed(names):
        if plan.deletes.get(name):
            mirror.delete(RESOURCES[name].model, plan.deletes[name])
            report.deletes[name] = len(plan.deletes[name])
    for name in names:
        if name in plan.full:
            report.full[name] = _full_read(source, mirror, name)
            say(f"  {RESOURCES[name].title}（{name}）：全量 {report.full[name]:,} 条")
        elif plan.upserts.get(name) or plan.deletes.get(name):
            report.upserts[name] = mirror.apply(name, list(plan.upserts[name].values()))
            say(
                f"  {RESOURCES[name].title}（{name}）：新增或修改 {report.upserts[name]:,} 条，"
                f"删除 {report.deletes.get(name, 0):,} 条"
            )
    now = timezone.now()
    for name, cursor in plan.cursors.items():
        MirrorCursor.objects.using(mirror.alias).update_or_create(
            source=source.base, resource=name, defaults={"cursor": cursor, "synced_at": now}
        )


def _full_read(source: Source, mirror: Mirror, name: str) -> int:
    total, after = 0, 0
    pending: list[dict[str, Any]] = []
    while True:
        page = source.get(f"{name}/", {"after": after, "limit": LIST_LIMIT})
        results = page["results"]
        if name == "regions":  # applied together, parents first
            pending += results
        else:
            total += mirror.apply(name, results)
        if not page["next"] or not results:
            break
        after = results[-1]["id"]
    if pending:
        total += mirror.apply(name, pending)
    return total


def _require_personal_data(page: dict[str, Any]) -> None:
    if not page.get("personal_data"):
        raise MirrorError(
            "该接口客户端不能查看个人信息，得到的身份证号、电话是脱敏的，不能据此建立镜像；"
            "请管理员在“接口客户端”页面为其勾选“可查看完整身份证号、电话和出生日期”"
        )
