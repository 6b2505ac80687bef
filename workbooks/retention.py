"""Uploads and their error workbooks are kept for a retention period, then deleted."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from workbooks.models import ImportBatch, ImportStatus
from workbooks.staging import discard


@dataclass
class PurgeResult:
    batches: int = 0
    files: int = 0
    expired: int = 0


def import_files_purge(*, now: datetime | None = None, retention_days: int | None = None) -> PurgeResult:
    """Delete the upload and its side files of every batch older than the retention period.

    The batch row stays (counts, errors, changes, who and when) with `file_purged_at` set; its staged
    rows go (so an applied batch can no longer be undone); a batch
    still waiting for confirmation can no longer be confirmed and becomes 已失效. Batches in
    progress are left to finish. Safe to run twice.
    """
    days = settings.IMPORT_FILE_RETENTION_DAYS if retention_days is None else retention_days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    result = PurgeResult()
    due = (
        ImportBatch.objects.filter(created_at__lt=cutoff, file_purged_at__isnull=True)
        .exclude(status__in=[ImportStatus.QUEUED, ImportStatus.PARSING, ImportStatus.APPLYING])
        .order_by("pk")
    )
    for batch in due.iterator():
        result.files += _delete_files(batch)
        with transaction.atomic():
            claimed = ImportBatch.objects.filter(pk=batch.pk, file_purged_at__isnull=True).update(
                file_purged_at=timezone.now()
            )
            result.batches += claimed
            # The staged rows hold the same personal data: gone too (the batch can no longer be undone).
            discard(batch.pk)
            result.expired += ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.READY).update(
                status=ImportStatus.EXPIRED
            )
    return result


def _delete_files(batch: ImportBatch) -> int:
    if not batch.file:
        return 0
    deleted = 0
    storage = batch.file.storage
    if storage.exists(batch.file.name):
        storage.delete(batch.file.name)
        deleted += 1
    try:
        upload = Path(batch.file.path)
    except NotImplementedError:  # a storage without local paths keeps no side files
        return deleted
    # Anything ever derived from the upload sits beside it as <upload>.<suffix>.
    for side in upload.parent.glob(f"{glob.escape(upload.name)}.*"):
        side.unlink(missing_ok=True)
        deleted += 1
    return deleted
