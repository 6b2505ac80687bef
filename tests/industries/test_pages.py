"""The register pages: forms that save through the services, messages that name the field, stale pages refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from industries import services
from industries.models import Designation, Participation, ScaleReport
from regions.models import User
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household
from tests.industries.conftest import Catalogue


def login(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_a_clerk_adds_edits_and_removes_a_participation_from_the_household_page(
    tree: Tree, staff: Staff, catalogue: Catalogue
) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    client = login(staff.village_clerk)
    page = reverse("household_detail", args=[target.pk])
    response = client.post(
        reverse("participation_create", args=[target.pk]),
        {"year": "2025", "industry": catalogue.goat.pk, "scale": "12", "note": "能繁母羊"},
    )
    assert response.status_code == 302 and response["Location"].startswith(page)
    participation = Participation.objects.get()
    assert (participation.household, participation.scale, participation.note) == (target, Decimal("12"), "能繁母羊")
    shown = client.get(page).content.decode()
    assert "黑山羊" in shown and "12 只" in shown
    client.post(
        reverse("participation_edit", args=[participation.pk]),
        {"version": "1", "year": "2025", "industry": catalogue.goat.pk, "scale": "15", "note": ""},
    )
    participation.refresh_from_db()
    assert participation.scale == Decimal("15") and participation.version == 2
    detail = client.get(reverse("participation_detail", args=[participation.pk])).content.decode()
    assert "规模：12.00 → 15.00" in detail.replace("\n", "")
    client.post(reverse("participation_delete", args=[participation.pk]), {"version": "2"})
    assert not Participation.objects.exists()
    assert "尚未登记产业到户" in client.get(page).content.decode()


def test_form_messages_name_the_field(tree: Tree, staff: Staff, catalogue: Catalogue) -> None:
    client = login(staff.village_clerk)
    response = client.post(
        reverse("scale_report_create"),
        {"village": tree.village_a1.pk, "year": "2025", "industry": catalogue.walnut.pk, "scale": "-3"},
    )
    assert response.status_code == 200
    assert response.context["form"].error_summary() == ["实际规模：规模不能为负数"]
    empty = client.post(reverse("scale_report_create"), {"village": tree.village_a1.pk, "year": "", "scale": "x"})
    assert set(empty.context["form"].error_summary()) == {
        "年度：请填写年度",
        "产业：请选择产业",
        "实际规模：实际规模应为数字",
    }
    services.scale_report_create(
        by=staff.village_clerk, village=tree.village_a1, year=2025, industry=catalogue.walnut, scale=Decimal("1")
    )
    twice = client.post(
        reverse("scale_report_create"),
        {"village": tree.village_a1.pk, "year": "2025", "industry": catalogue.walnut.pk, "scale": "3"},
    )
    assert twice.context["form"].error_summary() == ["产业：大村村2025年“核桃”的实际规模已填报，请修改原记录"]
    assert ScaleReport.objects.count() == 1


def test_a_concurrent_edit_is_refused(tree: Tree, staff: Staff, catalogue: Catalogue) -> None:
    designation = services.designation_create(
        by=staff.township_admin, region=tree.village_a1, year=2025, industry=catalogue.walnut
    )
    url = reverse("designation_edit", args=[designation.pk])
    mine, theirs = login(staff.township_admin), login(staff.county_admin)
    opened = mine.get(url).context["form"]["version"].value()
    assert opened == 1
    data = {"version": opened, "year": "2025", "industry": catalogue.walnut.pk}
    assert theirs.post(url, {**data, "is_signature": "on"}).status_code == 302
    refused = mine.post(url, {**data, "industry": catalogue.goat.pk})
    assert refused.status_code == 200
    assert refused.context["form"].error_summary() == [
        "该记录已被他人修改，您的修改未保存。请刷新页面查看最新内容后重新填写。"
    ]
    designation.refresh_from_db()
    assert (designation.industry, designation.is_signature, designation.version) == (catalogue.walnut, True, 2)
    stale_delete = mine.post(reverse("designation_delete", args=[designation.pk]), {"version": opened})
    assert stale_delete.status_code == 302 and Designation.objects.filter(pk=designation.pk).exists()


def test_a_stale_version_is_refused_by_every_update_service(tree: Tree, staff: Staff, catalogue: Catalogue) -> None:
    plan = services.scale_plan_create(
        by=staff.township_admin, region=tree.township_a, year=2025, industry=catalogue.walnut, scale=Decimal("10")
    )
    services.scale_plan_update(
        by=staff.township_admin,
        plan=plan,
        expected_version=1,
        year=2025,
        industry=catalogue.walnut,
        scale=Decimal("20"),
        source_document="",
    )
    with pytest.raises(ValidationError, match="已被他人修改"):
        services.scale_plan_update(
            by=staff.township_admin,
            plan=plan,
            expected_version=1,
            year=2025,
            industry=catalogue.walnut,
            scale=Decimal("30"),
            source_document="",
        )
    walnut = catalogue.walnut
    with pytest.raises(ValidationError, match="已被他人修改"):
        services.industry_update(
            by=staff.county_admin,
            industry=walnut,
            expected_version=walnut.version + 1,
            name="核桃",
            category=walnut.category,
            unit=walnut.unit,
            note="",
            is_active=True,
        )
    plan.refresh_from_db()
    assert plan.scale == Decimal("20")


def test_detail_pages_show_who_changed_what(tree: Tree, staff: Staff, catalogue: Catalogue) -> None:
    walnut = catalogue.walnut
    services.industry_update(
        by=staff.county_admin,
        industry=walnut,
        expected_version=walnut.version,
        name="薄壳核桃",
        category=walnut.category,
        unit=walnut.unit,
        note="",
        is_active=True,
    )
    page = login(staff.village_clerk).get(reverse("industry_detail", args=[walnut.pk]))
    history = page.context["history"]
    assert [change.action for change in history] == ["修改", "新增"]
    assert history[0].user == "xianadmin" and ("产业名称", "核桃", "薄壳核桃") in history[0].fields
