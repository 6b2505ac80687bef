"""Import batches: upload, check (preview), confirm (all or nothing), roll back."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, IntegrityError, OperationalError, connections, router, transaction
from django.utils import timezone

from households.excel.columns import INCOME_COLUMNS, ROSTER_COLUMNS, Column
from households.excel.income import IncomePlanner, income_apply
from households.excel.models import ImportBatch, ImportKind, ImportStatus
from households.excel.plan import MAX_STORED_CHANGES, MAX_STORED_ERRORS, Plan
from households.excel.prepared import PreparedRoster, households_moved_on
from households.excel.reader import FileRefused, read_table_isolated, read_table_kept
from households.excel.roster import RosterPlanner, roster_apply

logger = logging.getLogger(__name__)
CHANGED_SINCE_PREVIEW = "预览之后数据已发生变化，本次导入未写入任何数据，请重新上传校验。"
COLUMNS: dict[str, tuple[Column, ...]] = {ImportKind.ROSTER: ROSTER_COLUMNS, ImportKind.INCOME: INCOME_COLUMNS}


def import_batch_create(*, by: Any, kind: str, upload: UploadedFile) -> ImportBatch:
    """Store the uploaded file as a new batch waiting to be checked."""
    if not by.has_perm("households.add_household" if kind == ImportKind.ROSTER else "households.add_incomerecord"):
        raise PermissionDenied("您的角色没有导入权限")
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(f"文件大小超过上限 {limit // (1024 * 1024)} MB")
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    batch = ImportBatch(
        kind=kind,
        uploaded_by=by,
        region=by.region,
        file_name=Path(upload.name or "upload").name[:255],
        file_sha256=digest.hexdigest(),
    )
    batch.file.save(f"{digest.hexdigest()[:16]}{Path(upload.name or '').suffix.lower()[:8]}", upload, save=False)
    batch.save()
    return batch


def _progress(batch: ImportBatch, percent: int, message: str) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(progress=percent, progress_message=message)


def _kept_table(batch: ImportBatch) -> Path:
    """Where the preview keeps the parsed file for the confirmation (reader.read_table_kept)."""
    return Path(f"{batch.file.path}.table")


def _prepared_writes(batch: ImportBatch) -> Path:
    """Where the preview keeps the roster's prepared writes for the confirmation (prepared.py)."""
    return Path(f"{batch.file.path}.writes")


def _forget_table(batch: ImportBatch) -> None:
    _kept_table(batch).unlink(missing_ok=True)
    _prepared_writes(batch).unlink(missing_ok=True)


def _can_prepare() -> bool:
    """Prepared writes are COPY text: PostgreSQL only."""
    from households.models import Household

    return connections[router.db_for_write(Household)].vendor == "postgresql"


def _plan(batch: ImportBatch, *, user: Any, lock: bool) -> Plan:
    """Read the batch's file (in a child process) and plan it against the registry.

    The preview keeps the parsed cells (and, for a roster on PostgreSQL, the prepared writes); a
    confirmation that plans again uses the cells when they were parsed from the very same bytes.
    """
    path = Path(batch.file.path)
    limits: dict[str, Any] = {
        "columns": COLUMNS[batch.kind],
        "original_name": batch.file_name,
        "max_rows": settings.IMPORT_MAX_ROWS,
        "max_uncompressed_bytes": settings.IMPORT_MAX_UNCOMPRESSED_BYTES,
    }
    table = read_table_kept(_kept_table(batch), path, **limits) if lock else None
    if table is None:
        keep = None if lock else _kept_table(batch)
        table = read_table_isolated(path, **limits, memory_limit_bytes=settings.IMPORT_PARSER_MEMORY_BYTES, keep=keep)
    batch.sheet_name, batch.header_row, batch.row_count = table.sheet, table.header_row, table.row_count
    batch.ignored_columns = table.ignored_columns
    _progress(batch, 40, f"已读取 {table.row_count} 行，正在校验")
    if batch.kind == ImportKind.ROSTER:
        planner = RosterPlanner(user=user, sheet=table.sheet, lock=lock, prepare=_can_prepare())
        return planner.run_table(table)
    return IncomePlanner(user=user, sheet=table.sheet, lock=lock).run(table.rows)


