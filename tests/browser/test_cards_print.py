"""明白卡 in a real Chromium: a household's card and a village's cards, on screen and as printed."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from households.excel.models import ExportKind, ExportRecord
from households.models import AssistanceMeasure, Health, Labour, Relation, RiskType
from households.services import monitoring_case_register
from tests.browser.test_clerk_flow import assert_page_healthy, log_in
from tests.conftest import Staff
from tests.factories import Tree, household, income, member, threshold

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Path]
# Each page object of a Chromium PDF carries "/Type /Page"; the page tree is "/Type /Pages".
PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-z])")


# The printable area of A4 inside the card's @page margins (210 − 2 × 14 mm by 297 − 2 × 12 mm) in CSS px.
A4_CONTENT: ViewportSize = {"width": round(182 / 25.4 * 96), "height": round(273 / 25.4 * 96)}


def print_view(page: Page) -> None:
    """Print media at the printed page's width, so the screenshot shows the card as the sheet lays it out."""
    page.emulate_media(media="print")
    page.set_viewport_size(A4_CONTENT)


def screen_view(page: Page) -> None:
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 1400, "height": 900})


def card_heights(page: Page) -> list[float]:
    heights = []
    for card in page.get_by_test_id("card").all():
        box = card.bounding_box()
        assert box is not None
        heights.append(box["height"])
    return heights


def pdf_pages(page: Page) -> int:
    """How many A4 sheets the page prints on, laid out by its own print CSS."""
    return len(PDF_PAGE.findall(page.pdf(prefer_css_page_size=True, print_background=True)))


def eight_member_family(staff: Staff, tree: Tree) -> int:
    """The largest family a card must fit on one page: eight members, a case with five risks, long names."""
    relations = [
        (Relation.HEAD, "欧阳建国", "19560310", Labour.WEAK, Health.CHRONIC),
        (Relation.SPOUSE, "司马秀英", "19580721", Labour.LOST, Health.SERIOUS),
        (Relation.SON, "欧阳大山", "19800105", Labour.SKILLED, Health.HEALTHY),
        (Relation.DAUGHTER_IN_LAW, "诸葛春花", "19830909", Labour.ORDINARY, Health.HEALTHY),
        (Relation.DAUGHTER, "欧阳小梅", "19881111", Labour.ORDINARY, Health.DISABLED),
        (Relation.GRANDSON, "欧阳小川", "20060606", Labour.NONE, Health.HEALTHY),
        (Relation.GRANDDAUGHTER, "欧阳小雨", "20100808", Labour.NONE, Health.HEALTHY),
        (Relation.GRANDSON, "欧阳小石", "20150101", Labour.NONE, Health.HEALTHY),
    ]
    target = household(
        staff.village_clerk,
        tree.village_a1,
        number="532326100201-P001",
        members=[
            member(relation, name=name, birth=birth, labour=labour, health=health)
            for relation, name, birth, labour, health in relations
        ],
        helper_name="赵德明",
        helper_unit="楚雄彝族自治州大姚县农业农村局乡村振兴促进股",
        helper_phone="13987654321",
    )
    for quarter in ("2025Q4", "2026Q1", "2026Q2"):
        income(staff.village_clerk, target, quarter, wages_migrant_work="6000", transfer_minimum_living="800")
    income(
        staff.village_clerk,
        target,
        "2026Q3",
        wages_migrant_work="9000",
        operating_planting="2500",
        property_dividends="300",
        transfer_minimum_living="800",
        operating_costs="600",
    )
    monitoring_case_register(
        by=staff.village_clerk,
        household=target,
        category="unstable",
        identified_month=date(2026, 3, 1),
        risk_types=RiskType.objects.filter(name__in=["因病", "因残", "因学", "缺劳动力", "因务工就业不稳"]),
        measures=AssistanceMeasure.objects.all()[:6],
    )
    return target.pk


def test_a_township_admin_prints_a_household_card_and_a_village_s_cards(
    transactional_db: None,
    live_server: object,
    tree: Tree,
    staff: Staff,
    page: Page,
    screenshot: Screenshot,
    page_problems: PageProblems,
) -> None:
    threshold(tree.province, 2026, "8700")
    big = eight_member_family(staff, tree)
    small = household(staff.village_clerk, tree.village_a1, number="532326100201-P002")
    income(staff.village_clerk, small, "2026Q3", wages_other="1200")
    base_url = str(live_server)

    log_in(page, base_url, staff.township_admin.username)
    page.goto(f"{base_url}/households/{big}/")
    page.get_by_test_id("card-link").click()
    expect(page).to_have_url(re.compile(rf"/households/{big}/card/\?period=2026Q3$"))
    card = page.get_by_test_id("card")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("card-members").locator("tbody tr")).to_have_count(8)
    expect(card.get_by_test_id("card-village")).to_have_text("大姚县金碧镇大村村")
    expect(card.get_by_test_id("card-comparison")).to_have_text(re.compile(r"^(高于|低于)2026年监测标准 8,700.00 元$"))
    expect(page.locator("body > nav")).to_be_visible()
    screenshot("cards-1-household-screen")

    print_view(page)
    expect(page.locator("body > nav")).to_be_hidden()
    expect(page.get_by_test_id("cards-toolbar")).to_be_hidden()
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
    expect(card).to_be_visible()
    screenshot("cards-2-household-print")
    assert max(card_heights(page)) <= A4_CONTENT["height"], "an eight-member household's card must fit one A4 page"
    assert pdf_pages(page) == 1
    screen_view(page)

    page.goto(f"{base_url}/households/")
    page.get_by_test_id("village-cards-link").click()
    pick = page.get_by_test_id("cards-pick")
    pick.get_by_label("村（社区）").select_option(label="金碧镇 大村村")
    pick.get_by_label("季度").fill("2026Q3")
    pick.get_by_role("button", name="生成明白卡").click()
    cards = page.get_by_test_id("card")
    expect(cards).to_have_count(2)
    expect(cards.nth(1).get_by_test_id("card-income")).to_contain_text("1,200.00")
    expect(cards.nth(1).get_by_test_id("card-comparison")).to_have_text("近四个季度收入未录全，暂不能与监测标准比较")
    screenshot("cards-3-village-screen")

    print_view(page)
    expect(page.locator("body > nav")).to_be_hidden()
    expect(page.get_by_test_id("cards-toolbar")).to_be_hidden()
    screenshot("cards-4-village-print")
    assert all(height <= A4_CONTENT["height"] for height in card_heights(page))
    assert pdf_pages(page) == 2, "one household a page"

    record = ExportRecord.objects.get()
    assert (record.kind, record.region_id, record.exported_by_id, record.row_count) == (
        ExportKind.CARDS,
        tree.village_a1.pk,
        staff.township_admin.pk,
        2,
    )
    assert_page_healthy(page_problems)
