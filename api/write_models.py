"""What the write side keeps: the user each client writes as, idempotency keys, and the conflict queue."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from regions.models import Region, ScopedQuerySet, User


class ApiActor(User):
    """The staff account an API client writes as (one per client, `api-client-<id>`, inactive, no password).

    History rows name it, so every page that shows who changed a record shows “接口客户端 <name>”; it
    holds no role, so it appears in no account list and can never log in. For a write it stands in
    for the client: its subtree is the client's region and its permissions are the client's writable
    resources (api.actors).
    """

    client: Any = None  # the ApiClient, attached by api.actors.api_actor_for

    class Meta:
        proxy = True
        verbose_name = _("接口客户端账号")
        verbose_name_plural = _("接口客户端账号")

    def scope_prefix(self) -> str | None:
        from api.actors import actor_scope_prefix

        return actor_scope_prefix(self)

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        from api.actors import actor_has_perm

        return actor_has_perm(self, perm)

    def has_perms(self, perm_list: Any, obj: Any = None) -> bool:
        return all(self.has_perm(perm) for perm in perm_list)

    def has_module_perms(self, app_label: str) -> bool:
        return False

    def may_edit_thresholds(self) -> bool:
        return self.has_perm("households.change_monitoringthreshold")

    def managed_roles(self) -> list[str]:
        return []


class IdempotencyKey(models.Model):
    """A POST's `Idempotency-Key`, per client: the digest of what was sent and the answer that was given."""

    client = models.ForeignKey(
        "api.ApiClient", verbose_name=_("客户端"), on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(_("幂等键"), max_length=255)
    request_digest = models.CharField(_("请求摘要"), max_length=64)
    status = models.PositiveSmallIntegerField(_("状态码"), null=True)
    body = models.JSONField(_("响应内容"), null=True)
    headers = models.JSONField(_("响应头"), default=dict)
    created_at = models.DateTimeField(_("首次请求时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("保留至"))

    class Meta:
        verbose_name = _("幂等键")
        verbose_name_plural = _("幂等键")
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="api_idempotency_key_per_client")]
        indexes = [models.Index(fields=["expires_at"], name="api_idempotency_expires")]

    def __str__(self) -> str:
        return self.key


class ConflictStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    RESOLVED = "resolved", _("已处理")
    DISMISSED = "dismissed", _("已失效")


class ApiConflict(models.Model):
    """A province's write that met a county user's edit made since the version the province last saw.

    Nothing was overwritten: `theirs` is what the province sent, `ours` what the county had when the
    write came, `base` what the province last saw (from the record's history), field by field. A
    county administrator takes each field from one side; the result is an ordinary change.
    """

    client = models.ForeignKey(
        "api.ApiClient", verbose_name=_("客户端"), on_delete=models.CASCADE, related_name="conflicts"
    )
    resource = models.CharField(_("资源"), max_length=32)
    record_id = models.BigIntegerField(_("记录 id"))
    record_label = models.CharField(_("记录"), max_length=200)
    # The record's region when the conflict was stored: who sees the conflict (the record's own scope
    # is checked again when it is resolved).
    region = models.ForeignKey(Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="+")
    base_version = models.PositiveIntegerField(_("省级所见版本"))
    record_version = models.PositiveIntegerField(_("登记时的记录版本"))
    # [{"key", "label", "base", "ours", "theirs"}] for every field the province changed.
    fields = models.JSONField(_("字段"), default=list)
    payload = models.JSONField(_("省级提交内容"), default=dict)
    status = models.CharField(_("状态"), max_length=16, choices=ConflictStatus.choices, default=ConflictStatus.OPEN)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    # {"<field key>": "ours" | "theirs"}
    resolution = models.JSONField(_("处理结果"), default=dict, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("接口冲突")
        verbose_name_plural = _("接口冲突")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "region"], name="api_conflict_status_region")]

    def __str__(self) -> str:
        return f"{self.resource} {self.record_label}"
