"""Import batches as a state machine: upload → check (stage, preview) → confirm (apply) → undo.

Every transition is a conditional update (`filter(status=…).update(…)`), so a double click or
a redelivered task repeats nothing; every failure ends in a state that says so (失败, 已失效,
文件被拒绝), never in one that waits forever; sweep() re-sends work whose task was lost or died.

    排队中 ─check→ 解析校验中 ─→ 待确认导入 ─confirm→ 导入中 ─→ 已导入 ─undo→ 已撤销
                     │            │                       ├─→ 已失效 (changed since the preview) ─recheck→ 排队中
                     │            └→ 有错误 / 无变化         └─→ 导入失败，未写入
                     └→ 文件被拒绝 / 导入失败
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, IntegrityError, OperationalError, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from workbooks import registers
from workbooks.apply import LaterChange, StaleBatch, apply_steps, lock_and_check, undo_steps
from workbooks.characters import printable
from workbooks.models import ImportBatch, ImportStatus
from workbooks.plan import MAX_STORED_CHANGES, MAX_STORED_ERRORS, Plan
from workbooks.queue import send_task
from workbooks.reader import FileRefused, read_table_isolated
from workbooks.staging import Stager, discard
from workbooks.stored import local_copy

logger = logging.getLogger(__name__)

CHANGED_SINCE_PREVIEW = "预览后数据已被修改，本批次未写入任何数据。请点击“重新校验”，按最新数据重新预览后再确认。"
CONFLICT = "导入时与他人的修改冲突，未写入任何数据，请稍后重新确认。"
UNEXPECTED = "导入时发生意外错误，未写入任何数据。请重试；如仍失败，请联系系统管理员。"
DISK_FULL = "服务器磁盘空间不足，文件未能保存，请稍后再试或联系系统管理员。"
QUEUE_DOWN = "任务队列暂时不可用：文件已保存，系统恢复后将自动开始校验，无需重新上传。"
INTERRUPTED = "导入多次中断，未写入任何数据，请重新确认。"
# A check or confirmation sent this many times without finishing ends 失败.
MAX_ATTEMPTS = 3


class AlreadyClaimed(Exception):
    """The transition was made already (a double click or a second request): nothing was done."""


def import_batch_create(*, by: Any, kind: str, upload: UploadedFile) -> ImportBatch:
    """Store the uploaded file as a new batch waiting to be checked; disk errors leave nothing behind."""
    register = registers.get(kind)
    if not by.has_perm(register.permission):
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
        file_name=printable(Path(upload.name or "upload").name)[:255],
        file_sha256=digest.hexdigest(),
    )
    name = f"{digest.hexdigest()[:16]}{Path(upload.name or '').suffix.lower()[:8]}"
    field, storage = batch.file.field, batch.file.storage
    # Named before writing: a write that fails half-way (a full disk) leaves a partial file under
    # this name, which batch.file does not know yet, and which must not stay and keep the disk full.
    stored = storage.get_available_name(field.generate_filename(batch, name), max_length=field.max_length)
    try:
        batch.file = storage.save(stored, upload, max_length=field.max_length)
        batch.save()
    except OSError as error:
        logger.error("Upload %s not stored: %s", name, error)
        _delete_upload(storage, stored, batch.file.name)
        raise ValidationError(DISK_FULL) from error
    except DatabaseError:
        _delete_upload(storage, stored, batch.file.name)
        raise
    return batch


def _delete_upload(storage: Any, *names: str | None) -> None:
    for name in {name for name in names if name}:
        try:
            storage.delete(name)
        except OSError as error:
            logger.error("Upload %s not deleted: %s", name, error)


def _send(task: Any, batch_id: int, *args: Any) -> bool:
    """Hand a batch's task to the broker; False (and the batch left for sweep()) when it is down."""
    if not send_task(task, batch_id, *args):
        return False
    ImportBatch.objects.filter(pk=batch_id).update(task_sent_at=timezone.now())
    return True


def import_batch_enqueue_check(*, batch: ImportBatch) -> bool:
    """Queue the batch's check after the upload's transaction commits; False when the queue is down."""
    from workbooks.tasks import import_batch_check_task

    sent: list[bool] = []
    transaction.on_commit(lambda: sent.append(_send(import_batch_check_task, batch.pk)))
    return all(sent)


