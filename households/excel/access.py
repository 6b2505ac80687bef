"""What of an import batch a user may see: its files, and its preview with personal data masked."""

from __future__ import annotations

from typing import Any

from households.personal_data import PERSONAL_LABELS, masked_text, may_view_personal_data, shown
from workbooks.models import ImportBatch
from workbooks.registers import Register

MAX_SHOWN_ROWS = 300


def batch_files_downloadable(*, batch: ImportBatch, user: Any) -> bool:
    """The upload and its error workbook go to the uploader and to roles that may see personal data.

    The caller has already found the batch through `ImportBatch.objects.visible_to(user)`.
    """
    if batch.file_purged_at is not None or not batch.file:
        return False
    if batch.uploaded_by_id != user.pk and not may_view_personal_data(user):
        return False
    return batch.file.storage.exists(batch.file.name)


def batch_preview(*, batch: ImportBatch, user: Any) -> dict[str, Any]:
    """The batch page's errors, changes and refusal, masked for roles without the permission."""
    reveal = may_view_personal_data(user)
    changes = batch.changes[:MAX_SHOWN_ROWS]
    errors = batch.errors[:MAX_SHOWN_ROWS]
    if not reveal:
        changes = [_masked_change(change) for change in changes]
        errors = [{key: _masked(value) for key, value in error.items()} for error in errors]
    return {
        "changes": changes,
        "errors": errors,
        "refusal": batch.refusal if reveal else masked_text(batch.refusal),
        "can_download": batch_files_downloadable(batch=batch, user=user),
    }


def _masked_change(change: dict[str, Any]) -> dict[str, Any]:
    field = str(change.get("field", ""))
    masked = {key: _masked(value) for key, value in change.items()}
    if field in PERSONAL_LABELS:
        for key in ("old", "new"):
            value = str(change.get(key, ""))
            # Placeholders such as （空） carry no digits and stay as they are.
            if any(character.isdigit() for character in value):
                masked[key] = shown(field, value, reveal=False)
    return masked


def _masked(value: Any) -> Any:
    return masked_text(value) if isinstance(value, str) else value


class PersonalDataSheet(Register):
    """A register whose files and previews carry personal data: masked and guarded as above."""

    def preview(self, *, batch: Any, user: Any) -> dict[str, Any]:
        return batch_preview(batch=batch, user=user)

    def may_download(self, *, batch: Any, user: Any) -> bool:
        return batch_files_downloadable(batch=batch, user=user)
