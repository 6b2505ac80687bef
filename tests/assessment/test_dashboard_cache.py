"""The dashboard screen keeps its rendered figures in the cache: rendered once per stamp, rendered
again as soon as a run stores new values or the data they were computed from changes; alert counts
follow every alert change; a cached dashboard asks one query at every level."""

from __future__ import annotations

from typing import Any
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessment import dashboard_cache, dashboard_selectors
from assessment.alerts import alert_dismiss
from assessment.closing_models import QuarterSubmission
from assessment.dashboard_selectors import close_status
from assessment.dashboard_state import dashboard_state
from assessment.demo import DEMO_COUNTY
from assessment.models import Alert, AlertStatus, IndicatorValue
from assessment.services import compute_run_now
from assessment.templatetags.assessment_tags import figure
from households.closing import closed_quarter_lock
from households.models import IncomeRecord
from regions.models import DataVersion, Region, User
from regions.services import data_changed
from tests.assessment.test_dashboards import PERIOD, TOWNSHIP_A, client_for, demo, page, tile_html

__all__ = ["demo"]  # the fixture, used by name


def counted_dashboard() -> Any:
    return mock.patch.object(dashboard_selectors, "dashboard", wraps=dashboard_selectors.dashboard)


def test_the_figures_are_built_once_and_then_served_from_the_cache(demo: Region) -> None:
    client = client_for("xian")
    with counted_dashboard() as built:
        first = page(client, DEMO_COUNTY)
        second = page(client, DEMO_COUNTY)
        page(client_for("xianadmin"), DEMO_COUNTY)
    assert built.call_count == 1
    assert figures_of(first) == figures_of(second)
    with counted_dashboard() as built:
        page(client, DEMO_COUNTY, compare="year_earlier")
        page(client, TOWNSHIP_A)
    assert built.call_count == 2


def figures_of(html: str) -> str:
    """The page from its summary line on (the navigation above carries a fresh CSRF token each time)."""
    return html[html.index('data-testid="computed-at"') :]


def test_a_run_that_stores_new_values_shows_them_at_the_next_request(demo: Region) -> None:
    client = client_for("xian")
    code = "income_per_capita_all"
    before = IndicatorValue.objects.for_period(PERIOD).get(region=demo, indicator=code)
    assert figure(before.value, "yuan_per_person") in tile_html(page(client, DEMO_COUNTY), code)
    records = IncomeRecord.objects.filter(
        year=PERIOD.year, quarter=PERIOD.number, household__village__code__startswith=demo.prefix
    )
    for record in records[:20]:
        record.wages_other += 50_000
        record.save()
    data_changed(codes=[DEMO_COUNTY])
    compute_run_now(scope=demo, period=PERIOD, reason="test")
    after = IndicatorValue.objects.for_period(PERIOD).get(region=demo, indicator=code)
    assert after.value != before.value
    html = tile_html(page(client, DEMO_COUNTY), code)
    assert figure(after.value, "yuan_per_person") in html
    assert figure(before.value, "yuan_per_person") not in html


def test_figures_turn_stale_at_once_when_their_data_changes_and_fresh_when_recomputed(demo: Region) -> None:
    client = client_for("xian")
    with mock.patch("assessment.services.recompute_due"):
        assert "数据已过期" not in page(client, DEMO_COUNTY)
        DataVersion.objects.filter(county=demo).update(version=10**6)
        assert "数据已过期" in page(client, DEMO_COUNTY)
    compute_run_now(scope=demo, period=PERIOD, reason="test")
    assert "数据已过期" not in page(client, DEMO_COUNTY)


def test_alert_counts_follow_a_handled_alert_while_the_figures_stay_cached(demo: Region) -> None:
    client = client_for("xian")
    open_alerts = Alert.objects.filter(
        year=PERIOD.year,
        quarter=PERIOD.number,
        status=AlertStatus.PENDING,
        household__village__code__startswith=demo.prefix,
    )
    alert = open_alerts.first()
    assert alert is not None
    count = open_alerts.filter(rule=alert.rule).count()
    assert f'data-rule="{alert.rule}">' in page(client, DEMO_COUNTY)
    badge = f'<span class="badge text-bg-danger rounded-pill">{count}</span>'
    assert badge in alert_chunk(page(client, DEMO_COUNTY), alert.rule)
    alert_dismiss(
        by=User.objects.get(username="xianadmin"), alert=alert, reason="已核实为误报", expected_version=alert.version
    )
    with counted_dashboard() as built:
        html = page(client, DEMO_COUNTY)
    assert built.call_count == 0
    if count == 1:
        assert f'data-rule="{alert.rule}"' not in html
    else:
        assert f'<span class="badge text-bg-danger rounded-pill">{count - 1}</span>' in alert_chunk(html, alert.rule)


def alert_chunk(html: str, rule: str) -> str:
    start = html.index(f'data-rule="{rule}"')
    return html[start : html.index("</a>", start)]


def test_a_dashboard_from_the_cache_takes_one_query_for_a_county_a_township_and_a_village(demo: Region) -> None:
    township = Region.objects.get(code=TOWNSHIP_A)
    village = Region.objects.filter(parent=township).order_by("code").first()
    assert village is not None
    for region in (demo, township, village):
        dashboard_cache.dashboard_parts(region=region, period=PERIOD, compare="previous")
        with CaptureQueriesContext(connection) as captured:
            dashboard_cache.dashboard_parts(region=region, period=PERIOD, compare="previous")
        assert len(captured.captured_queries) == 1
        assert "households_household" not in captured.captured_queries[0]["sql"]


def test_the_close_read_with_the_stamps_equals_the_close_the_print_view_reads(demo: Region, admin_user: User) -> None:
    township = Region.objects.get(code=TOWNSHIP_A)
    villages = list(Region.objects.filter(parent=township).order_by("code"))
    QuarterSubmission.objects.create(village=villages[0], year=PERIOD.year, quarter=PERIOD.number, status="submitted")
    QuarterSubmission.objects.create(village=villages[1], year=PERIOD.year, quarter=PERIOD.number, status="approved")
    for region in (demo, township, villages[0]):
        assert dashboard_state(region=region, period=PERIOD).close == close_status(region=region, period=PERIOD)
    closed_quarter_lock(county=demo, period=PERIOD, by=admin_user)
    for region in (demo, township, villages[0]):
        close = dashboard_state(region=region, period=PERIOD).close
        assert close == close_status(region=region, period=PERIOD) and close.locked
    assert not dashboard_state(region=demo.parent, period=PERIOD).close.locked  # type: ignore[arg-type]
