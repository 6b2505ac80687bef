"""The access matrix of the funds pages and admin: scope (404 outside), lists, masking, who may write."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from funds import services
from funds.models import (
    Allocation,
    Asset,
    Beneficiary,
    CollectiveIncome,
    Funding,
    Payment,
    Project,
    ProjectStatus,
    ProjectStep,
    ReviewStatus,
    VillageProfile,
)
from regions.models import Level, Region, User
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household, member
from tests.funds.conftest import Rows, staff_clerk_b
from tests.funds.factories import allocation, library_project


def login(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def row_urls(rows: Rows) -> list[str]:
    """Every page that names one of township B's rows (GET pages and POST-only actions)."""
    project, funding, payment, asset, income = rows.project, rows.funding, rows.payment, rows.asset, rows.income
    village = income.village_id
    return [
        *(reverse(f"allocation_{page}", args=[rows.split_b.pk]) for page in ("detail", "edit", "delete")),
        *(reverse(f"project_{page}", args=[project.pk]) for page in ("detail", "edit", "send_back", "advance")),
        reverse("beneficiaries_add", args=[project.pk]),
        reverse("beneficiary_remove", args=[project.pk, rows.household.pk]),
        reverse("funding_create", args=[project.pk]),
        reverse("asset_create", args=[project.pk]),
        *(reverse(f"funding_{page}", args=[funding.pk]) for page in ("detail", "edit", "delete")),
        reverse("payment_create", args=[funding.pk]),
        *(reverse(f"payment_{page}", args=[payment.pk]) for page in ("detail", "edit", "delete")),
        *(reverse(f"asset_{page}", args=[asset.pk]) for page in ("detail", "edit", "delete")),
        reverse("collective_income_entry", args=[village, 2025, 1]),
        *(reverse(f"collective_income_{action}", args=[income.pk]) for action in ("submit", "approve", "return")),
        reverse("village_profile_edit", args=[village, 2025]),
        reverse("village_profile_edit", args=[village, 2024]),
        reverse("fund_overview") + f"?region={rows.split_b.region_id}",
        reverse("collective_township") + f"?township={rows.split_b.region_id}",
    ]


def county_urls(rows: Rows) -> list[str]:
    """The county's own allocation: township and village users never reach it."""
    return [
        *(reverse(f"allocation_{page}", args=[rows.central.pk]) for page in ("detail", "edit", "delete", "split")),
        reverse("fund_overview") + f"?region={rows.central.region_id}",
    ]


ADMIN_MODELS = ["allocation", "project", "funding", "payment", "asset", "villageprofile", "collectiveincome"]


def admin_urls(rows: Rows) -> list[str]:
    urls = []
    for name, row in zip(
        ADMIN_MODELS,
        [rows.split_b, rows.project, rows.funding, rows.payment, rows.asset, rows.profile, rows.income],
        strict=True,
    ):
        history_id = type(row).history.filter(id=row.pk).values_list("history_id", flat=True).first()  # type: ignore[attr-defined]
        urls.append(reverse(f"admin:funds_{name}_change", args=[row.pk]))
        urls.append(reverse(f"admin:funds_{name}_history", args=[row.pk]))
        urls.append(reverse(f"admin:funds_{name}_simple_history", args=[row.pk, history_id]))
    beneficiary = Beneficiary.objects.get(project=rows.project, household=rows.household)
    step = ProjectStep.objects.filter(project=rows.project).first()
    assert step is not None
    urls.append(reverse("admin:funds_beneficiary_change", args=[beneficiary.pk]))
    urls.append(reverse("admin:funds_projectstep_change", args=[step.pk]))
    return urls


def post_data(rows: Rows) -> dict[str, Any]:
    return {
        "version": "1",
        "amount": "1",
        "unit": "yuan",
        "on": "2025-05-01",
        "reason": "试图退回",
        "review_note": "试图退回",
        "paid_on": "2025-05-01",
        "households": rows.household.number,
        "business_income": "1",
        "was_poverty_village": "on",
    }


def unchanged(rows: Rows) -> None:
    assert Allocation.objects.get(pk=rows.split_b.pk).amount == Decimal("200000.00")
    assert Project.objects.get(pk=rows.project.pk).status == ProjectStatus.LIBRARY
    assert list(Funding.objects.values_list("amount", flat=True)) == [Decimal("100000.00")]
    assert list(Payment.objects.values_list("amount", flat=True)) == [Decimal("40000.00")]
    assert Asset.objects.count() == 1 and VillageProfile.objects.get().was_poverty_village
    income = CollectiveIncome.objects.get()
    assert (income.review_status, income.business_income) == (ReviewStatus.DRAFT, Decimal("12000.00"))


