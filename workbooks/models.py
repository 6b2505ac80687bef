"""Import batches and their staged rows: an uploaded file, what checking it found, what it would write."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from regions.models import Region, ScopedQuerySet


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    PARSING = "parsing", _("解析校验中")
    READY = "ready", _("待确认导入")
    INVALID = "invalid", _("有错误，不能导入")
    REFUSED = "refused", _("文件被拒绝")
    APPLYING = "applying", _("导入中")
    APPLIED = "applied", _("已导入")
    UNCHANGED = "unchanged", _("无变化")
    FAILED = "failed", _("导入失败，未写入")
    ROLLED_BACK = "rolled_back", _("已撤销")
    EXPIRED = "expired", _("已失效")


class ImportBatchQuerySet(ScopedQuerySet):
    region_field = "region"


class ImportBatch(models.Model):
    """One uploaded file: its checks, its preview, and (once confirmed) what it wrote."""

    # The register's name (registers.get(kind)): "roster", "income", later "cooperatives" …
    kind = models.CharField(_("类型"), max_length=32)
    status = models.CharField(_("状态"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    # The uploader's region: the uploader and everyone above it may open the batch (None: system-wide).
    region = models.ForeignKey(
        Region, verbose_name=_("所属区划"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(_("文件"), upload_to="imports/%Y/%m/")
    file_name = models.CharField(_("文件名"), max_length=255)
    file_sha256 = models.CharField(_("文件SHA-256"), max_length=64, db_index=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    checked_at = models.DateTimeField(_("校验完成时间"), null=True, blank=True)
    applied_at = models.DateTimeField(_("导入时间"), null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rolled_back_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    progress_message = models.CharField(_("进度说明"), max_length=200, blank=True)
    refusal = models.TextField(_("拒绝原因"), blank=True)
    # Headers of the file that match no column of the register: shown in the preview, never silently dropped.
    ignored_columns: models.JSONField[list[str], list[str]] = models.JSONField(_("忽略的列"), default=list)
    # Set when the check or confirm task was handed to the broker; a sweeper re-sends batches without it.
    task_sent_at = models.DateTimeField(_("任务发送时间"), null=True, blank=True)
    # Touched by the running task; a batch in progress whose heartbeat stops is retried or failed.
    heartbeat_at = models.DateTimeField(_("任务心跳时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("执行次数"), default=0)
    # When the retention period ended and the upload and its error workbook were deleted.
    file_purged_at = models.DateTimeField(_("文件清除时间"), null=True, blank=True)
    sheet_name = models.CharField(_("工作表"), max_length=100, blank=True)
    header_row = models.PositiveIntegerField(_("表头行"), null=True, blank=True)
    row_count = models.PositiveIntegerField(_("数据行数"), default=0)
    counts: models.JSONField[dict[str, Any], dict[str, Any]] = models.JSONField(_("统计"), default=dict)
    errors: models.JSONField[list[dict[str, Any]], list[dict[str, Any]]] = models.JSONField(_("错误"), default=list)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    changes: models.JSONField[list[dict[str, Any]], list[dict[str, Any]]] = models.JSONField(
        _("变更明细"), default=list
    )

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        # The table keeps the name it had when the pipeline lived in the households app.
        db_table = "households_importbatch"
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"

    @property
    def history_reason(self) -> str:
        """The change reason written on every history row this batch creates."""
        return f"导入批次#{self.pk}"

    @property
    def kind_label(self) -> str:
        """The register's Chinese name, e.g. 花名册."""
        from workbooks import registers

        try:
            return registers.get(self.kind).label
        except LookupError:
            return self.kind

    @property
    def in_progress(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.PARSING, ImportStatus.APPLYING)


class StagedAction(models.TextChoices):
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    # A record the preview read without changing it, whose version the confirmation still checks.
    CHECK = "check", _("核对")


class StagedRow(models.Model):
    """One write a previewed batch would make, with the version of the record it read.

    The preview fills these; the confirmation refuses the batch when any staged version moved,
    then applies them set-based (INSERT … SELECT, UPDATE … FROM); undo restores `before`.
    """

    # No database foreign key and no index of its own: a preview writes 250,000 rows in one transaction,
    # and each would queue a constraint check for the commit. The Stager writes only its own batch's
    # id (locked while it checks), Django still cascades a batch's deletion, and the index below
    # starts with the batch.
    batch = models.ForeignKey(
        ImportBatch, on_delete=models.CASCADE, related_name="staged_rows", db_constraint=False, db_index=False
    )
    # Apply order: a register's steps run phase by phase (households before their members …).
    phase = models.PositiveSmallIntegerField()
    seq = models.PositiveIntegerField()
    target = models.CharField(max_length=64)  # model label, e.g. "households.member"
    action = models.CharField(max_length=8, choices=StagedAction.choices)
    object_id = models.BigIntegerField(null=True)
    version = models.PositiveIntegerField(null=True)
    # A create whose parent is created by the same batch: the parent's natural key (e.g. 户编号).
    parent_key = models.CharField(max_length=64, blank=True)
    row = models.PositiveIntegerField(null=True)
    values: models.JSONField[dict[str, Any], dict[str, Any]] = models.JSONField(default=dict)
    before: models.JSONField[dict[str, Any] | None, dict[str, Any] | None] = models.JSONField(null=True)

    class Meta:
        db_table = "households_stagedrow"
        indexes = [models.Index(fields=["batch", "target", "action", "phase"], name="households__batch_i_954aad_idx")]

    def __str__(self) -> str:
        return f"{self.batch_id} {self.target} {self.action} {self.object_id or self.parent_key}"


class ImportedHistory(models.Model):
    """Base of the history tables an import writes to: each row names the batch that wrote it."""

    import_batch_id = models.BigIntegerField(null=True, db_index=True)

    class Meta:
        abstract = True
