"""One write of one record (upsert by natural key, PUT, PATCH) and a batch of them, with their preconditions.

- A record that exists is changed only against the version the client last saw: `If-Match` (or a batch
  row's `base_version` / `base_etag`). Missing: 428; stale: 412 — unless a county user changed the record
  since that version, in which case nothing is written and the write waits in the conflict queue (409 for
  a single record, status "conflict" for a batch row; the rest of the batch proceeds).
- A write that changes nothing is answered "unchanged" whatever the version (a retry is harmless).
- A batch is one transaction: any row's error refuses the whole batch, with every row's errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from api.conflicts import conflict_record, history_since
from api.models import ApiClient, ApiConflict
from api.writers import RowInvalid, Writer
from households.services import ConcurrentEditError

MAX_BATCH = 5000


class PreconditionRequired(Exception):
    """428: a record that exists is changed only with the version the client saw."""


class PreconditionFailed(Exception):
    """412: the record moved on since the version the client saw (and no county edit is there to queue)."""


@dataclass
class Outcome:
    status: str  # created | updated | unchanged | conflict
    instance: Any
    conflict: ApiConflict | None = None
    changed: list[str] = field(default_factory=list)


def parse_etag(value: str | None) -> str | None:
    """The opaque tag of an If-Match header or a base_etag (quotes and a weak W/ prefix removed)."""
    if value is None:
        return None
    text = value.strip()
    if text.startswith("W/"):
        text = text[2:]
    return text.strip('"') or None


def write_record(
    *,
    writer: Writer,
    client: ApiClient,
    payload: dict[str, Any],
    etag_of: Any,
    instance: Any = None,
    partial: bool = False,
    base: str | None = None,
) -> Outcome:
    """Write one record in the caller's transaction; RowInvalid, PreconditionRequired/Failed or a conflict."""
    arguments = {
        "writer": writer,
        "client": client,
        "payload": payload,
        "etag_of": etag_of,
        "instance": instance,
        "partial": partial,
        "base": base,
    }
    try:
        with transaction.atomic():
            return _write_record(**arguments)
    except IntegrityError:
        # Another transaction inserted the same natural key (户编号, a member's 身份证号, a case's month…)
        # after this one looked for it; the insert waited on the unique index until that one committed.
        # Looking again now finds its row and answers as a retry after it would (unchanged, 428, 409…).
        return _write_record(**arguments)


def _write_record(
    *,
    writer: Writer,
    client: ApiClient,
    payload: dict[str, Any],
    etag_of: Any,
    instance: Any,
    partial: bool,
    base: str | None,
) -> Outcome:
    values = writer.parse(payload, creating=not partial)
    if instance is None:
        instance = writer.find(values)
    else:
        writer.check_in_scope(instance)
    if instance is not None:
        # Locked for the rest of the write: no edit slips in between the checks below and the save.
        instance = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
        changes = writer.changes(instance, values)
        if not changes:
            return Outcome("unchanged", instance)
        if base is None:
            raise PreconditionRequired(
                f"{writer.label(instance)}已存在；修改已有记录须携带其 ETag（If-Match 或 base_version）"
            )
        current = parse_etag(etag_of(instance))
        if base != current:
            conflict = _conflict(writer, client, instance, base, values)
            if conflict is not None:
                return Outcome("conflict", instance, conflict, list(changes))
            raise PreconditionFailed(
                f"{writer.label(instance)}在您读取之后已被修改（当前 ETag {current}，您提交的是 {base}），"
                "请重新读取后再提交"
            )
        expected = instance.version if writer.versioned else None
        try:
            saved = writer.save(instance, writer.merged(instance, values), expected_version=expected, reason="")
        except ConcurrentEditError as error:
            raise PreconditionFailed(f"{writer.label(instance)}刚被他人修改，请重新读取后再提交") from error
        return Outcome("updated", saved, changed=list(changes))
    if base is not None:
        raise PreconditionFailed("您提交了记录的 ETag，但该记录不存在（可能已被删除或作废），请重新读取")
    if partial:
        raise RowInvalid([{"message": "记录不存在，不能部分修改"}])
    saved = writer.save(None, writer.merged(None, values), expected_version=None, reason="")
    return Outcome("created", saved, changed=list(writer.flat(values)))


def _conflict(
    writer: Writer, client: ApiClient, instance: Any, base: str, values: dict[str, Any]
) -> ApiConflict | None:
    """A queued conflict when a county user (anyone but this client) changed the record since `base`."""
    if not writer.queues_conflicts or not base.isdigit():
        return None
    version = int(base)
    if version >= instance.version:
        return None
    history = history_since(writer, instance, version)
    if history.base is None or not (history.authors - {writer.actor.pk}):
        return None
    return conflict_record(
        writer=writer,
        client=client,
        instance=instance,
        base_version=version,
        base=history.base,
        theirs=writer.flat(values),
        ours=writer.state(instance),
    )


@dataclass
class BatchRow:
    row: int
    outcome: Outcome


class BatchInvalid(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


BASE_KEYS = ("base_version", "base_etag")


def write_batch(*, writer: Writer, client: ApiClient, records: list[Any], etag_of: Any) -> list[BatchRow]:
    """Every record in one transaction; BatchInvalid (nothing written) when any row has an error."""
    errors: list[dict[str, Any]] = []
    done: list[BatchRow] = []
    with transaction.atomic():
        for number, record in enumerate(records, start=1):
            if not isinstance(record, dict):
                errors.append({"row": number, "message": "每条记录应为对象"})
                continue
            payload = {key: value for key, value in record.items() if key not in BASE_KEYS}
            base = record.get("base_etag")
            if record.get("base_version") is not None:
                base = str(record["base_version"])
            try:
                with transaction.atomic():
                    outcome = write_record(
                        writer=writer, client=client, payload=payload, etag_of=etag_of, base=parse_etag(base)
                    )
            except RowInvalid as error:
                errors += [{"row": number, **item} for item in error.errors]
                continue
            except (PreconditionRequired, PreconditionFailed) as error:
                errors.append({"row": number, "field": "base_version", "message": str(error)})
                continue
            done.append(BatchRow(number, outcome))
        if errors:
            transaction.set_rollback(True)
            raise BatchInvalid(errors)
    return done
