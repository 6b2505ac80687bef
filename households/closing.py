"""Closed quarters (季度关账): a county's locked quarter refuses income edits and imports."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from figures.periods import Quarter
from regions.models import Level, Region


class ClosedQuarter(models.Model):
    """A quarter a county has locked: its income records are final and its figures frozen."""

    county = models.ForeignKey(
        Region,
        verbose_name=_("县"),
        on_delete=models.PROTECT,
        related_name="closed_quarters",
        limit_choices_to={"level": Level.COUNTY},
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    locked_at = models.DateTimeField(_("关账时间"), auto_now_add=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("关账人"), on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("已关账季度")
        verbose_name_plural = _("已关账季度")
        constraints = [
            models.UniqueConstraint(fields=["county", "year", "quarter"], name="closed_quarter_one_per_county")
        ]

    def __str__(self) -> str:
        return f"{self.county} {self.year}Q{self.quarter}"


def locked_county_codes(period: Quarter) -> set[str]:
    """Codes of the counties that have locked this quarter."""
    return set(
        ClosedQuarter.objects.filter(year=period.year, quarter=period.number).values_list("county__code", flat=True)
    )


def quarter_is_closed(*, village_code: str, period: Quarter) -> bool:
    """Whether the quarter is locked for the county this village lies in."""
    return ClosedQuarter.objects.filter(
        county__code=village_code[:6].ljust(12, "0"), year=period.year, quarter=period.number
    ).exists()
