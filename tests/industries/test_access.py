"""The access matrix of the industries pages and admin: scope (404 outside), lists, and who may write."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from industries.models import Designation, Participation, ScalePlan, ScaleReport
from regions.models import User
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household
from tests.industries.conftest import Catalogue, Rows


def login(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def row_urls(rows: Rows) -> list[str]:
    urls = []
    for prefix, row in [
        ("designation", rows.designation),
        ("scale_plan", rows.plan),
        ("scale_report", rows.report),
        ("participation", rows.participation),
    ]:
        urls += [reverse(f"{prefix}_{page}", args=[row.pk]) for page in ("detail", "edit", "delete")]
    urls.append(reverse("participation_create", args=[rows.household.pk]))
    urls.append(reverse("scale_rollup") + f"?region={rows.report.village.pk}")
    urls.append(reverse("scale_rollup") + f"?region={rows.plan.region.pk}")
    return urls


def admin_urls(rows: Rows) -> list[str]:
    urls = []
    for name, row in [
        ("designation", rows.designation),
        ("scaleplan", rows.plan),
        ("scalereport", rows.report),
        ("participation", rows.participation),
    ]:
        history_id = type(row).history.filter(id=row.pk).values_list("history_id", flat=True).first()  # type: ignore[attr-defined]
        urls.append(reverse(f"admin:industries_{name}_change", args=[row.pk]))
        urls.append(reverse(f"admin:industries_{name}_history", args=[row.pk]))
        urls.append(reverse(f"admin:industries_{name}_simple_history", args=[row.pk, history_id]))
    return urls


def edit_data(catalogue: Catalogue) -> dict[str, str]:
    return {"version": "1", "year": "2025", "industry": str(catalogue.goat.pk), "scale": "999", "is_signature": "on"}


@pytest.mark.parametrize("outsider", ["township_admin", "village_clerk", "other_village_clerk"])
def test_another_townships_rows_are_404_on_every_page_and_admin_url(
    township_b_rows: Rows, staff: Staff, catalogue: Catalogue, outsider: str
) -> None:
    client = login(getattr(staff, outsider))
    for url in row_urls(township_b_rows) + admin_urls(township_b_rows):
        assert client.get(url).status_code == 404, url
        assert client.post(url, edit_data(catalogue)).status_code in (403, 404), url
    assert ScaleReport.objects.get().scale == Decimal("640.5")
    assert Participation.objects.get().scale == Decimal("3")
    assert Designation.objects.get().industry == catalogue.walnut
    assert ScalePlan.objects.count() == 1


def test_another_countys_catalogue_is_404(staff: Staff, catalogue: Catalogue) -> None:
    for user in (staff.county_admin, staff.township_admin, staff.village_clerk):
        client = login(user)
        for url in (
            reverse("industry_detail", args=[catalogue.elsewhere.pk]),
            reverse("industry_edit", args=[catalogue.elsewhere.pk]),
            reverse("admin:industries_industry_change", args=[catalogue.elsewhere.pk]),
        ):
            assert client.get(url).status_code in (403, 404), url
    listing = login(staff.village_clerk).get(reverse("industry_list"))
    assert sorted(row.name for row in listing.context["page"]) == ["核桃", "黑山羊"]
    assert all(row.county_id == catalogue.walnut.county_id for row in listing.context["page"])


@pytest.mark.parametrize(
    ("list_name", "admin_name"),
    [
        ("designation_list", "designation"),
        ("scale_plan_list", "scaleplan"),
        ("scale_report_list", "scalereport"),
        ("participation_list", "participation"),
    ],
)
def test_lists_show_only_rows_in_scope(
    tree: Tree, staff: Staff, catalogue: Catalogue, township_b_rows: Rows, list_name: str, admin_name: str
) -> None:
    outsider = login(staff.township_admin)
    assert outsider.get(reverse(list_name)).context["page"].paginator.count == 0
    # Naming the other township's region in the filter shows nothing either (and says the choice is invalid).
    response = outsider.get(reverse(list_name), {"within": tree.township_b.pk})
    assert response.context["page"].paginator.count == 0
    assert 'data-testid="filter-errors"' in response.content.decode()
    admin_list = outsider.get(reverse(f"admin:industries_{admin_name}_changelist"))
    assert admin_list.status_code == 200 and admin_list.context["cl"].result_count == 0
    insider = login(staff.other_township_admin)
    assert insider.get(reverse(list_name)).context["page"].paginator.count == 1
    assert insider.get(reverse(f"admin:industries_{admin_name}_changelist")).context["cl"].result_count == 1
    assert login(staff.county_viewer).get(reverse(list_name)).context["page"].paginator.count == 1


@pytest.mark.parametrize("viewer", ["county_viewer", "city_viewer"])
def test_viewers_read_everything_and_cannot_post_anything(
    tree: Tree, staff: Staff, catalogue: Catalogue, township_b_rows: Rows, viewer: str
) -> None:
    client = login(getattr(staff, viewer))
    for url in row_urls(township_b_rows):
        expected = 200 if url.split("?")[0].endswith(("/", "scale/")) and "/edit/" not in url else 403
        if "/delete/" in url or "/new/" in url:
            expected = 403
        assert client.get(url).status_code == expected, url
    creates = {
        reverse("industry_create"): {"county": tree.county.pk, "name": "花椒", "category": 1, "unit": 1},
        reverse("designation_create"): {"region": tree.village_a1.pk, **edit_data(catalogue)},
        reverse("scale_plan_create"): {"region": tree.village_a1.pk, **edit_data(catalogue)},
        reverse("scale_report_create"): {"village": tree.village_a1.pk, **edit_data(catalogue)},
        reverse("participation_create", args=[township_b_rows.household.pk]): edit_data(catalogue),
        reverse("industry_edit", args=[catalogue.walnut.pk]): {"version": 1, "name": "改名"},
    }
    for url, data in creates.items():
        assert client.post(url, data).status_code == 403, url
    for url in row_urls(township_b_rows):
        if "/edit/" in url or "/delete/" in url:
            assert client.post(url, edit_data(catalogue)).status_code == 403, url
    change = reverse("admin:industries_scalereport_change", args=[township_b_rows.report.pk])
    assert client.post(change, {"scale": "1"}).status_code == 403
    assert ScaleReport.objects.get().scale == Decimal("640.5")
    assert Participation.objects.count() == 1 and Designation.objects.count() == 1
    assert catalogue.walnut.__class__.objects.filter(name__in=["花椒", "改名"]).count() == 0


def test_a_clerk_reports_scale_but_does_not_designate_or_plan(staff: Staff) -> None:
    client = login(staff.village_clerk)
    assert client.get(reverse("scale_report_create")).status_code == 200
    assert client.get(reverse("designation_create")).status_code == 403
    assert client.get(reverse("scale_plan_create")).status_code == 403
    assert client.get(reverse("industry_create")).status_code == 403
    township = login(staff.township_admin)
    assert township.get(reverse("designation_create")).status_code == 200
    assert township.get(reverse("industry_create")).status_code == 403
    assert login(staff.county_admin).get(reverse("industry_create")).status_code == 200


def test_the_household_section_offers_writes_only_to_those_who_may_change_the_household(
    tree: Tree, staff: Staff, catalogue: Catalogue, township_b_rows: Rows
) -> None:
    url = reverse("household_detail", args=[township_b_rows.household.pk])
    add = reverse("participation_create", args=[township_b_rows.household.pk])
    edit = reverse("participation_edit", args=[township_b_rows.participation.pk])
    viewer = login(staff.county_viewer).get(url).content.decode()
    assert 'data-testid="section-industries"' in viewer and "640.5" not in viewer
    assert "核桃" in viewer and add not in viewer and edit not in viewer
    admin = login(staff.other_township_admin).get(url).content.decode()
    assert add in admin and edit in admin
    empty = household(staff.village_clerk, tree.village_a1)
    assert (
        'data-testid="section-industries"'
        not in login(staff.county_viewer).get(reverse("household_detail", args=[empty.pk])).content.decode()
    )
    clerk = login(staff.village_clerk).get(reverse("household_detail", args=[empty.pk])).content.decode()
    assert "尚未登记产业到户" in clerk and reverse("participation_create", args=[empty.pk]) in clerk


def test_anonymous_visitors_are_sent_to_login(township_b_rows: Rows) -> None:
    for url in [*row_urls(township_b_rows), reverse("industry_list"), reverse("scale_rollup")]:
        response = Client().get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_a_household_number_made_of_an_id_number_is_masked_wherever_a_participation_shows(
    tree: Tree, staff: Staff, catalogue: Catalogue
) -> None:
    from households.id_numbers import mask_id_number
    from industries import services
    from tests.factories import member

    head = member(birth="19750505")
    local = household(staff.village_clerk, tree.village_a1, number=f"L{head.id_number}", members=[head])
    participation = services.participation_create(
        by=staff.village_clerk, household=local, year=2025, industry=catalogue.walnut, scale=Decimal("2")
    )
    history_id = Participation.history.filter(id=participation.pk).values_list("history_id", flat=True).get()
    urls = [
        reverse("participation_list"),
        reverse("participation_detail", args=[participation.pk]),
        reverse("household_detail", args=[local.pk]),
        reverse("admin:industries_participation_changelist"),
        reverse("admin:industries_participation_change", args=[participation.pk]),
        reverse("admin:industries_participation_history", args=[participation.pk]),
        reverse("admin:industries_participation_simple_history", args=[participation.pk, history_id]),
    ]
    viewer = login(staff.county_viewer)
    for url in urls:
        page = viewer.get(url)
        assert page.status_code == 200, url
        assert head.id_number not in page.content.decode(), url
    assert f"L{mask_id_number(head.id_number)}" in viewer.get(urls[0]).content.decode()
    assert local.number in login(staff.village_clerk).get(urls[0]).content.decode()