def _store(batch: ImportBatch, plan: Plan) -> None:
    batch.counts = plan.summary()
    batch.errors = [e.as_dict() for e in sorted(plan.errors, key=lambda e: e.row)[:MAX_STORED_ERRORS]]
    batch.error_count = len(plan.errors)
    batch.changes = [c.as_dict() for c in plan.changes[:MAX_STORED_CHANGES]]


def import_batch_check(*, batch_id: int) -> ImportBatch:
    """Parse and validate without writing: the preview. Safe to run again."""
    batch = ImportBatch.objects.select_related("uploaded_by", "uploaded_by__region").get(pk=batch_id)
    if batch.status not in (ImportStatus.QUEUED, ImportStatus.PARSING):
        return batch
    batch.status = ImportStatus.PARSING
    batch.save(update_fields=["status"])
    _progress(batch, 10, "正在读取文件")
    try:
        plan = _plan(batch, user=batch.uploaded_by, lock=False)
    except FileRefused as refused:
        batch.status, batch.refusal = ImportStatus.REFUSED, str(refused)
    else:
        _store(batch, plan)
        if plan.has_errors:
            batch.status = ImportStatus.INVALID
        elif not plan.has_changes:
            batch.status = ImportStatus.UNCHANGED
        else:
            batch.status = ImportStatus.READY
            if plan.prepared is not None:
                plan.prepared.save(_prepared_writes(batch), batch_id=batch.pk, file_sha256=batch.file_sha256)
    if batch.status != ImportStatus.READY:
        _forget_table(batch)
    batch.progress, batch.progress_message, batch.checked_at = 100, "校验完成", timezone.now()
    batch.save()
    return batch


def import_batch_confirm(*, batch_id: int, by_id: int) -> ImportBatch:
    """Write the whole file in one transaction, or nothing.

    The preview's prepared rows when nothing they rely on changed (_apply_prepared); otherwise the
    file planned again under row locks.
    """
    from regions.models import User

    by = User.objects.select_related("region").get(pk=by_id)
    batch = ImportBatch.objects.get(pk=batch_id)
    # APPLYING: the page queued it; a redelivered task finds the same state (its transaction rolled back).
    if batch.status not in (ImportStatus.READY, ImportStatus.APPLYING):
        return batch
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.APPLYING, progress=10, progress_message="正在导入"
    )
    try:
        with transaction.atomic():
            undo = _apply_prepared(batch, by)
            if undo is not None:
                batch.undo = undo
            else:
                plan = _plan(batch, user=by, lock=True)
                if plan.has_errors or not plan.has_changes:
                    raise _NothingWritten(plan)
                _progress(batch, 60, "正在写入")
                apply = roster_apply if batch.kind == ImportKind.ROSTER else income_apply
                batch.undo = apply(plan, user=by, reason=batch.history_reason)
                _store(batch, plan)
    except _NothingWritten as nothing:
        _store(batch, nothing.plan)
        batch.status = ImportStatus.FAILED if nothing.plan.has_errors else ImportStatus.UNCHANGED
        batch.refusal = CHANGED_SINCE_PREVIEW if nothing.plan.has_errors else ""
    except FileRefused as refused:
        batch.status, batch.refusal = ImportStatus.FAILED, str(refused)
    except IntegrityError:
        # A record created while this transaction ran (the same 户编号 or 身份证号): nothing was written.
        batch.status, batch.refusal = ImportStatus.FAILED, CHANGED_SINCE_PREVIEW
    except OperationalError as error:
        # A deadlock or lock timeout against another import or edit of the same households.
        logger.warning("Batch %s not written: %s", batch.pk, error)
        batch.status, batch.refusal = ImportStatus.FAILED, "导入时与他人的修改冲突，未写入任何数据，请重新上传校验。"
    else:
        batch.status, batch.applied_at, batch.applied_by = ImportStatus.APPLIED, timezone.now(), by
    batch.progress, batch.progress_message = 100, "完成"
    batch.save()
    _forget_table(batch)
    return batch


