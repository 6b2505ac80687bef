"""Closed quarters (季度关账): a county's locked quarter refuses income edits and imports.

The workflow that leads to a lock (villages submit, townships approve) lives in the assessment;
this module only knows which quarters are locked, so the registers can refuse to change them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _

from figures.periods import Quarter
from regions.models import DataVersion, Level, Region, county_code_of


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
        county__code=county_code_of(village_code), year=period.year, quarter=period.number
    ).exists()


def closed_message(period: Quarter) -> str:
    """What a refused edit or import says about a locked quarter."""
    return f"{period.label}已关账，不能修改收入；如需修改请联系县级管理员重新开账"


def hold_counties(*, within: str) -> None:
    """Take the data-version row locks of the counties under the code prefix, in the caller's transaction.

    Every write of a county's data takes this row (`data_changed` bumps it); taking it before checking
    for a lock makes a lock and an edit of the same county serialize on PostgreSQL: the edit then sees
    the lock, or the lock's final computation sees the edit. (SQLite serializes writers already.)
    """
    rows = DataVersion.objects.select_for_update(of=("self",)).filter(county__code__startswith=within[:6])
    list(rows.order_by("county_id").only("pk"))


def require_quarter_open(*, village_code: str, period: Quarter) -> None:
    """Refuse (ValidationError on the quarter) a change to a quarter the village's county has locked."""
    hold_counties(within=village_code[:6])
    if quarter_is_closed(village_code=village_code, period=period):
        raise ValidationError({"quarter": closed_message(period)})


def closed_village_quarters(village_ids: Iterable[int]) -> set[tuple[int, int, int]]:
    """(village id, year, quarter) of every locked quarter of these villages' counties: loaded once,
    so an import checks each row against a set. Two queries at most."""
    closed: dict[str, list[tuple[int, int]]] = {}
    for code, year, number in ClosedQuarter.objects.values_list("county__code", "year", "quarter"):
        closed.setdefault(code[:6], []).append((year, number))
    if not closed:
        return set()
    villages = Region.objects.filter(pk__in=set(village_ids)).values_list("pk", "code")
    return {(pk, year, number) for pk, code in villages for year, number in closed.get(code[:6], ())}


def closed_quarter_lock(*, county: Region, period: Quarter, by: Any) -> bool:
    """Lock the county's quarter (in the caller's transaction, which should also compute its final
    figures); False when it was locked already (a repeated request is a no-op)."""
    DataVersion.objects.get_or_create(county=county)
    hold_counties(within=county.code[:6])
    try:
        with transaction.atomic():
            ClosedQuarter.objects.create(county=county, year=period.year, quarter=period.number, locked_by=by)
    except IntegrityError:
        return False
    return True


def closed_quarter_unlock(*, county: Region, period: Quarter) -> bool:
    """Reopen the county's quarter; False when it was not locked."""
    deleted, _ = ClosedQuarter.objects.filter(county=county, year=period.year, quarter=period.number).delete()
    return bool(deleted)