def _progress(batch_id: int, percent: int, message: str) -> None:
    ImportBatch.objects.filter(pk=batch_id).update(
        progress=percent, progress_message=message, heartbeat_at=timezone.now()
    )


def _store(batch: ImportBatch, plan: Plan) -> None:
    batch.counts = plan.summary()
    errors = sorted(plan.errors, key=lambda e: e.row)[:MAX_STORED_ERRORS]
    batch.errors = [_printable(e.as_dict()) for e in errors]
    batch.error_count = len(plan.errors)
    batch.changes = [_printable(c.as_dict()) for c in plan.changes[:MAX_STORED_CHANGES]]


def _printable(values: dict[str, Any]) -> dict[str, Any]:
    """Cell text as the preview quotes it, control characters shown as �: PostgreSQL's jsonb takes no NUL."""
    return {key: printable(v) if isinstance(v, str) else v for key, v in values.items()}


def _end(batch_id: int, status: str, reason: str) -> ImportBatch:
    ImportBatch.objects.filter(pk=batch_id).update(
        status=status, refusal=printable(reason), progress=100, progress_message="完成", heartbeat_at=timezone.now()
    )
    return ImportBatch.objects.get(pk=batch_id)


def import_batch_check(*, batch_id: int) -> ImportBatch:
    """Parse in isolation, validate, stage: the preview. A second run of the same check does nothing."""
    now = timezone.now()
    claimed = ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.PARSING,
        attempts=F("attempts") + 1,
        heartbeat_at=now,
        progress=10,
        progress_message="正在读取文件",
    )
    batch = ImportBatch.objects.select_related("uploaded_by", "uploaded_by__region").get(pk=batch_id)
    if not claimed:
        return batch
    attempt = batch.attempts
    try:
        register = registers.get(batch.kind)
        parser = register.cell_parser()
        # The upload may sit on another machine's disk or in object storage: the child reads a copy.
        with local_copy(batch.file) as upload:
            table = read_table_isolated(
                upload,
                columns=register.columns,
                original_name=batch.file_name,
                max_rows=settings.IMPORT_MAX_ROWS,
                max_uncompressed_bytes=settings.IMPORT_MAX_UNCOMPRESSED_BYTES,
                memory_limit_bytes=settings.IMPORT_PARSER_MEMORY_BYTES,
                on_rows=parser.feed if parser is not None else None,
            )
        table.parsed = parser
        batch.sheet_name, batch.header_row, batch.row_count = printable(table.sheet), table.header_row, table.row_count
        batch.ignored_columns = [printable(header) for header in table.ignored_columns]
        _progress(batch_id, 40, f"已读取 {table.row_count} 行，正在校验")
        with transaction.atomic():
            current = ImportBatch.objects.select_for_update().get(pk=batch_id)
            if current.status != ImportStatus.PARSING or current.attempts != attempt:
                return current  # the sweeper handed the check to a newer run
            discard(batch_id)
            # The staged rows are written while the register plans; an error leaves none behind.
            with Stager(batch_id) as stager:
                plan = register.stage(table=table, user=batch.uploaded_by, stager=stager)
            _store(batch, plan)
            if plan.has_errors:
                batch.status = ImportStatus.INVALID
            elif not plan.has_changes:
                batch.status = ImportStatus.UNCHANGED
            else:
                batch.status = ImportStatus.READY
            if batch.status != ImportStatus.READY:
                discard(batch_id)
            batch.refusal = ""
            batch.progress, batch.progress_message, batch.checked_at = 100, "校验完成", timezone.now()
            batch.save()
    except FileRefused as refused:
        return _end(batch_id, ImportStatus.REFUSED, str(refused))
    except OSError as error:
        logger.error("Batch %s: file error while checking: %s", batch_id, error)
        return _end(batch_id, ImportStatus.FAILED, f"读取文件失败（{error.strerror or error}），请重新上传。")
    except DatabaseError:
        logger.exception("Batch %s: database error while checking", batch_id)
        return _end(batch_id, ImportStatus.FAILED, "校验时数据库出错，未写入任何数据，请重新上传。")
    except Exception:
        logger.exception("Batch %s: unexpected error while checking", batch_id)
        return _end(batch_id, ImportStatus.FAILED, "校验时发生意外错误，未写入任何数据，请重新上传或联系系统管理员。")
    return batch


