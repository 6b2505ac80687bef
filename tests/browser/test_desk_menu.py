"""Wider than a phone: the roles with the most menu entries (county administrator, system administrator) keep
every page from scrolling sideways at the common desk widths, from 1,200 px (where the menu stops collapsing)
up; a tablet's width (768–1,199 px, past the phone's cards) scrolls a wide table inside its card."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page

from households.models import Relation
from tests.browser.test_clerk_flow import assert_page_healthy, log_in
from tests.conftest import Staff
from tests.factories import Tree, household, member

if TYPE_CHECKING:
    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser

DESK_WIDTHS = (1200, 1280, 1366, 1440, 1920)


def test_no_role_s_menu_pushes_a_page_past_the_right_edge_of_a_desk(
    transactional_db: None, live_server: Any, staff: Staff, page: Page, page_problems: PageProblems
) -> None:
    too_wide = []
    for account in (staff.county_admin, staff.superuser, staff.township_admin, staff.village_clerk):
        page.context.clear_cookies()
        log_in(page, str(live_server), account.username)
        for width in DESK_WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(f"{live_server}/households/")
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                too_wide.append(f"{account.username} at {width} px: {scroll_width} px wide")
            # Every entry of the menu stays on the screen.
            off_screen = page.evaluate(
                """(width) => [...document.querySelectorAll('nav a, nav button')]
                     .filter((item) => {
                       const box = item.getBoundingClientRect();
                       return box.left < 0 || box.right > width;
                     })
                     .map((item) => item.textContent.trim())""",
                width,
            )
            if off_screen:
                too_wide.append(f"{account.username} at {width} px: {off_screen} off the screen")
    assert too_wide == []
    assert_page_healthy(page_problems)


def test_the_household_list_and_page_fit_a_tablet_lying_on_its_side(
    transactional_db: None, live_server: Any, tree: Tree, staff: Staff, page: Page, page_problems: PageProblems
) -> None:
    # Between the phone's cards (below 768 px) and a desk, a wide table scrolls inside its card, not the page.
    target = household(
        staff.village_clerk,
        tree.village_a1,
        members=[member(name="欧阳建国", birth="19560310"), member(Relation.SPOUSE, name="司马秀英", birth="19580721")],
        helper_name="赵德明",
    )
    log_in(page, str(live_server), staff.village_clerk.username)
    for width in (768, 1024):
        page.set_viewport_size({"width": width, "height": 768})
        for path in ("/households/", f"/households/{target.pk}/"):
            page.goto(f"{live_server}{path}")
            assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{path} at {width} px"
    assert_page_healthy(page_problems)
