"""项目资产: what a project formed, who owns it and who looks after it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from funds.models.common import money_field
from funds.models.projects import Project
from households.models import HISTORY_OPTIONS, Household, VersionedModel
from regions.models import Level, Region, ScopedQuerySet
from workbooks.rules import validate_visible_text


class AssetKind(models.TextChoices):
    OPERATING = "operating", _("经营性")
    PUBLIC = "public", _("公益性")
    HOUSEHOLD = "household", _("到户类")


class AssetQuerySet(ScopedQuerySet):
    region_field = "project__region"


class Asset(VersionedModel):
    """项目资产: what a project formed, who owns it and who looks after it."""

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="assets")
    kind = models.CharField(_("资产类别"), max_length=16, choices=AssetKind.choices)
    name = models.CharField(_("资产名称"), max_length=200, validators=[validate_visible_text])
    value = money_field(_("资产价值（元）"))
    owner_village = models.ForeignKey(
        Region, verbose_name=_("所有权人（村集体）"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner_household = models.ForeignKey(
        Household, verbose_name=_("所有权人（农户）"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    custodian = models.CharField(_("管护主体"), max_length=100, blank=True, validators=[validate_visible_text])

    history = HistoricalRecords(**HISTORY_OPTIONS)

    objects = AssetQuerySet.as_manager()

    class Meta:
        verbose_name = _("项目资产")
        verbose_name_plural = _("项目资产")
        ordering = ["project", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner_village__isnull=True) | Q(owner_household__isnull=True), name="asset_one_owner"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.owner_village_id is not None and self.owner_household_id is not None:
            errors["owner_household"] = _("所有权人只能是村集体或农户之一")
        if self.kind == AssetKind.HOUSEHOLD and self.owner_village_id is not None:
            errors["owner_village"] = _("到户类资产的所有权人应为农户")
        if self.kind != AssetKind.HOUSEHOLD and self.owner_household_id is not None:
            errors["owner_household"] = _("经营性和公益性资产的所有权人应为村集体")
        if self.owner_village is not None and self.owner_village.level != Level.VILLAGE:
            errors["owner_village"] = _("请选择村")
        if errors:
            raise ValidationError(errors)