@pytest.mark.parametrize("outsider", ["township_admin", "village_clerk", "other_village_clerk"])
def test_another_townships_rows_are_404_on_every_page_and_admin_url(
    township_b_rows: Rows, staff: Staff, outsider: str
) -> None:
    client = login(getattr(staff, outsider))
    for url in row_urls(township_b_rows) + county_urls(township_b_rows) + admin_urls(township_b_rows):
        response = client.get(url)
        if response.status_code == 405:  # a POST-only action
            assert reverse("admin:index") not in url
        else:
            assert response.status_code == 404, url
        assert client.post(url, post_data(township_b_rows)).status_code in (403, 404, 405), url
    unchanged(township_b_rows)


def test_a_village_clerk_of_the_same_township_still_sees_only_their_village(
    tree: Tree, staff: Staff, township_b_rows: Rows
) -> None:
    other_village = Region.objects.create(
        code="532326200202", name="湾碧二村", level=Level.VILLAGE, parent=tree.township_b
    )
    from regions.models import Role
    from tests.factories import make_user

    neighbour = login(make_user("cunb2", Role.VILLAGE_CLERK, other_village))
    assert neighbour.get(reverse("collective_income_entry", args=[tree.village_b1.pk, 2025, 1])).status_code == 404
    page = neighbour.get(reverse("collective_township"))
    assert [row.village for row in page.context["figures"].villages] == [other_village]


def test_another_countys_rows_are_404_for_a_county_administrator(tree: Tree, staff: Staff) -> None:
    root = staff.superuser
    other = Region.objects.create(code="532322000000", name="双柏县", level=Level.COUNTY, parent=tree.prefecture)
    township = Region.objects.create(code="532322100000", name="妥甸镇", level=Level.TOWNSHIP, parent=other)
    village = Region.objects.create(code="532322100201", name="妥甸村", level=Level.VILLAGE, parent=township)
    source = allocation(root, other, "500000")
    project = library_project(root, village, [household(root, village)])
    funding = services.funding_create(by=root, project=project, allocation=source, amount=Decimal("1000"))
    client = login(staff.county_admin)
    for url in [
        reverse("allocation_detail", args=[source.pk]),
        reverse("project_detail", args=[project.pk]),
        reverse("funding_detail", args=[funding.pk]),
        reverse("funding_create", args=[project.pk]),
        reverse("collective_income_entry", args=[village.pk, 2025, 1]),
        reverse("fund_overview") + f"?region={other.pk}",
        reverse("admin:funds_allocation_change", args=[source.pk]),
        reverse("admin:funds_project_change", args=[project.pk]),
    ]:
        assert client.get(url).status_code == 404, url
    # Naming the other county's allocation on one's own project is refused too.
    own = library_project(staff.county_admin, tree.village_a1, [household(staff.county_admin, tree.village_a1)])
    response = client.post(
        reverse("funding_create", args=[own.pk]), {"allocation": source.pk, "amount": "1", "unit": "yuan"}
    )
    assert response.status_code == 200 and "所选资金来源不可用" in response.content.decode()
    assert Funding.objects.filter(project=own).count() == 0


@pytest.mark.parametrize(
    ("list_name", "admin_name"),
    [
        ("allocation_list", "allocation"),
        ("project_list", "project"),
        ("payment_list", "payment"),
        ("asset_list", "asset"),
        ("collective_income_list", "collectiveincome"),
        ("village_profile_list", "villageprofile"),
        ("project_list", "beneficiary"),
    ],
)
def test_lists_show_only_rows_in_scope(
    tree: Tree, staff: Staff, township_b_rows: Rows, list_name: str, admin_name: str
) -> None:
    outsider = login(staff.township_admin)
    assert outsider.get(reverse(list_name)).context["page"].paginator.count == 0
    response = outsider.get(reverse(list_name), {"within": tree.township_b.pk})
    assert response.context["page"].paginator.count == 0
    assert 'data-testid="filter-errors"' in response.content.decode()
    admin_list = outsider.get(reverse(f"admin:funds_{admin_name}_changelist"))
    assert admin_list.status_code == 200 and admin_list.context["cl"].result_count == 0
    insider = login(staff.other_township_admin)
    assert insider.get(reverse(list_name)).context["page"].paginator.count == 1
    assert insider.get(reverse(f"admin:funds_{admin_name}_changelist")).context["cl"].result_count == 1
    expected = 2 if list_name == "allocation_list" else 1  # the county sees its allocation and the split
    assert login(staff.county_viewer).get(reverse(list_name)).context["page"].paginator.count == expected


@pytest.mark.parametrize("viewer", ["county_viewer", "city_viewer"])
def test_viewers_read_everything_and_cannot_write_anything(
    tree: Tree, staff: Staff, township_b_rows: Rows, viewer: str
) -> None:
    client = login(getattr(staff, viewer))
    readable = [url for url in row_urls(township_b_rows) if "/edit/" not in url]
    for url in row_urls(township_b_rows) + county_urls(township_b_rows):
        response = client.get(url)
        if any(part in url for part in ("/edit/", "/delete/", "/new/", "/send-back/", "/add/", "/split/")) or (
            "/villages/" in url
        ):
            assert response.status_code == 403, url
        elif response.status_code != 405:
            assert response.status_code == 200, url
        assert client.post(url, post_data(township_b_rows)).status_code in (403, 405), url
    for url in [reverse("allocation_create"), reverse("project_create")]:
        assert client.get(url).status_code == 403
        assert client.post(url, {}).status_code == 403
    entry = client.get(reverse("collective_income_entry", args=[tree.village_b1.pk, 2025, 1])).content.decode()
    assert 'data-testid="row-form"' not in entry and 'data-testid="submit-income"' not in entry
    assert readable
    change = reverse("admin:funds_asset_change", args=[township_b_rows.asset.pk])
    assert client.post(change, {"name": "改名"}).status_code == 403
    unchanged(township_b_rows)


