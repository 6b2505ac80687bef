"""API clients (machine accounts scoped to a region), their hashed tokens, and the log of their calls."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from regions.models import Level, Region, ScopedQuerySet

_RATE = re.compile(r"^[1-9][0-9]{0,6}/(sec|second|min|minute|hour|day)$")


def validate_throttle_rate(value: str) -> None:
    """A DRF throttle rate such as "600/min"."""
    if not _RATE.fullmatch(value or ""):
        raise ValidationError(
            _("限流频率格式应为“次数/时间单位”，如 600/min（单位：sec、min、hour、day）"), code="invalid"
        )


def validate_resource_names(value: Any) -> None:
    """A list of names from the resource registry (api.resources)."""
    from api.resources import RESOURCES

    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ValidationError(_("资源权限应为资源名称列表"), code="invalid")
    unknown = sorted(set(value) - set(RESOURCES))
    if unknown:
        raise ValidationError(_("没有名为“%(names)s”的资源") % {"names": "、".join(unknown)}, code="invalid")


class ApiClient(models.Model):
    """A provincial (or other) system that reads and writes one region's subtree through the API."""

    name = models.CharField(_("名称"), max_length=100)
    region = models.ForeignKey(Region, verbose_name=_("可访问区划"), on_delete=models.PROTECT, related_name="+")
    readable = models.JSONField(
        _("可读资源"), default=list, blank=True, validators=[validate_resource_names], help_text=_("资源名称列表")
    )
    writable = models.JSONField(
        _("可写资源"), default=list, blank=True, validators=[validate_resource_names], help_text=_("资源名称列表")
    )
    may_view_personal_data = models.BooleanField(
        _("可查看个人信息"), default=False, help_text=_("否则身份证号、电话、出生日期按页面规则脱敏")
    )
    throttle_rate = models.CharField(
        _("限流频率"), max_length=20, default="600/min", validators=[validate_throttle_rate], help_text=_("如 600/min")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    deactivated_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("接口客户端")
        verbose_name_plural = _("接口客户端")
        ordering = ["region__code", "name"]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="api_client_unique_name_per_region")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.region_id is not None and self.region.level > Level.COUNTY:
            raise ValidationError({"region": _("接口客户端的区划应为县级或以上")})
        missing = sorted(set(self.writable or []) - set(self.readable or []))
        if missing:
            raise ValidationError({"writable": _("可写资源须同时可读：%(names)s") % {"names": "、".join(missing)}})

    def may_read(self, resource: str) -> bool:
        return resource in (self.readable or [])

    def may_write(self, resource: str) -> bool:
        return resource in (self.writable or [])


