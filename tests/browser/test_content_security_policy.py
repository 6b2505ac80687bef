"""The Content-Security-Policy as Chromium enforces it. Every browser test fails on a violation (the listener
in conftest.py); this one shows that the listener catches one, and then does in the browser what the
accessibility walk does not: charts drawn and hovered (tooltips), member rows added, live income totals,
the import preview, the API documentation, the Django admin, and the error pages (403, 404, a stale CSRF
token, 500, 503) — all with no violation."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, Response, expect

from assessment.demo import DEMO_COUNTY, demo_targets_ensure
from assessment.services import compute_run_now
from figures.periods import Quarter
from households.demo_writer import demo_seed
from households.models import Household
from regions.models import Region, User
from tests.browser.test_clerk_flow import assert_page_healthy
from tests.browser.test_dashboard_flow import log_in, log_out
from tests.browser.test_import_flow import roster_rows, write_roster

if TYPE_CHECKING:
    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser

PERIOD = Quarter(2026, 3)
STRICT = "script-src 'self'"


def opened(page: Page, url: str, status: int = 200) -> Response:
    """Open a page and check that it came with the policy."""
    response = page.goto(url)
    assert response is not None and response.status == status, (url, response and response.status)
    assert STRICT in response.headers["content-security-policy"], url
    return response


def reported(page: Page) -> list[str]:
    return page.evaluate("window.__cspViolations")


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def demo_county(transactional_db: None) -> Region:
    demo_seed(households=40, seed=11)
    county = Region.objects.get(code=DEMO_COUNTY)
    demo_targets_ensure(county=county)
    compute_run_now(scope=county, period=PERIOD, reason="test")
    return county


def test_the_listener_catches_an_inline_script_and_a_style_attribute(
    transactional_db: None, live_server: Any, page: Page, page_problems: PageProblems
) -> None:
    opened(page, live_server.url + "/login/")
    page.evaluate("document.body.setAttribute('style', 'background: red')")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.ranInline = true'; "
        "document.body.append(s); }"
    )
    page.wait_for_function("window.__cspViolations.length >= 2")
    assert page.evaluate("window.ranInline === undefined")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(255, 0, 0)"
    deadline = time.monotonic() + 5
    while len(page_problems.csp_violations) < 4 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    caught = "\n".join(page_problems.csp_violations)
    assert "style-src-attr refused inline" in caught and "script-src-elem refused inline" in caught
    assert "console: " in caught  # Chromium's own console message, the second witness
    # Expected here: cleared, so that the fixture's check (no violation in any browser test) passes.
    page_problems.csp_violations.clear()
    page_problems.console_errors.clear()


def test_charts_forms_the_import_preview_docs_admin_and_error_pages_report_no_violation(
    demo_county: Region,
    celery_worker: None,  # the import preview's check runs on a worker on the PostgreSQL leg
    live_server: Any,
    page: Page,
    page_problems: PageProblems,
    settings: Any,
    tmp_path: Path,
) -> None:
    base = live_server.url

    # The county dashboard with its charts drawn, each hovered (its tooltip drawn), a 数据表 and a sort.
    log_in(page, base, "xian")
    opened(page, f"{base}/assessment/dashboard/?period={PERIOD}")
    charts = page.locator(".chart[data-option]")
    page.locator(".chart svg").first.wait_for()
    assert charts.count() >= 6
    for index in range(charts.count()):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        chart.locator("svg").wait_for()
        box = chart.bounding_box()
        assert box is not None
        for fraction in (0.3, 0.6):
            page.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] * 0.6)
            page.wait_for_timeout(150)
    page.get_by_test_id("table-toggle").first.click()
    page.locator("table.sortable th[data-sort]").first.click()
    opened(page, f"{base}/assessment/dashboard/print/?period={PERIOD}")
    page.locator(".chart svg").first.wait_for()

    # The API documentation (Swagger UI) with an operation opened.
    opened(page, f"{base}/api/v1/docs/")
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()

    # A viewer may not register a household (403); a missing household (404).
    opened(page, f"{base}/households/new/", status=403)
    expect(page.get_by_test_id("forbidden")).to_be_visible()
    opened(page, f"{base}/households/999999/", status=404)
    expect(page.get_by_test_id("not-found")).to_be_visible()
    log_out(page)

    # The clerk: the household form with member rows added, the income form's live totals, the import preview.
    log_in(page, base, "cun")
    opened(page, f"{base}/households/new/")
    for _ in range(2):
        page.get_by_role("button", name="＋ 添加成员").click()
    rows = page.get_by_test_id("member-row")
    expect(rows).to_have_count(3)
    rows.nth(2).locator('[name$="-name"]').fill("李桂英")
    cun = User.objects.get(username="cun")
    target = Household.objects.visible_to(cun).first()
    assert target is not None
    opened(page, f"{base}/households/{target.pk}/income/new/")
    page.get_by_label("务工收入", exact=True).fill("1234.5")
    expect(page.locator("#gross")).not_to_have_text("0.00")

    opened(page, f"{base}/imports/")
    upload = page.get_by_test_id("upload-form")
    upload.get_by_label("花名册", exact=True).check()
    village_code = cun.region.code if cun.region else ""
    upload.get_by_label("选择文件").set_input_files(write_roster(tmp_path / "花名册.xlsx", roster_rows(village_code)))
    upload.get_by_role("button", name="上传并校验").click()
    expect(page.get_by_test_id("counts")).to_be_visible(timeout=30_000)

    # A form submitted with a stale CSRF token: the Chinese page that says what to do.
    opened(page, f"{base}/households/new/")
    page.context.add_cookies([{"name": "csrftoken", "value": "x" * 32, "url": base}])
    page.get_by_label("户编号").fill("532326100201-C001")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("csrf-failure")).to_be_visible()
    log_in(page, base, "cun")

    # A bug (500) and a lost database connection (503), through the site's own handler.
    settings.ROOT_URLCONF = "tests.browser.failing_urls"
    opened(page, f"{base}/failing/broken/", status=500)
    expect(page.get_by_test_id("server-error")).to_be_visible()
    opened(page, f"{base}/failing/database-gone/", status=503)
    expect(page.get_by_role("heading", level=1)).to_have_text("数据库暂时无法连接，请稍后重试")
    page.context.clear_cookies()

    # The Django admin: its pages, a record's history, and the export page with its "select all" box.
    log_in(page, base, "admin")
    opened(page, f"{base}/admin/")
    opened(page, f"{base}/admin/households/household/")
    opened(page, f"{base}/admin/households/household/{target.pk}/change/")
    opened(page, f"{base}/admin/households/household/{target.pk}/history/")
    opened(page, f"{base}/admin/households/household/export/")
    # Its inline handler is allowed by its hash (households/admin.py): it runs.
    fields = page.locator(".selectable-field-export-row input[type=checkbox]:not(.select-toggle)")
    expect(fields.first).to_be_checked()
    page.locator("input.select-toggle").first.uncheck()
    expect(fields.first).not_to_be_checked()

    assert reported(page) == []
    assert page_problems.csp_violations == []
    assert_page_healthy(page_problems)
