"""计划与实际规模: actual = the sum of the villages' reports, planned = the region's own plan row, and
every number links to a list of rows whose count or sum is that number."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qsl, urlparse

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from industries import selectors, services
from industries.models import Industry
from industries.selectors import ScaleFigure
from regions.models import Level, Region
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree
from tests.industries.conftest import Catalogue


@pytest.fixture
def county_figures(tree: Tree, staff: Staff, catalogue: Catalogue) -> None:
    """Walnut in three villages of two townships; goat in one; plans at county and township A only."""

    def report(village: Region, scale: str, industry: Industry = catalogue.walnut, year: int = 2025) -> None:
        services.scale_report_create(
            by=staff.county_admin, village=village, year=year, industry=industry, scale=Decimal(scale)
        )

    report(tree.village_a1, "120.5")
    report(tree.village_a2, "79.5")
    report(tree.village_b1, "300")
    report(tree.village_a1, "40", industry=catalogue.goat)
    report(tree.village_a1, "999", year=2024)  # another year never counts
    for region, scale in [(tree.county, "600"), (tree.township_a, "250")]:
        services.scale_plan_create(
            by=staff.county_admin, region=region, year=2025, industry=catalogue.walnut, scale=Decimal(scale)
        )


def figure(figures: list[ScaleFigure], name: str) -> ScaleFigure:
    return next(f for f in figures if f.industry.name == name)


def test_actual_is_the_sum_of_the_villages_and_planned_is_the_regions_own_row(
    tree: Tree, catalogue: Catalogue, county_figures: None
) -> None:
    rollup = selectors.scale_rollup(region=tree.county, year=2025)
    county_walnut = figure(rollup.own, "核桃")
    assert (county_walnut.planned, county_walnut.actual, county_walnut.reports) == (Decimal("600"), Decimal("500"), 3)
    assert county_walnut.completion == Decimal("0.8333")
    goat = figure(rollup.own, "黑山羊")
    assert (goat.planned, goat.actual, goat.completion) == (None, Decimal("40"), None)
    by_child = {child.region.name: child.figures for child in rollup.children}
    assert list(by_child) == ["金碧镇", "湾碧乡"]
    township_a = figure(by_child["金碧镇"], "核桃")
    assert (township_a.planned, township_a.actual, township_a.reports) == (Decimal("250"), Decimal("200"), 2)
    township_b = figure(by_child["湾碧乡"], "核桃")
    # 湾碧乡 has no plan of its own: the county's plan is never split down, and villages' plans never summed up.
    assert (township_b.planned, township_b.actual) == (None, Decimal("300"))
    assert [f.industry.name for f in by_child["湾碧乡"]] == ["核桃"]
    assert sum(figure(c.figures, "核桃").actual or 0 for c in rollup.children) == county_walnut.actual
    village = selectors.scale_rollup(region=tree.village_a1, year=2025)
    assert village.children == [] and figure(village.own, "核桃").actual == Decimal("120.5")


def test_the_rollup_takes_the_same_queries_however_many_villages_report(
    tree: Tree, staff: Staff, catalogue: Catalogue, county_figures: None
) -> None:
    with CaptureQueriesContext(connection) as few:
        selectors.scale_rollup(region=tree.county, year=2025)
    for index in range(3, 13):
        village = Region.objects.create(
            code=f"5323262002{index:02d}", name=f"新村{index}", level=Level.VILLAGE, parent=tree.township_b
        )
        services.scale_report_create(
            by=staff.county_admin, village=village, year=2025, industry=catalogue.goat, scale=Decimal(index)
        )
    with CaptureQueriesContext(connection) as many:
        rollup = selectors.scale_rollup(region=tree.county, year=2025)
    assert len(few.captured_queries) == len(many.captured_queries) == 5
    assert figure(rollup.own, "黑山羊").actual == Decimal("40") + sum(Decimal(i) for i in range(3, 13))


def test_every_number_on_the_page_links_to_rows_that_add_up_to_it(
    tree: Tree, staff: Staff, county_figures: None
) -> None:
    client = Client()
    assert client.login(username=staff.county_viewer.username, password=PASSWORD)
    page = client.get(reverse("scale_rollup"), {"year": "2025"})
    assert page.status_code == 200
    rollup = page.context["rollup"]
    html = page.content.decode()
    checked = 0
    for region_figures in [rollup.own, *[child.figures for child in rollup.children]]:
        for f in region_figures:
            cells = {
                "planned": (f.planned, 1 if f.plan_id else 0),
                "actual": (f.actual, f.reports),
            }
            for kind, (number, rows) in cells.items():
                cell = html.split(f'data-testid="{kind}-{f.region.pk}-{f.industry.pk}"', 1)[1].split("</td>", 1)[0]
                if number is None:
                    assert "—" in cell
                    continue
                link = cell.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
                parts = urlparse(link)
                listing = client.get(parts.path, dict(parse_qsl(parts.query)))
                assert listing.context["page"].paginator.count == rows, link
                assert listing.context["total"] == number, link
                checked += 1
    assert checked == 7  # county: walnut planned + actual, goat actual; 金碧镇: the same; 湾碧乡: walnut actual


def test_a_region_outside_the_users_subtree_is_404(tree: Tree, staff: Staff, county_figures: None) -> None:
    client = Client()
    assert client.login(username=staff.township_admin.username, password=PASSWORD)
    assert client.get(reverse("scale_rollup"), {"region": tree.township_b.pk}).status_code == 404
    assert client.get(reverse("scale_rollup"), {"region": tree.county.pk}).status_code == 404
    own = client.get(reverse("scale_rollup"))
    assert own.context["rollup"].region == tree.township_a
    assert [region.name for region in own.context["breadcrumbs"]] == ["金碧镇"]
    drilled = client.get(reverse("scale_rollup"), {"region": str(tree.village_a2.pk), "year": "2025"})
    assert figure(drilled.context["rollup"].own, "核桃").actual == Decimal("79.5")


def test_above_a_county_the_page_rolls_counties_up_and_names_each_countys_industries(
    tree: Tree, staff: Staff, county_figures: None
) -> None:
    client = Client()
    assert client.login(username=staff.city_viewer.username, password=PASSWORD)
    page = client.get(reverse("scale_rollup"), {"year": "2025"})
    assert page.context["rollup"].region == tree.prefecture
    children = {child.region.name: child.figures for child in page.context["rollup"].children}
    assert list(children) == ["双柏县", "大姚县"] and children["双柏县"] == []
    assert figure(page.context["rollup"].own, "核桃").actual == Decimal("500")
    assert "大姚县 核桃" in page.content.decode()
