"""资金下达: a budget level's money for a year, received by a county and maybe split to its townships."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Min, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from funds.models.common import POSITIVE, FundLevel, RegionRowQuerySet, money_field
from households.models import HISTORY_OPTIONS, VersionedModel
from industries.models import YEAR_VALIDATORS
from regions.models import Level, Region
from workbooks.rules import validate_visible_text


class Allocation(VersionedModel):
    """资金下达: money of one budget level for one year, received by a county (or split to a township)."""

    region = models.ForeignKey(Region, verbose_name=_("下达区划"), on_delete=models.PROTECT, related_name="allocations")
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    level = models.CharField(_("资金级次"), max_length=16, choices=FundLevel.choices)
    document_number = models.CharField(_("文号"), max_length=100, validators=[validate_visible_text])
    issued_on = models.DateField(_("下达日期"))
    amount = money_field(_("金额（元）"), validators=POSITIVE)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("由县级资金分配"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="splits",
    )
    note = models.CharField(_("备注"), max_length=200, blank=True, validators=[validate_visible_text])

    history = HistoricalRecords(**HISTORY_OPTIONS)
    objects = RegionRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("资金下达")
        verbose_name_plural = _("资金下达")
        ordering = ["-year", "level", "issued_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "year", "level", "document_number"], name="allocation_unique_document"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.get_level_display()} {self.document_number}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.region_id is not None:
            if self.parent_id is None and self.region.level != Level.COUNTY:
                errors["region"] = _("资金下达到县；分配到乡镇的资金须选择所分配的县级资金")
            if self.parent_id is not None:
                parent = self.parent
                assert parent is not None
                if self.region.level != Level.TOWNSHIP or self.region.parent_id != parent.region_id:
                    errors["region"] = _("县级资金只能分配到本县的乡镇")
                if (self.year, self.level) != (parent.year, parent.level):
                    errors["parent"] = _("分配的资金须与所分配资金的年度、级次一致")
        if self.issued_on is not None and self.year and self.issued_on.year not in (self.year - 1, self.year):
            errors["issued_on"] = _("下达日期应在资金年度或上一年度内")
        if "issued_on" not in errors and self.pk is not None and self.issued_on is not None:
            # A payment is never dated before its allocation was issued (Payment.clean): nor by moving the date.
            first_paid = (
                apps.get_model("funds", "Payment")
                .objects.filter(funding__allocation_id=self.pk)
                .aggregate(first=Min("paid_on"))["first"]
            )
            if first_paid is not None and self.issued_on > first_paid:
                errors["issued_on"] = _("已有%(day)s的支付，下达日期不能晚于该日") % {"day": first_paid.isoformat()}
        if errors:
            raise ValidationError(errors)
