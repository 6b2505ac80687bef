"""Plausibility bounds for income entry: a figure above them is saved only after the clerk confirms it.

Like the monitoring thresholds, a bound is data per region and year (the nearest region above the
household's village that sets one applies), edited in the admin.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from households.quarter import Quarter
from regions.models import Region

WAGES_CONFIRM_LABEL = "确认数据无误"


class IncomeCheckBound(models.Model):
    """收入核实上限: a quarter's 工资性收入 per household above this asks the clerk to confirm it."""

    region = models.ForeignKey(Region, verbose_name=_("区划"), on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField(_("年度"))
    quarterly_wages = models.DecimalField(_("单季工资性收入核实上限（元/户）"), max_digits=14, decimal_places=2)
    source = models.CharField(_("依据"), max_length=200)

    class Meta:
        app_label = "households"
        verbose_name = _("收入核实上限")
        verbose_name_plural = _("收入核实上限")
        ordering = ["region__code", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="income_check_bound_one_per_region_year"),
            models.CheckConstraint(condition=Q(quarterly_wages__gt=0), name="income_check_bound_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year}年 工资性收入每季 {self.quarterly_wages}元"


def income_check_bound_for(*, region: Region, year: int) -> IncomeCheckBound | None:
    """The bound set nearest above (or at) the region for that year."""
    ancestors = Region.objects.ancestors_of(region)
    bounds = {b.region_id: b for b in IncomeCheckBound.objects.filter(year=year, region__in=ancestors)}
    return next((bounds[a.pk] for a in ancestors if a.pk in bounds), None)


def wages_above_bound(*, village: Region, quarter: Quarter, amounts: Mapping[str, Decimal]) -> str | None:
    """The message asking to confirm a quarter's 工资性收入 above its bound; None when within it (or unset)."""
    from households.models import WAGE_FIELDS

    wages = sum((Decimal(amounts.get(name) or 0) for name in WAGE_FIELDS), Decimal("0"))
    bound = income_check_bound_for(region=village, year=quarter.year)
    if bound is None or wages <= bound.quarterly_wages:
        return None
    return (
        f"{quarter.label}工资性收入合计 {wages:.2f} 元，超过本地单季核实上限 {bound.quarterly_wages} 元，"
        f"请核对是否多输了数字；确认无误请勾选“{WAGES_CONFIRM_LABEL}”后再保存"
    )
