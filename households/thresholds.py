"""The 监测标准 a county administrator keeps for their county: reads and the one write, audited.

A threshold applies to the region it is set for and everything below it (the nearest one wins,
`selectors.threshold_for`); saving one marks the figures under it stale (households.signals), so
the assessment recomputes them as it does after any other change of the county's data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from households.models import MonitoringThreshold
from households.services import ConcurrentEditError
from households.signals import reference_data_changed
from regions.models import AuditKind, Level, Region, RegionQuerySet, User, regions_visible_to
from regions.services import audit_record


@dataclass(frozen=True)
class ThresholdRow:
    threshold: MonitoringThreshold
    editable: bool


def threshold_regions(*, user: User) -> RegionQuerySet:
    """Regions the user may set a threshold for: their county's subtree (system administrators: any)."""
    if not user.may_edit_thresholds():
        return RegionQuerySet(Region).none()
    return regions_visible_to(user).filter(level__lte=Level.VILLAGE).order_by("code")


def threshold_rows(*, user: User, year: int | None = None) -> list[ThresholdRow]:
    """The thresholds that apply in the user's subtree: their own (editable) and those set above it."""
    prefix = user.scope_prefix()
    if prefix is None:
        return []
    own = Q(region__code__startswith=prefix)
    above = Q()
    if user.region is not None and prefix:
        above = Q(region__in=Region.objects.ancestors_of(user.region).exclude(pk=user.region.pk))
    thresholds: QuerySet[MonitoringThreshold] = MonitoringThreshold.objects.filter(own | above if above else own)
    if year is not None:
        thresholds = thresholds.filter(year=year)
    editable = user.may_edit_thresholds()
    return [
        ThresholdRow(threshold=threshold, editable=editable and threshold.region.code.startswith(prefix))
        for threshold in thresholds.select_related("region").order_by("-year", "region__code")
    ]


def threshold_get(*, user: User, pk: int) -> MonitoringThreshold | None:
    """A threshold the user may edit, or None."""
    return MonitoringThreshold.objects.filter(pk=pk, region__in=threshold_regions(user=user)).first()


def threshold_digest(threshold: MonitoringThreshold) -> str:
    """What a page showed of a threshold, to tell at saving whether it changed since (thresholds have no
    version column; the API's ETag of one is likewise a digest of its content)."""
    shown = f"{threshold.region_id}|{threshold.year}|{threshold.amount:.2f}|{threshold.source}"
    return hashlib.sha256(shown.encode()).hexdigest()


def _described(threshold: MonitoringThreshold) -> str:
    return f"{threshold.region.name} {threshold.year}年 {threshold.amount}元/人·年（{threshold.source}）"


@transaction.atomic
def threshold_save(
    *,
    by: User,
    threshold: MonitoringThreshold | None,
    region: Region,
    year: int,
    amount: Decimal,
    source: str,
    shown: str | None = None,
    ip_address: str | None = None,
) -> MonitoringThreshold:
    """Add or change a threshold in the user's county; the audit keeps what it was and what it became.

    A change may carry the `threshold_digest` of the row as the user's page showed it: if the row has
    changed since (an edit saved from another page), it is refused rather than silently overwritten."""
    if not threshold_regions(user=by).filter(pk=region.pk).exists():
        raise ValidationError({"region": "只能为本县及其下属区划设置监测标准"})
    before = None
    if threshold is None:
        threshold = MonitoringThreshold()
    else:
        before = MonitoringThreshold.objects.select_for_update().select_related("region").get(pk=threshold.pk)
        if shown is not None and shown != threshold_digest(before):
            raise ConcurrentEditError()
    threshold.region, threshold.year, threshold.source = region, year, source
    threshold.amount = amount.quantize(Decimal("0.01"))
    threshold.full_clean()
    threshold.save()
    if before is not None and before.region_id != region.pk:
        # The region it applied to before loses it: its figures are stale too.
        reference_data_changed(sender=MonitoringThreshold, instance=before)
    detail = _described(threshold) if before is None else f"{_described(before)} → {_described(threshold)}"
    audit_record(kind=AuditKind.THRESHOLD_CHANGED, user=by, subject="监测标准", detail=detail, ip_address=ip_address)
    return threshold


def default_year() -> int:
    return date.today().year