def import_batch_claim(*, batch: ImportBatch, by: Any) -> None:
    """Claim a previewed batch for its confirmation (待确认导入 → 导入中); AlreadyClaimed for a repeat."""
    register = registers.get(batch.kind)
    if not by.has_perm(register.permission):
        raise PermissionDenied("您的角色没有导入权限")
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.READY).update(
        status=ImportStatus.APPLYING,
        applied_by=by,
        # Each delivery of the confirmation counts itself when it starts (MAX_ATTEMPTS), not the check's tries.
        attempts=0,
        heartbeat_at=timezone.now(),
        progress=10,
        progress_message="排队等待导入",
    )
    if not claimed:
        raise AlreadyClaimed


def import_batch_confirm_request(*, batch: ImportBatch, by: Any) -> None:
    """Claim a previewed batch and queue its confirmation (the page's 确认导入)."""
    from workbooks.tasks import import_batch_confirm_task

    import_batch_claim(batch=batch, by=by)
    transaction.on_commit(lambda: _send(import_batch_confirm_task, batch.pk, by.pk))


def import_batch_confirm(*, batch_id: int, by_id: int) -> ImportBatch:
    """Write a claimed batch's staged rows in one transaction, or nothing. Runs once per claim."""
    from regions.models import User

    by = User.objects.select_related("region").get(pk=by_id)
    ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.APPLYING).update(
        attempts=F("attempts") + 1, heartbeat_at=timezone.now(), progress=30, progress_message="正在导入"
    )
    # A confirmation that takes its worker down with it is delivered again at once: not forever.
    if ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.APPLYING, attempts__gt=MAX_ATTEMPTS).exists():
        return _end(batch_id, ImportStatus.FAILED, INTERRUPTED)
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
            if batch.status != ImportStatus.APPLYING:
                return batch  # applied (or ended) by an earlier delivery of this task
            register = registers.get(batch.kind)
            lock_and_check(batch_id, register.checked)
            created = apply_steps(batch_id, register.steps, user_id=by.pk, reason=batch.history_reason)
            register.after_apply(batch_id=batch_id, created=created)
            batch.status, batch.applied_at, batch.applied_by = ImportStatus.APPLIED, timezone.now(), by
            batch.progress, batch.progress_message, batch.refusal = 100, "完成", ""
            batch.save()
            return batch
    except (StaleBatch, IntegrityError):
        # A record read by the preview changed, or one it would create was created meanwhile.
        return _end(batch_id, ImportStatus.EXPIRED, CHANGED_SINCE_PREVIEW)
    except OperationalError as error:
        logger.warning("Batch %s not written: %s", batch_id, error)
        return _end(batch_id, ImportStatus.FAILED, CONFLICT)
    except Exception:
        logger.exception("Batch %s: unexpected error while confirming", batch_id)
        return _end(batch_id, ImportStatus.FAILED, UNEXPECTED)


def import_batch_recheck(*, batch: ImportBatch, by: Any) -> ImportBatch:
    """重新校验: an expired or failed batch's file checked again against today's data."""
    if by.pk != batch.uploaded_by_id and not by.has_perm(registers.get(batch.kind).permission):
        raise PermissionDenied("您的角色没有导入权限")
    reopened = ImportBatch.objects.filter(
        pk=batch.pk, status__in=[ImportStatus.EXPIRED, ImportStatus.FAILED], file_purged_at=None
    ).update(status=ImportStatus.QUEUED, progress=0, progress_message="", refusal="", attempts=0, task_sent_at=None)
    if not reopened:
        raise AlreadyClaimed
    import_batch_enqueue_check(batch=batch)
    return ImportBatch.objects.get(pk=batch.pk)


