"""The dashboard's figures rendered once and kept in the cache: what every request would otherwise
rebuild from the same stored values (the values, breakdowns and scores read into tiles, the ranking
and the charts' options and tables, then rendered) — about nine tenths of a dashboard's time.

The key holds the figures' stamp (assessment/dashboard_state.py): the count and latest computation
time of the stored values they read, the data versions and the quarter locks. A run that
stores new values, an import that makes them stale, a lock or an unlock changes the stamp, so the next
request renders afresh; nothing has to delete entries, and any cache backend is right, a per-process
one included. The open alerts change as people work: their counts are kept under a stamp that any
raised, handled or deleted alert changes as well. The quarter close is read on every request, in the
same query as the stamps. Entries expire after FIGURES_SECONDS, which bounds how long a renamed region
or risk type shows its old name (the only things drawn that no stamp follows).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from assessment import dashboard_charts, dashboard_selectors, dashboard_state
from figures.periods import Quarter
from regions.models import Region

FIGURES_SECONDS = 600
FIGURES_KEY = "assessment:dashboard:{region}:{period}:{compare}:{stamp}"
ALERTS_KEY = "assessment:dashboard-alerts:{region}:{period}:{stamp}"


@dataclass(frozen=True)
class DashboardParts:
    summary: SafeString  # when computed, the comparison, the sub-regions
    figures: SafeString  # the ranking, tiles and charts
    status: dashboard_selectors.AreaStatus


def dashboard_parts(*, region: Region, period: Quarter, compare: str) -> DashboardParts:
    """A region's dashboard below its header: the stamps and the close in one query, what the cache
    holds under the stamps in one round trip, the rest made now and kept."""
    state = dashboard_state.dashboard_state(region=region, period=period)
    # Alert counts follow the alerts, and the data too (a household moved to another village).
    figures_key = FIGURES_KEY.format(region=region.pk, period=period, compare=compare, stamp=_digest(state.figures))
    alerts_key = ALERTS_KEY.format(region=region.pk, period=period, stamp=_digest(f"{state.figures}|{state.alerts}"))
    found = cache.get_many([figures_key, alerts_key])
    rendered = found.get(figures_key)
    if rendered is None:
        # Read after the stamp, so what is kept under a stamp is never older than the stamp says.
        board = dashboard_selectors.dashboard(region=region, period=period, compare=compare)
        context = {"board": board, "region": region, "charts": dashboard_charts.charts(board)}
        rendered = (
            render_to_string("assessment/_dashboard_summary.html", context),
            render_to_string("assessment/_dashboard_figures.html", context),
        )
        cache.set(figures_key, rendered, FIGURES_SECONDS)
    alerts = found.get(alerts_key)
    if alerts is None:
        alerts = dashboard_selectors.alert_counts(region=region, period=period)
        cache.set(alerts_key, alerts, FIGURES_SECONDS)
    summary, figures = rendered
    # Rendered by the template engine, which escaped every value in them.
    return DashboardParts(
        summary=mark_safe(summary),
        figures=mark_safe(figures),
        status=dashboard_selectors.AreaStatus(alerts=alerts, close=state.close),
    )


def _digest(stamp: str) -> str:
    return hashlib.sha256(stamp.encode()).hexdigest()[:32]
