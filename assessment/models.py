"""Targets, scoring rules and parameters (policy as data), and the computed values and scores."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from figures import registry
from figures.periods import Quarter
from regions.models import Region, ScopedQuerySet

HISTORY = {"user_db_constraint": False}


def validate_indicator_code(code: str) -> None:
    if registry.get(code) is None:
        raise ValidationError(_("没有编码为“%(code)s”的指标") % {"code": code})


class Comparator(models.TextChoices):
    AT_LEAST = "gte", _("不低于目标值")
    AT_MOST = "lte", _("不高于目标值")
    ZERO = "zero", _("应为0")
    NOT_BELOW_LAST_YEAR = "not_below_last_year", _("不低于上年同期")
    BETTER_THAN_PARENT = "better_than_parent", _("不差于上级")


# Comparators that need a number in the target row.
VALUED = {Comparator.AT_LEAST, Comparator.AT_MOST}


class Status(models.TextChoices):
    MET = "met", _("达标")
    MISSED = "missed", _("未达标")
    NO_TARGET = "no_target", _("无目标")
    NO_DATA = "no_data", _("无数据")


class PolicyRow(models.Model):
    """A value policy sets for a region and year; it holds for the region's whole subtree unless a
    region below sets its own."""

    region = models.ForeignKey(Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"), validators=[MinValueValidator(2016), MaxValueValidator(2100)])
    source_document = models.CharField(_("依据文件"), max_length=100, blank=True)
    clause = models.CharField(_("条款"), max_length=100, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def source(self) -> str:
        return " ".join(part for part in (self.source_document, self.clause) if part)


class Target(PolicyRow):
    """(indicator, region, year, quarter) → comparator and value, citing its document."""

    indicator = models.CharField(_("指标"), max_length=64, validators=[validate_indicator_code])
    # Empty: every quarter of the year; a number: only that quarter (e.g. a year-end target on Q4).
    quarter = models.PositiveSmallIntegerField(
        _("季度"), null=True, blank=True, choices=[(n, f"第{n}季度") for n in range(1, 5)]
    )
    comparator = models.CharField(_("比较方式"), max_length=24, choices=Comparator.choices)
    value = models.DecimalField(_("目标值"), max_digits=16, decimal_places=4, null=True, blank=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    history = HistoricalRecords(**HISTORY, excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("考核目标")
        verbose_name_plural = _("考核目标")
        ordering = ["indicator", "region__code", "-year", "quarter"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "region", "year", "quarter"],
                name="target_one_per_quarter",
                violation_error_message=_("该区划本年度该季度已有此指标的目标"),
            ),
            models.UniqueConstraint(
                fields=["indicator", "region", "year"],
                condition=Q(quarter__isnull=True),
                name="target_one_per_year",
                violation_error_message=_("该区划本年度已有此指标的全年目标"),
            ),
            models.CheckConstraint(
                condition=~Q(comparator__in=["gte", "lte"]) | Q(value__isnull=False), name="target_value_when_needed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year} {self.indicator}"

    def clean(self) -> None:
        if self.comparator in VALUED and self.value is None:
            raise ValidationError({"value": _("“%(c)s”需要填写目标值") % {"c": self.get_comparator_display()}})
        if self.comparator not in VALUED:
            self.value = None


class ScoringRule(PolicyRow):
    """How an indicator scores: full marks when met, else full − deduction × points short, not below the floor."""

    indicator = models.CharField(_("指标"), max_length=64, validators=[validate_indicator_code])
    weight = models.DecimalField(
        _("权重"), max_digits=6, decimal_places=2, default=Decimal("1"), validators=[MinValueValidator(0)]
    )
    full_score = models.DecimalField(_("满分"), max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])
    deduction_per_point = models.DecimalField(
        _("每差1点扣分"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("不填则未达标得保底分"),
    )
    point = models.DecimalField(
        _("1点的大小"),
        max_digits=16,
        decimal_places=4,
        default=Decimal("0.01"),
        help_text=_("以指标值的单位计：比例类0.01即1个百分点，金额类如100元"),
    )
    floor = models.DecimalField(
        _("保底分"), max_digits=8, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )

    history = HistoricalRecords(**HISTORY)

    class Meta:
        verbose_name = _("计分规则")
        verbose_name_plural = _("计分规则")
        ordering = ["indicator", "region__code", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "region", "year"], name="scoring_rule_one_per_year"),
            models.CheckConstraint(
                condition=Q(point__gt=0),
                name="scoring_rule_point_positive",
                violation_error_message=_("1点的大小须大于0"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year} {self.indicator}"

    def clean(self) -> None:
        # Above full marks the floor would score a missed target higher than a met one.
        if self.floor is not None and self.full_score is not None and self.floor > self.full_score:
            raise ValidationError({"floor": _("保底分不能高于满分")})


class ParameterValue(PolicyRow):
    """A number an indicator or alert rule reads (e.g. the 10,000 line of 002), by region and year."""

    key = models.CharField(_("参数"), max_length=64)
    # Every parameter is a line, a share, an age or a number of months: none is negative.
    value = models.DecimalField(_("取值"), max_digits=16, decimal_places=4, validators=[MinValueValidator(0)])

    history = HistoricalRecords(**HISTORY)

    class Meta:
        verbose_name = _("参数")
        verbose_name_plural = _("参数")
        ordering = ["key", "region__code", "-year"]
        constraints = [models.UniqueConstraint(fields=["key", "region", "year"], name="parameter_one_per_year")]

    def __str__(self) -> str:
        return f"{self.region} {self.year} {self.key}={self.value}"


class IndicatorValueQuerySet(ScopedQuerySet):
    def for_period(self, period: Quarter) -> IndicatorValueQuerySet:
        return self.filter(year=period.year, quarter=period.number)


class IndicatorValue(models.Model):
    """One indicator of one region for one quarter, as the last computation left it."""

    region = models.ForeignKey(Region, verbose_name=_("区划"), on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    indicator = models.CharField(_("指标"), max_length=64)
    numerator = models.DecimalField(_("分子"), max_digits=20, decimal_places=4)
    denominator = models.DecimalField(_("分母"), max_digits=20, decimal_places=4, null=True)
    value = models.DecimalField(_("指标值"), max_digits=20, decimal_places=4, null=True)
    records = models.PositiveIntegerField(_("明细条数"), default=0)
    comparator = models.CharField(_("比较方式"), max_length=24, choices=Comparator.choices, blank=True)
    target = models.DecimalField(_("目标值"), max_digits=20, decimal_places=4, null=True)
    target_region = models.ForeignKey(
        Region, verbose_name=_("目标设定区划"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    target_source = models.CharField(_("目标依据"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices)
    score = models.DecimalField(_("得分"), max_digits=10, decimal_places=2, null=True)
    full_score = models.DecimalField(_("满分"), max_digits=10, decimal_places=2, null=True)
    data_version = models.BigIntegerField(_("数据版本"))
    computed_at = models.DateTimeField(_("计算时间"))

    objects = IndicatorValueQuerySet.as_manager()

    class Meta:
        verbose_name = _("指标值")
        verbose_name_plural = _("指标值")
        constraints = [
            models.UniqueConstraint(fields=["region", "year", "quarter", "indicator"], name="indicator_value_unique")
        ]
        indexes = [models.Index(fields=["year", "quarter", "indicator"])]

    def __str__(self) -> str:
        return f"{self.region} {self.year}Q{self.quarter} {self.indicator}={self.value}"

    @property
    def period(self) -> Quarter:
        return Quarter(self.year, self.quarter)


class RegionScore(models.Model):
    """A region's total score for a quarter and its rank among the regions beside it."""

    region = models.ForeignKey(Region, verbose_name=_("区划"), on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    score = models.DecimalField(_("得分"), max_digits=10, decimal_places=2)
    full_score = models.DecimalField(_("满分"), max_digits=10, decimal_places=2)
    missed = models.PositiveSmallIntegerField(_("未达标指标数"))
    rank = models.PositiveIntegerField(_("同级排名"))
    computed_at = models.DateTimeField(_("计算时间"))

    objects = IndicatorValueQuerySet.as_manager()

    class Meta:
        verbose_name = _("区划得分")
        verbose_name_plural = _("区划得分")
        constraints = [models.UniqueConstraint(fields=["region", "year", "quarter"], name="region_score_unique")]

    def __str__(self) -> str:
        return f"{self.region} {self.year}Q{self.quarter} {self.score}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("计算中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ComputeRunQuerySet(ScopedQuerySet):
    region_field = "scope"


class ComputeRun(models.Model):
    """One computation of a scope's indicators for a quarter: who asked, how far it got, how it ended."""

    scope = models.ForeignKey(
        Region, verbose_name=_("范围"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    reason = models.CharField(_("触发原因"), max_length=32)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), on_delete=models.SET_NULL, null=True, blank=True
    )
    status = models.CharField(_("状态"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    values_written = models.PositiveIntegerField(_("写入指标值"), default=0)
    created_at = models.DateTimeField(_("发起时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True)

    objects = ComputeRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("计算记录")
        verbose_name_plural = _("计算记录")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.scope} {self.year}Q{self.quarter} {self.status}"

    @property
    def period(self) -> Quarter:
        return Quarter(self.year, self.quarter)


class ComputeLock(models.Model):
    """One row per scope key: a computation holds it (row lock / write lock) for its whole transaction,
    so two computations of the same scope never interleave, on PostgreSQL and SQLite alike."""

    key = models.CharField(max_length=64, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    taken_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("计算锁")
        verbose_name_plural = _("计算锁")

    def __str__(self) -> str:
        return self.key


class AlertStatus(models.TextChoices):
    PENDING = "pending", _("待核实")
    CONFIRMED = "confirmed", _("已核实")
    DISMISSED = "dismissed", _("已排除")
    HANDLED = "handled", _("已处置")


class AlertQuerySet(ScopedQuerySet):
    region_field = "household__village"

    def open(self) -> AlertQuerySet:
        return self.filter(status__in=[AlertStatus.PENDING, AlertStatus.CONFIRMED])


class Alert(models.Model):
    """预警: one household flagged by one rule for one quarter, with the figures that tripped it."""

    household = models.ForeignKey(
        "households.Household", verbose_name=_("农户"), on_delete=models.CASCADE, related_name="alerts"
    )
    rule = models.CharField(_("预警规则"), max_length=64)
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    figures = models.JSONField(_("触发数据"), default=dict)
    status = models.CharField(_("状态"), max_length=16, choices=AlertStatus.choices, default=AlertStatus.PENDING)
    reason = models.CharField(_("说明"), max_length=500, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    raised_at = models.DateTimeField(_("预警时间"))
    updated_at = models.DateTimeField(_("处理时间"), auto_now=True)

    history = HistoricalRecords(**HISTORY, excluded_fields=["updated_at"])
    objects = AlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-year", "-quarter", "rule", "household"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "rule", "year", "quarter"],
                name="alert_one_per_household_rule_quarter",
                violation_error_message=_("该户本季度已有此预警"),
            ),
            models.CheckConstraint(condition=~Q(status="dismissed") | ~Q(reason=""), name="alert_dismissal_has_reason"),
        ]
        indexes = [models.Index(fields=["year", "quarter", "status"])]

    def __str__(self) -> str:
        return f"{self.household_id} {self.rule} {self.year}Q{self.quarter}"

    @property
    def period(self) -> Quarter:
        return Quarter(self.year, self.quarter)


class RecomputeRequest(models.Model):
    """A county whose data changed and whose figures are due to be recomputed (debounced: one row
    per county however many saves, computed once when due)."""

    county = models.OneToOneField(Region, on_delete=models.CASCADE, primary_key=True, related_name="+")
    requested_at = models.DateTimeField(_("首次修改时间"))
    due_at = models.DateTimeField(_("计划计算时间"))

    class Meta:
        verbose_name = _("待重算")
        verbose_name_plural = _("待重算")

    def __str__(self) -> str:
        return f"{self.county_id} @ {self.due_at}"


# The quarter-close workflow's models live in their own module; Django finds them through here.
from assessment.closing_models import QuarterCloseEvent, QuarterSubmission  # noqa: E402, F401


class AlertScan(models.Model):
    """Up to which data version (and on which day) a county's alerts of a quarter were raised: a later
    scan that day reads only the villages changed since; the first scan of a day reads the county."""

    county = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    version = models.BigIntegerField()
    scanned_on = models.DateField()

    class Meta:
        verbose_name = _("预警扫描")
        verbose_name_plural = _("预警扫描")
        constraints = [models.UniqueConstraint(fields=["county", "year", "quarter"], name="alert_scan_unique")]

    def __str__(self) -> str:
        return f"{self.county_id} {self.year}Q{self.quarter} v{self.version}"


class BreakdownValue(models.Model):
    """A distribution a dashboard chart draws, for one region and quarter (named counts, JSON)."""

    region = models.ForeignKey(Region, verbose_name=_("区划"), on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    breakdown = models.CharField(_("分布"), max_length=64)
    data = models.JSONField(_("数据"), default=dict)
    computed_at = models.DateTimeField(_("计算时间"))

    objects = IndicatorValueQuerySet.as_manager()

    class Meta:
        verbose_name = _("分布")
        verbose_name_plural = _("分布")
        constraints = [
            models.UniqueConstraint(fields=["region", "year", "quarter", "breakdown"], name="breakdown_value_unique")
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.year}Q{self.quarter} {self.breakdown}"