def _apply_prepared(batch: ImportBatch, by: Any) -> dict[str, Any] | None:
    """Write the writes the preview prepared, when nothing they rely on has changed (prepared.py).

    Returns the undo data, or None when the file must be planned again: no prepared writes, a
    household or case changed since the preview, another user confirms, or a record created
    meanwhile trips a constraint (then nothing of this attempt is left: its savepoint is rolled
    back). The caller holds the transaction.
    """
    if batch.kind != ImportKind.ROSTER:
        return None
    prepared = PreparedRoster.load(_prepared_writes(batch), batch_id=batch.pk, file_sha256=batch.file_sha256)
    if prepared is None or not prepared.still_valid(by):
        return None
    _progress(batch, 60, "正在写入")
    try:
        with transaction.atomic():
            undo = prepared.apply(user=by, reason=batch.history_reason)
            # Deferred foreign keys are checked now, inside the savepoint, not at the commit.
            with connections[router.db_for_write(ImportBatch)].cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    except IntegrityError:
        return None  # a record created since the preview: planning again says which
    except (DatabaseError, LookupError, TypeError, ValueError):
        # Not expected (the checks above passed); planning again is still right, and says why if not.
        logger.exception("Prepared rows of batch %s not written; planning again", batch.pk)
        return None
    return undo


class _NothingWritten(Exception):
    def __init__(self, plan: Plan) -> None:
        super().__init__("nothing written")
        self.plan = plan


# Children first, so deleting what a batch created never trips a PROTECT foreign key.
ROLLBACK_ORDER = ("incomerecord", "monitoringcase", "member", "household")


@transaction.atomic
def import_batch_rollback(*, batch: ImportBatch, by: Any) -> ImportBatch:
    """Undo an applied batch as a whole, while no later change has touched its rows."""
    from django.apps import apps
    from django.db.models import Max

    from households.models import MonitoringCase
    from households.services import income_facts_refresh

    if not by.has_perm("households.change_household"):
        raise PermissionDenied("您的角色没有撤销导入的权限")
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportStatus.APPLIED:
        raise ValidationError("只有已导入的批次可以撤销")
    reason = batch.history_reason
    touched_households: set[int] = set()
    moved_on: set[int] = set()  # households whose members or cases are put back
    plans = []
    for model_name in ROLLBACK_ORDER:
        model = apps.get_model("households", model_name)
        history = model.history.model
        rows = {row.id: row for row in history.objects.filter(history_change_reason=reason)}
        latest = dict(
            history.objects.filter(id__in=list(rows))
            .values("id")
            .annotate(last=Max("history_id"))
            .values_list("id", "last")
        )
        changed_since = [object_id for object_id, row in rows.items() if latest.get(object_id) != row.history_id]
        if changed_since:
            raise ValidationError(f"本批次导入的部分记录在导入后已被修改（{model._meta.verbose_name}），不能整批撤销")
        plans.append((model, history, rows))
    for model, history, rows in plans:
        created = [object_id for object_id, row in rows.items() if row.history_type == "+"]
        updated = [row for row in rows.values() if row.history_type == "~"]
        if model is MonitoringCase:
            MonitoringCase.risk_types.through.objects.filter(monitoringcase_id__in=created).delete()
        for row in updated:
            previous = history.objects.filter(id=row.id, history_id__lt=row.history_id).order_by("-history_id").first()
            instance = model.objects.get(pk=row.id)
            current_version = getattr(instance, "version", None)
            for field in history._meta.get_fields():
                name = getattr(field, "attname", None)
                if name and hasattr(instance, name) and not name.startswith("history_") and name != "id":
                    setattr(instance, name, getattr(previous, name))
            if current_version is not None:
                # Forward, never back to a version an open form or a prepared import already saw.
                instance.version = current_version + 1
            instance._history_user = by
            instance._change_reason = f"撤销{reason}"
            instance.save()
        if model is MonitoringCase:
            through = MonitoringCase.risk_types.through
            for case_id, risk_ids in batch.undo.get("case_risks", {}).items():
                through.objects.filter(monitoringcase_id=int(case_id)).delete()
                through.objects.bulk_create([through(monitoringcase_id=int(case_id), risktype_id=r) for r in risk_ids])
        if model_name_of(model) == "incomerecord":
            touched_households |= {row.household_id for row in rows.values()}
        if model_name_of(model) in ("member", "monitoringcase"):
            moved_on |= {row.household_id for row in rows.values()}
        model.objects.filter(pk__in=created).delete()
    households_moved_on(moved_on)
    if touched_households:
        income_facts_refresh(household_ids=touched_households)
    batch.status, batch.rolled_back_at = ImportStatus.ROLLED_BACK, timezone.now()
    batch.save(update_fields=["status", "rolled_back_at"])
    return batch


def model_name_of(model: Any) -> str:
    return str(model._meta.model_name)
