"""The access matrix: who may read and write which household, on every page and admin URL."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from households.models import Household, MonitoringCategory, RiskType
from regions.models import User
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household, income


@pytest.fixture
def target(tree: Tree, staff: Staff) -> Household:
    """A household of 大村村 (金碧镇) with a quarter of income and an open case."""
    from datetime import date

    from households.services import monitoring_case_register

    registered = household(staff.village_clerk, tree.village_a1, phone="13812345678")
    income(staff.village_clerk, registered, "2025Q1", wages_other="1000")
    monitoring_case_register(
        by=staff.village_clerk,
        household=registered,
        category=MonitoringCategory.UNSTABLE,
        identified_month=date(2025, 1, 1),
        risk_types=RiskType.objects.filter(code="illness"),
    )
    return registered


def page_urls(target: Household) -> list[str]:
    case = target.monitoring_cases.get()
    return [
        reverse("household_detail", args=[target.pk]),
        reverse("household_edit", args=[target.pk]),
        reverse("household_cancel", args=[target.pk]),
        reverse("income_create", args=[target.pk]),
        reverse("income_edit", args=[target.pk, "2025Q1"]),
        reverse("case_register", args=[target.pk]),
        reverse("case_eliminate", args=[target.pk, case.pk]),
    ]


def admin_urls(target: Household) -> list[str]:
    member = target.members.first()
    assert member is not None
    record = target.income_records.get()
    case = target.monitoring_cases.get()
    urls = []
    for name, pk in [
        ("households_household", target.pk),
        ("households_member", member.pk),
        ("households_incomerecord", record.pk),
        ("households_monitoringcase", case.pk),
    ]:
        urls.append(reverse(f"admin:{name}_change", args=[pk]))
        urls.append(reverse(f"admin:{name}_history", args=[pk]))
        history_id = target.__class__.history.model.objects.values_list("history_id", flat=True).first()
        urls.append(reverse(f"admin:{name}_simple_history", args=[pk, history_id]))
    return urls


def login(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.parametrize("outsider", ["other_township_admin", "other_village_clerk"])
def test_outsiders_get_404_on_every_page_and_admin_url(target: Household, staff: Staff, outsider: str) -> None:
    client = login(getattr(staff, outsider))
    for url in page_urls(target) + admin_urls(target):
        assert client.get(url).status_code in (403, 404), url
        assert client.post(url, {"reason": "x", "version": 1}).status_code in (403, 404), url
    target.refresh_from_db()
    assert target.status == "active"


@pytest.mark.parametrize("outsider", ["other_township_admin", "other_village_clerk"])
def test_outsiders_do_not_see_the_household_in_lists(target: Household, staff: Staff, outsider: str) -> None:
    client = login(getattr(staff, outsider))
    link = reverse("household_detail", args=[target.pk])
    assert link not in client.get(reverse("household_list")).content.decode()
    searched = client.get(reverse("household_list"), {"q": target.number})
    assert link not in searched.content.decode()
    assert searched.context["page"].paginator.count == 0
    admin_list = client.get(reverse("admin:households_household_changelist"))
    assert target.number not in admin_list.content.decode()


@pytest.mark.parametrize(
    "insider", ["village_clerk", "township_admin", "county_admin", "county_viewer", "city_viewer", "superuser"]
)
def test_everyone_above_the_household_can_read_it(target: Household, staff: Staff, insider: str) -> None:
    client = login(getattr(staff, insider))
    response = client.get(reverse("household_detail", args=[target.pk]))
    assert response.status_code == 200
    assert target.number in client.get(reverse("household_list")).content.decode()


@pytest.mark.parametrize("reader", ["county_viewer", "city_viewer"])
def test_read_only_roles_cannot_write_anywhere(target: Household, staff: Staff, reader: str) -> None:
    client = login(getattr(staff, reader))
    writes = page_urls(target)[1:]
    for url in writes:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"reason": "x", "version": 1, "wages_other": "5"}).status_code == 403, url
    assert client.get(reverse("household_create")).status_code == 403
    change_url = reverse("admin:households_household_change", args=[target.pk])
    assert client.post(change_url, {"number": "HACKED"}).status_code == 403
    target.refresh_from_db()
    assert target.number != "HACKED"
    assert target.status == "active"


@pytest.mark.parametrize("writer", ["village_clerk", "township_admin", "county_admin"])
def test_write_roles_can_open_every_form(target: Household, staff: Staff, writer: str) -> None:
    client = login(getattr(staff, writer))
    for url in page_urls(target):
        assert client.get(url).status_code == 200, url


def test_id_numbers_and_phones_are_masked_for_viewers(target: Household, staff: Staff) -> None:
    head = target.members.get(relation="head")
    viewer = login(staff.county_viewer).get(reverse("household_detail", args=[target.pk])).content.decode()
    assert head.id_number not in viewer
    assert f"{head.id_number[:6]}********{head.id_number[-4:]}" in viewer
    assert "13812345678" not in viewer and "138****5678" in viewer
    listing = login(staff.county_viewer).get(reverse("household_list")).content.decode()
    assert head.id_number not in listing
    clerk = login(staff.village_clerk).get(reverse("household_detail", args=[target.pk])).content.decode()
    assert head.id_number in clerk and "13812345678" in clerk


def test_anonymous_visitors_are_sent_to_login(target: Household) -> None:
    for url in [*page_urls(target), reverse("household_list"), reverse("home")]:
        response = Client().get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


@pytest.mark.parametrize("period", ["abc", "2025Q9", "2025q1x"])
def test_a_malformed_quarter_in_an_income_url_is_404_not_403(target: Household, staff: Staff, period: str) -> None:
    client = login(staff.village_clerk)
    assert client.get(reverse("income_edit", args=[target.pk, period])).status_code == 404
    for name in ("income_edit", "income_void"):
        url = reverse(name, args=[target.pk, period])
        assert client.post(url, {"version": 1, "reason": "x", "wages_other": "5"}).status_code == 404, url
    assert target.income_records.get().wages_other == 1000


@pytest.mark.parametrize("path", ["/households/abc/", "/households/999999999/", "/households/999999999/edit/"])
def test_a_household_url_that_names_no_household_is_404(target: Household, staff: Staff, path: str) -> None:
    assert login(staff.village_clerk).get(path).status_code == 404
