"""The change log the database triggers write (changes.triggers) and the feed reads (changes.feed)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Op(models.TextChoices):
    INSERT = "I", _("新增")
    UPDATE = "U", _("修改")
    DELETE = "D", _("删除")


class Change(models.Model):
    """One row of a tracked table inserted, updated or deleted, with its region code before and after.

    Only the triggers write here. `txid` is the writing transaction's id on PostgreSQL (0 on SQLite):
    the feed orders by (txid, id) and serves a transaction's changes only once every older
    transaction has ended, so a change can never appear behind a cursor already handed out.
    """

    id = models.BigAutoField(primary_key=True)
    resource = models.CharField(_("资源"), max_length=32)
    row_id = models.BigIntegerField(_("记录编号"))
    op = models.CharField(_("操作"), max_length=1, choices=Op.choices)
    txid = models.BigIntegerField(_("事务号"), default=0)
    # NULL: there was no row (before an insert) or is none (after a delete); "" would read as a region.
    region_code_old = models.CharField(_("原区划代码"), max_length=15, null=True, blank=True)  # noqa: DJ001
    region_code_new = models.CharField(_("现区划代码"), max_length=15, null=True, blank=True)  # noqa: DJ001
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("变更记录")
        verbose_name_plural = _("变更记录")
        indexes = [models.Index(fields=["resource", "txid", "id"], name="change_feed_order")]

    def __str__(self) -> str:
        return f"{self.resource} {self.row_id} {self.op} ({self.txid}, {self.id})"


class PrunedThrough(models.Model):
    """The feed position up to which changes have been pruned: an older cursor cannot be served."""

    txid = models.BigIntegerField(_("事务号"))
    change_id = models.BigIntegerField(_("变更编号"))
    pruned_at = models.DateTimeField(_("清理时间"))

    class Meta:
        verbose_name = _("变更记录清理位置")
        verbose_name_plural = _("变更记录清理位置")

    def __str__(self) -> str:
        return f"({self.txid}, {self.change_id})"
