"""What the dashboard screen reads on every request besides whose it is: the stamps its cached parts
are kept under (assessment/dashboard_cache.py) and the area's quarter close — in one statement of
scalar subqueries, each an index lookup or a count over a few hundred rows. No value, household or
fact is read: on a cache hit this is all the screen asks the database beyond the user and the quarters.

The statement is written out once rather than built by the ORM on each request: as thirteen
subqueries the ORM spent some 10 ms of CPU composing it, ten times what the database spent on it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.db import connection

from assessment.closing_models import QuarterSubmission, SubmissionStatus
from assessment.dashboard_selectors import CloseStatus, trend_periods
from assessment.models import Alert, IndicatorValue, Target
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
    versions (they only grow, so their sum moves with any of them), the quarter's locks (count and
    newest id: a lock adds a row, an unlock deletes one) and the targets' newest history id (the charts'
    reference lines are drawn at the targets as they are now; every edit and deletion writes a history
    row, and a changed parameter changes the data versions). The alerts' stamp: the newest alert id (raising
    inserts) and the newest history id (every status change and deletion writes one, assessment/alerts.py).
    """
    trend = trend_periods(period)
    # At or below a county, its own version and lock; above, those of every county under the region.
    counties = county_code_of(region.code) if region.level >= Level.COUNTY else f"{region.prefix}%"
    parameters: dict[str, int | str] = {
        "region": region.pk,
        "first": trend[0].index,
        "last": trend[-1].index,
        "year": period.year,
        "quarter": period.number,
        "village": int(Level.VILLAGE),
        "county": int(Level.COUNTY),
        "counties": counties,
        "area": f"{region.prefix}%",
        **{status.value: status.value for status in FURTHER},
    }
    with connection.cursor() as cursor:
        cursor.execute(_statement(), parameters)
        names = [column[0] for column in cursor.description]
        row: dict[str, Any] = dict(zip(names, cursor.fetchone(), strict=True))
    figures = (
        f"{row['values_read']}|{row['latest']}|{row['versions']}|{row['locks']}|{row['newest_lock']}"
        f"|{row['newest_target_change']}"
    )
    close = CloseStatus(
        villages=row["villages"],
        by_status={status.value: row[status.value] for status in FURTHER if row[status.value]},
        locked=region.level >= Level.COUNTY and bool(row["locks"]),
    )
    return DashboardState(figures=figures, alerts=f"{row['newest_alert']}|{row['newest_alert_change']}", close=close)


@functools.cache
def _statement() -> str:
    values = IndicatorValue._meta.db_table
    regions = Region._meta.db_table
    submissions = QuarterSubmission._meta.db_table
    # The trend window as a range of quarter indexes (year * 4 + quarter - 1, as Quarter.index).
    in_window = "year * 4 + quarter - 1 BETWEEN %(first)s AND %(last)s"
    counts = ",\n".join(
        f"""(SELECT COUNT(*) FROM {submissions} s JOIN {regions} v ON v.id = s.village_id
             WHERE v.code LIKE %(area)s AND s.year = %(year)s AND s.quarter = %(quarter)s
               AND s.status = %({status.value})s) AS {status.value}"""
        for status in FURTHER
    )
    return f"""
        SELECT COUNT(*) AS values_read, MAX(read.computed_at) AS latest,
            (SELECT SUM(d.version) FROM {DataVersion._meta.db_table} d JOIN {regions} c ON c.id = d.county_id
             WHERE c.level = %(county)s AND c.code LIKE %(counties)s) AS versions,
            (SELECT COUNT(*) FROM {ClosedQuarter._meta.db_table} q JOIN {regions} c ON c.id = q.county_id
             WHERE c.code LIKE %(counties)s AND q.year = %(year)s AND q.quarter = %(quarter)s) AS locks,
            (SELECT MAX(q.id) FROM {ClosedQuarter._meta.db_table} q JOIN {regions} c ON c.id = q.county_id
             WHERE c.code LIKE %(counties)s AND q.year = %(year)s AND q.quarter = %(quarter)s) AS newest_lock,
            (SELECT MAX(id) FROM {Alert._meta.db_table}) AS newest_alert,
            (SELECT MAX(history_id) FROM {Alert.history.model._meta.db_table}) AS newest_alert_change,
            (SELECT MAX(history_id) FROM {Target.history.model._meta.db_table}) AS newest_target_change,
            (SELECT COUNT(*) FROM {regions} WHERE level = %(village)s AND code LIKE %(area)s) AS villages,
            {counts}
        FROM (
            SELECT computed_at FROM {values} WHERE region_id = %(region)s AND {in_window}
            UNION ALL
            SELECT v.computed_at FROM {values} v JOIN {regions} r ON r.id = v.region_id
            WHERE r.parent_id = %(region)s AND r.level <= %(village)s
              AND v.year = %(year)s AND v.quarter = %(quarter)s
        ) read
    """