@transaction.atomic
def import_batch_rollback(*, batch: ImportBatch, by: Any) -> ImportBatch:
    """Undo an applied batch as a whole, while no later change has touched its rows."""
    register = registers.get(batch.kind)
    if not by.has_perm(register.undo_permission):
        raise PermissionDenied("您的角色没有撤销导入的权限")
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportStatus.APPLIED:
        raise ValidationError("只有已导入的批次可以撤销")
    if not batch.staged_rows.exists():
        raise ValidationError("该批次的暂存数据已按保留期限清除，不能撤销")
    try:
        with transaction.atomic():
            register.before_undo(batch_id=batch.pk)
            deleted = undo_steps(batch.pk, register.steps, user_id=by.pk, reason=f"撤销{batch.history_reason}")
            # Foreign keys are checked at the commit: a record added later to a household this batch
            # created must refuse the undo here, not fail the page.
            referring = {
                rel.related_model._meta.db_table
                for step in register.steps
                for rel in step.model._meta.related_objects
                if not isinstance(rel.related_model, str)
            }
            connections[ImportBatch.objects.db].check_constraints(table_names=sorted(referring))
    except LaterChange as change:
        raise ValidationError(
            f"本批次导入的部分记录在导入后已被修改（{change.model._meta.verbose_name}），不能整批撤销"
        ) from None
    except IntegrityError:
        raise ValidationError(
            "本批次新增的记录在导入后又被登记了其他内容（如收入、成员或监测对象），不能整批撤销"
        ) from None
    register.after_undo(batch_id=batch.pk, deleted=deleted)
    batch.status, batch.rolled_back_at = ImportStatus.ROLLED_BACK, timezone.now()
    batch.save(update_fields=["status", "rolled_back_at"])
    return batch


def import_batches_sweep(*, now: Any = None) -> dict[str, int]:
    """Re-send lost work and end dead work (run by beat every minute); returns what it did."""
    from workbooks.tasks import import_batch_check_task, import_batch_confirm_task

    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.IMPORT_TASK_STALE_SECONDS)
    done = {"resent": 0, "failed": 0}
    # Uploads whose check never reached the broker, or whose message was lost.
    unsent = ImportBatch.objects.filter(status=ImportStatus.QUEUED).filter(
        Q(task_sent_at=None, created_at__lt=now - timedelta(seconds=30)) | Q(task_sent_at__lt=stale)
    )
    for batch_id in unsent.values_list("pk", flat=True):
        done["resent"] += _send(import_batch_check_task, batch_id)
    # Checks whose process died: back to the queue, or 失败 after MAX_ATTEMPTS.
    dead_checks = ImportBatch.objects.filter(status=ImportStatus.PARSING, heartbeat_at__lt=stale)
    done["failed"] += dead_checks.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=ImportStatus.FAILED, refusal="校验多次中断，未写入任何数据，请重新上传。", progress=100
    )
    for batch_id in dead_checks.values_list("pk", flat=True):
        if ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.PARSING, heartbeat_at__lt=stale).update(
            status=ImportStatus.QUEUED, heartbeat_at=now
        ):
            done["resent"] += _send(import_batch_check_task, batch_id)
    # Confirmations whose worker died: its transaction rolled back, so sending it again is safe.
    for batch_id in _dead_confirmations(stale):
        batch = ImportBatch.objects.get(pk=batch_id)
        if batch.attempts >= MAX_ATTEMPTS:
            done["failed"] += ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.APPLYING).update(
                status=ImportStatus.FAILED, refusal=INTERRUPTED, progress=100
            )
            continue
        ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.APPLYING).update(heartbeat_at=now)
        done["resent"] += _send(import_batch_confirm_task, batch_id, batch.applied_by_id)
    return done


def _dead_confirmations(stale: Any) -> list[int]:
    """Batches 导入中 with an old heartbeat whose row no running confirmation holds locked."""
    candidates = ImportBatch.objects.filter(status=ImportStatus.APPLYING, heartbeat_at__lt=stale)
    if not connections[candidates.db].features.has_select_for_update_skip_locked:
        return list(candidates.values_list("pk", flat=True))
    with transaction.atomic():
        return list(candidates.select_for_update(skip_locked=True).values_list("pk", flat=True))