def test_each_role_writes_only_what_its_job_is(tree: Tree, staff: Staff, township_b_rows: Rows) -> None:
    clerk = login(staff.village_clerk)
    for url in [reverse("project_create"), reverse("allocation_create")]:
        assert clerk.get(url).status_code == 403
    assert clerk.get(reverse("collective_income_entry", args=[tree.village_a1.pk, 2025, 1])).status_code == 200
    township = login(staff.other_township_admin)
    assert township.get(reverse("project_create")).status_code == 200
    assert township.get(reverse("allocation_create")).status_code == 403
    assert township.get(reverse("allocation_edit", args=[township_b_rows.split_b.pk])).status_code == 403
    entry = township.get(reverse("collective_income_entry", args=[tree.village_b1.pk, 2025, 1])).content.decode()
    assert 'data-testid="row-form"' not in entry  # the township reviews; the village enters
    county = login(staff.county_admin)
    assert county.get(reverse("allocation_create")).status_code == 200
    assert county.get(reverse("allocation_split", args=[township_b_rows.central.pk])).status_code == 200
    # Only the county's allocation is split; a split is not split again.
    refused = county.get(reverse("allocation_split", args=[township_b_rows.split_b.pk]), follow=True)
    assert "已分配到乡镇的资金不能再分配" in refused.content.decode()
    assert Allocation.objects.count() == 2
    income = township_b_rows.income
    services.collective_income_submit(by=staff_clerk_b(tree), income=income, expected_version=income.version)
    assert county.post(reverse("collective_income_approve", args=[income.pk]), {"version": 2}).status_code == 403


def test_anonymous_visitors_are_sent_to_login(township_b_rows: Rows) -> None:
    for url in [*row_urls(township_b_rows), reverse("project_list"), reverse("collective_income_list")]:
        response = Client().get(url)
        assert response.status_code in (302, 405), url
        if response.status_code == 302:
            assert "/login/" in response["Location"], url


def test_a_household_number_made_of_an_id_number_is_masked_wherever_a_project_shows_it(
    tree: Tree, staff: Staff
) -> None:
    from households.id_numbers import mask_id_number

    head = member(birth="19750505")
    local = household(staff.village_clerk, tree.village_a1, number=f"L{head.id_number}", members=[head])
    project = library_project(staff.county_admin, tree.village_a1, [local])
    asset = services.asset_create(
        by=staff.county_admin,
        project=project,
        kind="household",
        name="能繁母牛",
        value=Decimal("8000"),
        owner_household=local,
    )
    history_id = Asset.history.filter(id=asset.pk).values_list("history_id", flat=True).get()
    urls = [
        reverse("project_detail", args=[project.pk]),
        reverse("asset_list"),
        reverse("asset_detail", args=[asset.pk]),
        reverse("admin:funds_project_change", args=[project.pk]),
        reverse("admin:funds_project_history", args=[project.pk]),
        reverse("admin:funds_asset_changelist"),
        reverse("admin:funds_asset_change", args=[asset.pk]),
        reverse("admin:funds_asset_history", args=[asset.pk]),
        reverse("admin:funds_asset_simple_history", args=[asset.pk, history_id]),
        reverse("admin:funds_beneficiary_changelist"),
        reverse("admin:funds_beneficiary_change", args=[Beneficiary.objects.get(project=project).pk]),
    ]
    viewer = login(staff.county_viewer)
    for url in urls:
        page = viewer.get(url)
        assert page.status_code == 200, url
        assert head.id_number not in page.content.decode(), url
    assert f"L{mask_id_number(head.id_number)}" in viewer.get(urls[0]).content.decode()
    assert local.number in login(staff.county_admin).get(urls[0]).content.decode()


def test_households_outside_the_users_area_are_counted_never_listed(
    tree: Tree, staff: Staff, township_b_rows: Rows
) -> None:
    project = Project.objects.get(pk=township_b_rows.project.pk)
    other = household(staff.county_admin, tree.village_a1, number="A-OUT-1")
    services.project_beneficiaries_add(
        by=staff.county_admin, project=project, expected_version=project.version, households=[other]
    )
    page = login(staff.other_township_admin).get(reverse("project_detail", args=[project.pk]))
    html = page.content.decode()
    assert "A-OUT-1" not in html and "另有 1 户不在您的管辖范围内" in html
    assert [h.number for h in page.context["households"]] == ["WB0001"]
