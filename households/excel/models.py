"""Import batches and export records: who moved which workbook in or out, and what it did."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from regions.models import Region, ScopedQuerySet


class ImportKind(models.TextChoices):
    ROSTER = "roster", _("花名册")
    INCOME = "income", _("收入表")


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

    kind = models.CharField(_("类型"), max_length=16, choices=ImportKind.choices)
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
    # What history rows cannot restore: the risk types each updated case had before the batch.
    undo: models.JSONField[dict[str, Any], dict[str, Any]] = models.JSONField(_("撤销信息"), default=dict)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
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
    def in_progress(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.PARSING, ImportStatus.APPLYING)


class ExportRecordQuerySet(ScopedQuerySet):
    region_field = "region"


class ExportRecord(models.Model):
    """An export: who took which rows out of the ledger, and whether personal data was masked."""

    kind = models.CharField(_("类型"), max_length=16, choices=ImportKind.choices)
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("导出人"), on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("所属区划"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    exported_at = models.DateTimeField(_("导出时间"), auto_now_add=True)
    description = models.CharField(_("筛选条件"), max_length=500, blank=True)
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    masked = models.BooleanField(_("已脱敏"), default=True)

    objects = ExportRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("导出记录")
        verbose_name_plural = _("导出记录")
        ordering = ["-exported_at"]

    def __str__(self) -> str:
        return f"{self.exported_by} {self.get_kind_display()} {self.exported_at:%Y-%m-%d %H:%M}"


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

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="staged_rows")
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
        indexes = [models.Index(fields=["batch", "target", "action", "phase"])]

    def __str__(self) -> str:
        return f"{self.batch_id} {self.target} {self.action} {self.object_id or self.parent_key}"


class ImportedHistory(models.Model):
    """Base of the history tables an import writes to: each row names the batch that wrote it."""

    import_batch_id = models.BigIntegerField(null=True, db_index=True)

    class Meta:
        abstract = True


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
    PURGED = "purged", _("已清除")


ACTIVE_EXPORT_STATUSES = (ExportStatus.QUEUED, ExportStatus.RUNNING)


class ExportJobQuerySet(ScopedQuerySet):
    region_field = "region"

    def owned_by(self, user: Any) -> ExportJobQuerySet:
        return self.filter(requested_by=user)

    def active(self) -> ExportJobQuerySet:
        return self.filter(status__in=ACTIVE_EXPORT_STATUSES)


class ExportJob(models.Model):
    """A large export written by a worker: its filter, its progress, and the file kept for its owner."""

    kind = models.CharField(_("类型"), max_length=16, choices=ImportKind.choices)
    status = models.CharField(_("状态"), max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("导出人"), on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("所属区划"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The list page's query string: the worker reads it through the same filter form as the page.
    query = models.TextField(_("筛选参数"), blank=True)
    filters: models.JSONField[dict[str, Any], dict[str, Any]] = models.JSONField(
        _("筛选条件（结构化）"), default=dict, blank=True
    )
    description = models.CharField(_("筛选条件"), max_length=500, blank=True)
    household_count = models.PositiveIntegerField(_("户数"), default=0)
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    masked = models.BooleanField(_("已脱敏"), default=True)
    # A running job holds one of EXPORT_MAX_RUNNING numbered slots; the database refuses a slot twice.
    slot = models.PositiveSmallIntegerField(_("执行槽位"), null=True, blank=True)
    file = models.FileField(_("文件"), upload_to="exports/%Y/%m/", blank=True)
    file_name = models.CharField(_("文件名"), max_length=255, blank=True)
    failure = models.TextField(_("失败原因"), blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    # When a task for the job was last handed to the broker; the sweeper re-sends only old ones.
    task_sent_at = models.DateTimeField(_("任务发送时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    # Touched as rows are written; a running job whose heartbeat stops is failed by the sweeper.
    heartbeat_at = models.DateTimeField(_("任务心跳时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    purged_at = models.DateTimeField(_("文件清除时间"), null=True, blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["requested_by"],
                condition=models.Q(status__in=ACTIVE_EXPORT_STATUSES),
                name="export_job_one_active_per_user",
                violation_error_message=_("您已有一个导出正在进行"),
            ),
            models.UniqueConstraint(
                fields=["slot"],
                condition=models.Q(status=ExportStatus.RUNNING),
                name="export_job_one_running_per_slot",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ExportStatus.RUNNING) | models.Q(slot__isnull=False),
                name="export_job_running_has_slot",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="export_job_status_created")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.get_status_display()}"

    @property
    def in_progress(self) -> bool:
        return self.status in ACTIVE_EXPORT_STATUSES
