"""Export records and jobs: who took which rows of the ledger out, and the files written for them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from regions.models import Region, ScopedQuerySet


class ImportKind(models.TextChoices):
    ROSTER = "roster", _("花名册")
    INCOME = "income", _("收入表")


class ExportKind(models.TextChoices):
    """What an export record took out: a register's rows, a village's printed 明白卡, or a dashboard's
    report (figures, no personal data)."""

    ROSTER = "roster", _("花名册")
    INCOME = "income", _("收入表")
    CARDS = "cards", _("明白卡")
    DASHBOARD = "dashboard", _("考核看板报表")
    # The record registers of the apps above (workbooks.records): the kind is the register's name, the
    # label its label (tests/households/test_export_kinds.py holds every register to it).
    ENTITIES = "entities", _("经营主体")
    BINDINGS = "bindings", _("企业绑定合作社")
    MEMBERSHIPS = "memberships", _("合作社成员户")
    EARNINGS = "earnings", _("合作社收益")
    ALLOCATIONS = "allocations", _("资金下达")
    PROJECTS = "projects", _("项目库")
    BENEFICIARIES = "beneficiaries", _("项目受益农户")
    FUNDINGS = "fundings", _("资金安排")
    PAYMENTS = "payments", _("资金支付")
    COLLECTIVE = "collective", _("村集体经济收入")


class ExportRecordQuerySet(ScopedQuerySet):
    region_field = "region"


class ExportRecord(models.Model):
    """An export: who took which rows out of the ledger, and whether personal data was masked."""

    kind = models.CharField(_("类型"), max_length=16, choices=ExportKind.choices)
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
