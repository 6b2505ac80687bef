"""Reconciliation: a client posts, for one county, (户编号 or 身份证号, checksum) for every household and member
it holds; the county answers with what is missing on either side and what differs.

The checksum of a record is defined here, canonically, so the province can compute its own:

    SHA-256 (lowercase hex) of the UTF-8 bytes of the record's values, in the order of
    HOUSEHOLD_FIELDS or MEMBER_FIELDS, joined by the character U+001F (unit separator).

Each value as text: a string as it is; empty for null; "1" or "0" for a boolean; an integer in decimal
digits; a date as YYYY-MM-DD; a region as its 12-digit code, a household as its 户编号. Example (a household):
"532326100201001|532326100201|lifted|2016|0|13812345678|…" with U+001F in place of each "|".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from api.models import (
    ApiClient,
    EntryKind,
    Problem,
    Reconciliation,
    ReconciliationDifference,
    ReconciliationEntry,
    ReconciliationStatus,
)
from households.models import Household, Member
from regions.models import Level, Region

SEPARATOR = "\x1f"

# (value path for values_list, name in the API's household record)
HOUSEHOLD_FIELDS: tuple[tuple[str, str], ...] = (
    ("number", "number"),
    ("village__code", "village"),
    ("household_type", "household_type"),
    ("lifted_year", "lifted_year"),
    ("relocated", "relocated"),
    ("phone", "phone"),
    ("address", "address"),
    ("helper_name", "helper_name"),
    ("helper_unit", "helper_unit"),
    ("helper_phone", "helper_phone"),
    ("status", "status"),
    ("cancelled_reason", "cancelled_reason"),
    ("cancelled_on", "cancelled_on"),
)
MEMBER_FIELDS: tuple[tuple[str, str], ...] = (
    ("id_number", "id_number"),
    ("household__number", "household"),
    ("name", "name"),
    ("relation", "relation"),
    ("labour", "labour"),
    ("health", "health"),
    ("schooling", "schooling"),
    ("work_place", "work_place"),
    ("work_months", "work_months"),
    ("medical_insurance", "medical_insurance"),
    ("is_active", "is_active"),
    ("left_reason", "left_reason"),
    ("left_on", "left_on"),
)
FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    EntryKind.HOUSEHOLD.value: HOUSEHOLD_FIELDS,
    EntryKind.MEMBER.value: MEMBER_FIELDS,
}
KEY_LABELS: dict[str, str] = {EntryKind.HOUSEHOLD.value: "户编号", EntryKind.MEMBER.value: "身份证号"}
MAX_ENTRIES_PER_CALL = 10_000
CHUNK = 5_000


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def checksum(values: Iterable[Any]) -> str:
    """The canonical checksum of a record's values (in the order of its kind's fields)."""
    return hashlib.sha256(SEPARATOR.join(as_text(value) for value in values).encode()).hexdigest()


def record_checksum(kind: str, record: dict[str, Any]) -> str:
    """The checksum of a record as the API serializes it (households: the household itself, members: one
    of its members with `household` set to the 户编号): what a client computes from what it mirrored."""
    return checksum(record.get(name) for _path, name in FIELDS[kind])


def county_checksums(*, county: Region, kind: str) -> Iterator[tuple[str, str]]:
    """(key, checksum) of every household or member of the county, streamed."""
    fields = [path for path, _name in FIELDS[kind]]
    if kind == EntryKind.HOUSEHOLD:
        rows = Household.objects.in_region(county).order_by("pk").values_list(*fields)
    else:
        rows = Member.objects.in_region(county).order_by("pk").values_list(*fields)
    for values in rows.iterator(chunk_size=CHUNK):
        yield str(values[0]), checksum(values)


class EntryErrors(Exception):
    """Faulty entries: for each posted entry (in order) its field errors, empty for a good one."""

    def __init__(self, rows: list[dict[str, list[str]]]) -> None:
        super().__init__("条目有误")
        self.rows = rows


def _entries_checked(entries: Any, *, taken: set[tuple[str, str]]) -> list[ReconciliationEntry]:
    """The posted entries as rows; EntryErrors naming each faulty one. `taken`: (kind, key) posted before."""
    if not isinstance(entries, list):
        raise ValidationError({"entries": "应为条目列表"})
    if len(entries) > MAX_ENTRIES_PER_CALL:
        raise ValidationError({"entries": f"每次最多提交 {MAX_ENTRIES_PER_CALL:,} 条，本次 {len(entries):,} 条"})
    rows: list[ReconciliationEntry] = []
    errors: list[dict[str, list[str]]] = []
    seen = set(taken)
    for entry in entries:
        problems: dict[str, list[str]] = {}
        entry = entry if isinstance(entry, dict) else {}
        kind, key, digest = entry.get("kind"), entry.get("key"), entry.get("checksum")
        if kind not in EntryKind.values:
            problems["kind"] = ["应为 household（户编号）或 member（身份证号）"]
        if not isinstance(key, str) or not 0 < len(key) <= 32 or not key.isprintable():
            problems["key"] = ["应为 1～32 个字符的户编号或身份证号（不含空字符、换行等不可见字符）"]
        if not isinstance(digest, str) or len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest):
            problems["checksum"] = ["应为 64 位小写十六进制的 SHA-256 校验值"]
        if not problems:
            assert isinstance(kind, str) and isinstance(key, str) and isinstance(digest, str)
            if (kind, key) in seen:
                problems["key"] = [f"{KEY_LABELS[kind]} {key} 重复提交"]
            seen.add((kind, key))
            rows.append(ReconciliationEntry(kind=kind, key=key, checksum=digest))
        errors.append(problems)
    if any(errors):
        raise EntryErrors(errors)
    return rows


def reconciliation_create(*, client: ApiClient, county: Region, entries: Any = None) -> Reconciliation:
    """A new reconciliation of `county` (a county in the client's region), with a first batch of entries."""
    if county.level != Level.COUNTY:
        raise ValidationError({"county": "应为县级区划代码"})
    with transaction.atomic():
        reconciliation = Reconciliation.objects.create(client=client, county=county)
        if entries:
            reconciliation_entries_add(reconciliation=reconciliation, entries=entries)
    return reconciliation


@transaction.atomic
def reconciliation_entries_add(*, reconciliation: Reconciliation, entries: Any) -> int:
    """Add a batch of entries, all or nothing; how many the reconciliation now holds."""
    locked = Reconciliation.objects.select_for_update().get(pk=reconciliation.pk)
    if locked.status != ReconciliationStatus.RECEIVING:
        raise ValidationError({"status": "该核对已完成，不能再提交条目；请新建一次核对"})
    keys = [entry.get("key") for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []
    # Only keys that can be stored are looked up: PostgreSQL refuses a NUL even in a query's parameters.
    keys = [key for key in keys if isinstance(key, str) and key.isprintable()]
    taken = set(locked.entries.filter(key__in=keys).values_list("kind", "key"))
    posted = _entries_checked(entries, taken=taken)
    for entry in posted:
        entry.reconciliation = locked
    ReconciliationEntry.objects.bulk_create(posted, batch_size=CHUNK)
    return locked.entries.count()


def reconciliation_finish(*, reconciliation: Reconciliation) -> Reconciliation:
    """Compare the posted entries with the county's households and members and store what differs.

    Finishing twice answers the stored report (a retried request changes nothing)."""
    with transaction.atomic():
        locked = Reconciliation.objects.select_for_update().get(pk=reconciliation.pk)
        if locked.status == ReconciliationStatus.FINISHED:
            return locked
        summary: dict[str, dict[str, int]] = {}
        for kind in EntryKind.values:
            posted = dict(locked.entries.filter(kind=kind).values_list("key", "checksum").iterator(chunk_size=CHUNK))
            counts = {"posted": len(posted), "county": 0, **dict.fromkeys(Problem.values, 0)}
            differences: list[ReconciliationDifference] = []
            for key, ours in county_checksums(county=locked.county, kind=kind):
                counts["county"] += 1
                theirs = posted.pop(key, None)
                if theirs == ours:
                    continue
                problem = Problem.MISSING_IN_PROVINCE if theirs is None else Problem.DIFFERS
                differences.append(_difference(locked, kind, key, problem, ours, theirs or ""))
                if len(differences) >= CHUNK:
                    counts.update(_store(differences, counts))
            for key, theirs in posted.items():
                differences.append(_difference(locked, kind, key, Problem.MISSING_IN_COUNTY, "", theirs))
            counts.update(_store(differences, counts))
            summary[kind] = counts
        locked.entries.all().delete()
        locked.status, locked.summary, locked.finished_at = ReconciliationStatus.FINISHED, summary, timezone.now()
        locked.save(update_fields=["status", "summary", "finished_at"])
        _forget_older(locked)
    return locked


def _difference(
    reconciliation: Reconciliation, kind: str, key: str, problem: str, ours: str, theirs: str
) -> ReconciliationDifference:
    return ReconciliationDifference(
        reconciliation=reconciliation,
        kind=kind,
        key=key,
        problem=problem,
        county_checksum=ours,
        province_checksum=theirs,
    )


def _store(differences: list[ReconciliationDifference], counts: dict[str, int]) -> dict[str, int]:
    for difference in differences:
        counts[difference.problem] += 1
    ReconciliationDifference.objects.bulk_create(differences, batch_size=CHUNK)
    differences.clear()
    return counts


def _forget_older(latest: Reconciliation) -> None:
    """Keep the last API_RECONCILIATIONS_KEPT finished reconciliations of a client and county."""
    kept = settings.API_RECONCILIATIONS_KEPT
    older = Reconciliation.objects.filter(
        client=latest.client, county=latest.county, status=ReconciliationStatus.FINISHED
    ).order_by("-created_at", "-pk")[kept:]
    Reconciliation.objects.filter(pk__in=list(older.values_list("pk", flat=True))).delete()