class ApiToken(models.Model):
    """A bearer token of a client: only its SHA-256 is stored; the token itself is shown once."""

    client = models.ForeignKey(ApiClient, verbose_name=_("客户端"), on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(_("令牌摘要"), max_length=64, unique=True, editable=False)
    hint = models.CharField(_("令牌开头"), max_length=12, editable=False, help_text=_("便于辨认，不足以使用"))
    created_at = models.DateTimeField(_("签发时间"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签发人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    expires_at = models.DateTimeField(_("失效时间"))
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("访问令牌")
        verbose_name_plural = _("访问令牌")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")), name="api_token_expires_later")
        ]

    def __str__(self) -> str:
        return f"{self.hint}…"

    def is_valid_at(self, moment: Any) -> bool:
        return self.revoked_at is None and self.expires_at > moment


class ApiCall(models.Model):
    """One request to /api/v1/, answered or refused (the client is unknown when the token was not accepted)."""

    client = models.ForeignKey(
        ApiClient, verbose_name=_("客户端"), null=True, on_delete=models.CASCADE, related_name="calls"
    )
    method = models.CharField(_("方法"), max_length=10)
    path = models.CharField(_("路径"), max_length=500)
    status = models.PositiveSmallIntegerField(_("状态码"))
    records = models.PositiveIntegerField(_("记录数"), default=0)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("接口调用记录")
        verbose_name_plural = _("接口调用记录")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["client", "at"], name="api_call_client_at"),
            models.Index(fields=["at"], name="api_call_at"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"


class ReconciliationStatus(models.TextChoices):
    RECEIVING = "receiving", _("接收中")
    FINISHED = "finished", _("已核对")


class EntryKind(models.TextChoices):
    HOUSEHOLD = "household", _("农户（户编号）")
    MEMBER = "member", _("家庭成员（身份证号）")


class Problem(models.TextChoices):
    MISSING_IN_COUNTY = "missing_in_county", _("县里没有")
    MISSING_IN_PROVINCE = "missing_in_province", _("省里没有")
    DIFFERS = "differs", _("内容不一致")


class ReconciliationQuerySet(ScopedQuerySet):
    region_field = "county"


class Reconciliation(models.Model):
    """A client's list of (户编号 or 身份证号, checksum) for one county, and once finished what differs."""

    client = models.ForeignKey(
        ApiClient, verbose_name=_("客户端"), on_delete=models.CASCADE, related_name="reconciliations"
    )
    county = models.ForeignKey(Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("状态"), max_length=16, choices=ReconciliationStatus.choices, default=ReconciliationStatus.RECEIVING
    )
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("核对时间"), null=True, blank=True)
    # {"household": {"posted", "county", "missing_in_county", "missing_in_province", "differs"}, "member": {…}}
    summary = models.JSONField(_("核对结果"), default=dict, blank=True)

    objects = ReconciliationQuerySet.as_manager()

    class Meta:
        verbose_name = _("数据核对")
        verbose_name_plural = _("数据核对")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["client", "county", "created_at"], name="api_reconciliation_recent")]

    def __str__(self) -> str:
        return f"{self.client} {self.county} {self.created_at:%Y-%m-%d %H:%M}"


class ReconciliationEntry(models.Model):
    """One (key, checksum) the client posted, kept until the reconciliation is finished."""

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(_("类别"), max_length=16, choices=EntryKind.choices)
    key = models.CharField(_("户编号或身份证号"), max_length=32)
    checksum = models.CharField(_("校验值"), max_length=64)

    class Meta:
        verbose_name = _("核对条目")
        verbose_name_plural = _("核对条目")
        constraints = [
            models.UniqueConstraint(fields=["reconciliation", "kind", "key"], name="api_reconciliation_entry_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class ReconciliationDifference(models.Model):
    """A record missing on one side, or whose checksum differs."""

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="differences")
    kind = models.CharField(_("类别"), max_length=16, choices=EntryKind.choices)
    key = models.CharField(_("户编号或身份证号"), max_length=32)
    problem = models.CharField(_("问题"), max_length=24, choices=Problem.choices)
    county_checksum = models.CharField(_("县里的校验值"), max_length=64, blank=True)
    province_checksum = models.CharField(_("提交的校验值"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("核对差异")
        verbose_name_plural = _("核对差异")
        ordering = ["reconciliation", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} {self.problem}"


class MirrorCursor(models.Model):
    """On a mirror (manage.py sync_pull): how far each resource of a source has been applied."""

    source = models.CharField(_("数据源"), max_length=200, help_text=_("源站接口地址"))
    resource = models.CharField(_("资源"), max_length=32)
    cursor = models.CharField(_("同步游标"), max_length=40)
    synced_at = models.DateTimeField(_("同步时间"), default=timezone.now)

    class Meta:
        verbose_name = _("镜像同步位置")
        verbose_name_plural = _("镜像同步位置")
        constraints = [models.UniqueConstraint(fields=["source", "resource"], name="api_mirror_cursor_unique")]

    def __str__(self) -> str:
        return f"{self.source} {self.resource} {self.cursor}"


# The write side's models live in their own module; Django finds them through here.
from api.write_models import ApiActor, ApiConflict, ConflictStatus, IdempotencyKey  # noqa: E402, F401
