"""季度关账 workflow state: each village's submission of a quarter, and the county's lock/reopen log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from figures.periods import Quarter
from regions.models import Level, Region, ScopedQuerySet

HISTORY = {"user_db_constraint": False}


class SubmissionStatus(models.TextChoices):
    FILLING = "filling", _("填报中")
    SUBMITTED = "submitted", _("已提交")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("已审核")


class QuarterSubmissionQuerySet(ScopedQuerySet):
    region_field = "village"

    def for_period(self, period: Quarter) -> QuarterSubmissionQuerySet:
        return self.filter(year=period.year, quarter=period.number)


class QuarterSubmission(models.Model):
    """One village's quarter on its way to the county's lock: 填报中 → 已提交 → 已审核 (or 已退回)."""

    village = models.ForeignKey(
        Region,
        verbose_name=_("村"),
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"level": Level.VILLAGE},
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    status = models.CharField(
        _("状态"), max_length=16, choices=SubmissionStatus.choices, default=SubmissionStatus.FILLING
    )
    reason = models.CharField(_("说明"), max_length=500, blank=True)
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    acted_at = models.DateTimeField(_("操作时间"), null=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    history = HistoricalRecords(**HISTORY)
    objects = QuarterSubmissionQuerySet.as_manager()

    class Meta:
        verbose_name = _("季度报送")
        verbose_name_plural = _("季度报送")
        ordering = ["village__code", "-year", "-quarter"]
        constraints = [
            models.UniqueConstraint(fields=["village", "year", "quarter"], name="quarter_submission_one_per_village"),
            models.CheckConstraint(
                condition=~Q(status="returned") | ~Q(reason=""), name="quarter_submission_return_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.village} {self.year}Q{self.quarter} {self.get_status_display()}"

    @property
    def period(self) -> Quarter:
        return Quarter(self.year, self.quarter)


class QuarterCloseEventQuerySet(ScopedQuerySet):
    region_field = "county"


class CloseAction(models.TextChoices):
    LOCKED = "locked", _("锁定")
    REOPENED = "reopened", _("重新开账")


class QuarterCloseEvent(models.Model):
    """Audit of a county's quarter: who locked or reopened it, when, and why (append only)."""

    county = models.ForeignKey(
        Region,
        verbose_name=_("县"),
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"level": Level.COUNTY},
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    action = models.CharField(_("操作"), max_length=16, choices=CloseAction.choices)
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    acted_at = models.DateTimeField(_("操作时间"), auto_now_add=True)

    objects = QuarterCloseEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("关账记录")
        verbose_name_plural = _("关账记录")
        ordering = ["-acted_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(action="reopened") | ~Q(reason=""), name="quarter_close_event_reopen_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.county} {self.year}Q{self.quarter} {self.get_action_display()}"
