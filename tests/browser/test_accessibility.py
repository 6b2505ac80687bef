"""Every page, as 县级查看 (xian), 乡镇 (xiang) and 村 (cun): axe-core finds no violation of serious or
critical impact, no page scrolls sideways on a 390-px phone or a 1,366-px desk, and no page breaks the
Content-Security-Policy (the violations Chromium reports, recorded by tests/browser/conftest.py).

The walk starts at the menu and follows every link of the site, opening one URL of each URL name per user,
so a new page is checked as soon as something links to it; the URL names are enumerated from the urlconfs,
and a named URL that the walk never reached fails the test unless it is listed below with its reason."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from django.http import QueryDict
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404
from playwright.sync_api import Page, expect

from api.services import api_client_create
from assessment.demo import DEMO_COUNTY, demo_targets_ensure
from assessment.models import ComputeRun
from assessment.services import compute_run_now
from cooperatives.models import Entity, EntityKind
from figures.periods import Quarter
from households.demo_writer import demo_seed
from households.excel.export_jobs import export_job_create, filter_form
from households.models import Household
from households.reference_lists import LISTS, reference_item_add
from regions.models import Region, User
from tests.browser.test_clerk_flow import assert_page_healthy
from tests.browser.test_dashboard_flow import log_in
from tests.browser.test_import_flow import roster_rows, write_roster

if TYPE_CHECKING:
    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser

PERIOD = Quarter(2026, 3)
PHONE, DESK = 390, 1366
AXE = "/static/vendor/axe/axe.min.js"
FAILING_IMPACTS = ("serious", "critical")
# Runs axe on the open page; returns "rule (impact): the first elements" for each failing finding.
AXE_RUN = """async (impacts) => (await axe.run(document, {resultTypes: ["violations"]})).violations
  .filter((v) => impacts.includes(v.impact))
  .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`)"""

# Named URLs that are not pages: a POST that redirects, a file, leaving. The walk never opens them.
NOT_PAGES = {
    "logout": "a POST that ends the session",
    **dict.fromkeys(
        [
            "alert_action",
            "alert_dismiss_bulk",
            "assessment_compute",
            "assessment_policy_delete",
            "beneficiary_remove",
            "binding_end",
            "close_approve",
            "close_lock",
            "close_reopen",
            "close_return",
            "close_submit",
            "collective_income_approve",
            "collective_income_return",
            "collective_income_submit",
            "import_batch_confirm",
            "account_password_reset",
            "account_set_active",
            "account_unlock",
            "api_client_deactivate",
            "api_client_rotate",
            "api_token_revoke",
            "import_batch_recheck",
            "import_batch_undo",
            "income_void",
            "membership_leave",
            "project_advance",
            "reference_set_active",
        ],
        "a POST action that redirects to the page it came from",
    ),
    **dict.fromkeys(
        [
            "assessment_dashboard_excel",
            "cooperative_sheet_export",
            "cooperative_sheet_template",
            "export_download",
            "export_job_file",
            "fund_sheet_export",
            "fund_sheet_template",
            "import_batch_errors",
            "import_batch_file",
            "import_template",
        ],
        "a file download",
    ),
    "session_keep_alive": "a POST from static/js/session.js that answers JSON",
    "healthz": "the load balancer's probe, which answers JSON",
    # A fragment that htmx swaps into the run's page, which the walk checks whole.
    "assessment_run_progress": "a fragment of assessment_run",
}
# Pages the walk does not reach with the demo data, each the same view and template as a walked page.
# (Pages reached only from a start URL in the test are walked, and so not listed here.)
UNLINKED = {
    "assessment_complement": "indicator_records, walked as assessment_numerator and assessment_denominator",
    "threshold_edit": "threshold_create's view and template (the demo county has no threshold of its own to edit)",
    "api_conflict_detail": "a conflict needs a province's write over a county's edit (tests/api/test_conflicts.py)",
    "api_reconciliation_detail": "a report needs a client's posted checksums (tests/api/test_reconciliation.py)",
}


@dataclass
class Walk:
    """What one walk found: the URL names it opened and what is wrong with them."""

    visited: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def url_names(patterns: list[URLPattern | URLResolver] | None = None) -> Iterator[str]:
    """Every named URL of the project's urlconfs, the Django admin's excepted (not our pages)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace not in ("admin", "api"):
                yield from url_names(pattern.url_patterns)
        elif pattern.name:
            yield pattern.name


def url_name(base: str, href: str) -> str | None:
    """The URL name a link of the site leads to; None for another site, the admin or an unknown path."""
    parts = urlsplit(href)
    # The machine API answers JSON to tokens (tests/api validates it against its schema); its Swagger page
    # is drf-spectacular-sidecar's, not ours.
    if f"{parts.scheme}://{parts.netloc}" != base or parts.path.startswith(("/admin/", "/static/", "/api/")):
        return None
    try:
        return resolve(parts.path).url_name
    except Resolver404:
        return None


def check_page(page: Page, base: str, name: str, walk: Walk, who: str) -> None:
    """The open page at both widths: nothing past the right edge, axe's serious or critical findings, and the
    Content-Security-Policy violations the page reported."""
    for width in (PHONE, DESK):
        page.set_viewport_size({"width": width, "height": 900})
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            walk.problems.append(f"{who} {name} {page.url}: {scroll_width} px wide at {width} px")
        page.add_script_tag(url=base + AXE)
        violations = page.evaluate(AXE_RUN, list(FAILING_IMPACTS))
        walk.problems.extend(f"{who} {name} {page.url} at {width} px: {violation}" for violation in violations)
    refused = page.evaluate("window.__cspViolations")
    walk.problems.extend(f"{who} {name} {page.url}: CSP {violation}" for violation in refused)


def walk_site(page: Page, base: str, who: str, *, starts: list[str], checked: set[str], walk: Walk) -> None:
    """Open the start URLs and the home page, then every link of the site, one URL per URL name; check each
    page whose URL name is not in `checked`."""
    opened: set[str] = set()
    queue = deque([*starts, base + "/"])
    while queue:
        href = queue.popleft()
        name = url_name(base, href)
        if name is None or name in opened or name in NOT_PAGES:
            continue
        opened.add(name)
        page.set_viewport_size({"width": PHONE, "height": 900})
        response = page.goto(href)
        status = response.status if response else None
        if status != 200:
            walk.problems.append(f"{who} {name} {href}: HTTP {status}")
            continue
        if name not in checked:
            walk.visited.add(name)
            check_page(page, base, name, walk, who)
        links = page.eval_on_selector_all(
            "a[href]:not([download])", "(links) => links.map((link) => link.href.split('#')[0])"
        )
        queue.extend(links)


def screenshots(page: Page, directory: Path, base: str, pages: dict[str, str]) -> None:
    """The pages people use most, whole, at both widths, for a person to look at."""
    for label, path in pages.items():
        for width in (PHONE, DESK):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(directory / f"a11y-{label}-{width}.png"), full_page=True)


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


def test_every_page_passes_axe_and_fits_a_phone_and_a_desk_for_every_role(
    demo_county: Region,
    live_server: Any,
    page: Page,
    page_problems: PageProblems,
    screenshot_dir: Path,
    tmp_path: Path,
) -> None:
    base = live_server.url
    walk = Walk()

    page.goto(base + reverse("login"))
    check_page(page, base, "login", walk, "anonymous")
    walk.visited.add("login")

    cun = User.objects.get(username="cun")
    monitored = Household.objects.visible_to(cun).monitored().first()
    job = export_job_create(by=cun, kind="roster", form=filter_form(user=cun, query=QueryDict()), household_count=1)
    village_code = cun.region.code if cun.region else ""
    log_in(page, base, "cun")
    # A batch of the clerk's own: the import pages need one.
    page.goto(base + reverse("import_upload"))
    upload = page.get_by_test_id("upload-form")
    upload.get_by_label("花名册", exact=True).check()
    upload.get_by_label("选择文件").set_input_files(write_roster(tmp_path / "花名册.xlsx", roster_rows(village_code)))
    upload.get_by_role("button", name="上传并校验").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("导入批次 #")
    cooperative = Entity.objects.visible_to(cun).filter(kind=EntityKind.COOPERATIVE).first()
    assert monitored is not None and cooperative is not None
    # First a household with an open case (its page links to 标注风险消除) and a cooperative (its 入社 form),
    # then an export's page and the cooperatives' Excel page, to which no page links today.
    starts = [
        base + reverse("household_detail", args=[monitored.pk]),
        base + reverse("entity_detail", args=[cooperative.pk]),
        base + reverse("membership_add", args=[cooperative.pk]),
        base + reverse("export_job", args=[job.pk]),
        base + reverse("cooperative_sheets"),
    ]
    walk_site(page, base, "cun", starts=starts, checked=set(), walk=walk)
    screenshots(
        page,
        screenshot_dir,
        base,
        {"household-list": reverse("household_list"), "household-form": reverse("household_create")},
    )
    page.context.clear_cookies()

    for username in ("xian", "xiang"):
        log_in(page, base, username)
        walk_site(page, base, username, starts=[], checked=set(), walk=walk)
        if username == "xian":
            screenshots(page, screenshot_dir, base, {"dashboard": reverse("assessment_dashboard")})
        page.context.clear_cookies()
    # The county administrator's own pages (targets, allocations, the catalogue): only what the others did not open.
    log_in(page, base, "xianadmin")
    # An API client, so that the 接口客户端 list links to a client's page.
    api_client_create(
        name="省级防返贫监测平台",
        region=demo_county,
        readable=["households"],
        writable=[],
        may_view_personal_data=False,
        throttle_rate="600/min",
        by=User.objects.get(username="xianadmin"),
    )
    # A 风险类型 of the county's own, so that the 参考列表 page links to its rename form.
    reference_item_add(
        by=User.objects.get(username="xianadmin"), county=demo_county, reference_list=LISTS["risk-types"], name="因旱灾"
    )
    run = ComputeRun.objects.latest("pk")
    walk_site(
        page,
        base,
        "xianadmin",
        starts=[base + reverse("assessment_run", args=[run.pk])],
        checked=set(walk.visited),
        walk=walk,
    )

    unreached = set(url_names()) - walk.visited - set(NOT_PAGES) - set(UNLINKED)
    assert not walk.problems, "\n".join(walk.problems)
    assert not unreached, f"no link leads to {sorted(unreached)}: link them or list them in NOT_PAGES or UNLINKED"
    assert_page_healthy(page_problems)
