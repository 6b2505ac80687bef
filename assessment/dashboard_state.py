"""What the dashboard screen reads on every request besides whose it is: the stamps its cached parts
are kept under (assessment/dashboard_cache.py) and the area's quarter close — in one query of scalar
subqueries, each an index lookup or a count over a few hundred rows. No value, household or fact is
read: on a cache hit this is all the screen asks the database beyond the user and the quarters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Aggregate, Count, Max, Q, QuerySet, Subquery, Sum, Value

from assessment.closing_models import QuarterSubmission, SubmissionStatus
from assessment.dashboard_selectors import CloseStatus, trend_periods
from assessment.models import Alert, IndicatorValue
from figures.periods import Quarter
from households.closing import ClosedQuarter
from regions.models import DataVersion, Level, Region, county_code_of

FURTHER = [status for status in SubmissionStatus if status != SubmissionStatus.FILLING]


@dataclass(frozen=True)
class DashboardState:
    figures: str  # changes whenever the figures (summary, ranking, tiles, charts) would
    alerts: str  # changes whenever an alert is raised, changes status or is deleted
    close: CloseStatus


def dashboard_state(*, region: Region, period: Quarter) -> DashboardState:
    """The figures' stamp: the stored values they read — the region's over the trend quarters and its
    children's of the period, counted, with their latest computation time, which every run that writes
    them renews (a run deletes and writes a region's values, breakdowns and scores together, and moves
    siblings' ranks only when it writes one of them) — and what marks values stale: the counties' data
    versions (they only grow, so their sum moves with any of them) and the quarter's locks (count and
    newest id: a lock adds a row, an unlock deletes one). The alerts' stamp: the newest alert id (raising
    inserts) and the newest history id (every status change and deletion writes one, assessment/alerts.py).
    """
    window = Q()
    for quarter in trend_periods(period):
        window |= Q(year=quarter.year, quarter=quarter.number)
    if region.level >= Level.COUNTY:
        counties = Q(county__code=county_code_of(region.code))
    else:
        counties = Q(county__code__startswith=region.prefix)
    own = IndicatorValue.objects.filter(Q(region=region) & window)
    # Through the join, each part has its own index plan; as one OR the planner read the whole quarter.
    children = IndicatorValue.objects.filter(
        region__parent=region, region__level__lte=Level.VILLAGE, year=period.year, quarter=period.number
    )
    locks = ClosedQuarter.objects.filter(counties, year=period.year, quarter=period.number)
    submissions = QuarterSubmission.objects.for_period(period).filter(village__code__startswith=region.prefix)
    row: dict[str, Any] = dict(
        Region.objects.filter(pk=region.pk)
        .values(
            own_count=_scalar(own, Count("pk")),
            own_latest=_scalar(own, Max("computed_at")),
            children_count=_scalar(children, Count("pk")),
            children_latest=_scalar(children, Max("computed_at")),
            versions=_scalar(DataVersion.objects.filter(counties), Sum("version")),
            locks=_scalar(locks, Count("pk")),
            newest_lock=_scalar(locks, Max("pk")),
            newest_alert=_scalar(Alert.objects.all(), Max("pk")),
            newest_alert_change=_scalar(Alert.history.all(), Max("history_id")),
            villages=_scalar(Region.objects.filter(level=Level.VILLAGE, code__startswith=region.prefix), Count("pk")),
            **{status.value: _scalar(submissions.filter(status=status), Count("pk")) for status in FURTHER},
        )
        .get()
    )
    latest = max((each for each in (row["own_latest"], row["children_latest"]) if each is not None), default=None)
    figures = (
        f"{row['own_count']}|{row['children_count']}|{latest.isoformat() if latest else '-'}|"
        f"{row['versions']}|{row['locks']}|{row['newest_lock']}"
    )
    close = CloseStatus(
        villages=row["villages"],
        by_status={status.value: row[status.value] for status in FURTHER if row[status.value]},
        locked=region.level >= Level.COUNTY and bool(row["locks"]),
    )
    return DashboardState(figures=figures, alerts=f"{row['newest_alert']}|{row['newest_alert_change']}", close=close)


def _scalar(queryset: QuerySet[Any], aggregate: Aggregate) -> Subquery:
    """One aggregate over a whole queryset as a subquery, so that many are read in one query (the
    constant grouped on adds no GROUP BY: one row, even over no rows)."""
    return Subquery(
        queryset.order_by().annotate(whole=Value(1)).values("whole").annotate(result=aggregate).values("result")
    )
