"""The register's rules, as the services enforce them with messages in the domain's words."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from industries import services
from industries.models import Designation, Participation, ScaleReport
from regions.models import DataVersion
from tests.conftest import Staff
from tests.factories import Tree, household
from tests.industries.conftest import Catalogue, category, unit


def messages_of(error: pytest.ExceptionInfo[ValidationError], field: str) -> list[str]:
    return error.value.message_dict[field]


def test_an_industry_from_another_county_is_refused_everywhere(tree: Tree, staff: Staff, catalogue: Catalogue) -> None:
    other = catalogue.elsewhere
    with pytest.raises(ValidationError) as report:
        services.scale_report_create(
            by=staff.village_clerk, village=tree.village_a1, year=2025, industry=other, scale=Decimal("1")
        )
    assert messages_of(report, "industry") == ["“核桃”不在本县产业目录中"]
    with pytest.raises(ValidationError):
        services.designation_create(by=staff.township_admin, region=tree.township_a, year=2025, industry=other)
    with pytest.raises(ValidationError):
        services.scale_plan_create(
            by=staff.county_admin, region=tree.county, year=2025, industry=other, scale=Decimal("1")
        )
    target = household(staff.village_clerk, tree.village_a1)
    with pytest.raises(ValidationError):
        services.participation_create(
            by=staff.village_clerk, household=target, year=2025, industry=other, scale=Decimal("1")
        )
    assert not ScaleReport.objects.exists() and not Participation.objects.exists()


def test_a_region_has_one_signature_industry_a_year(tree: Tree, staff: Staff, catalogue: Catalogue) -> None:
    admin = staff.township_admin
    services.designation_create(
        by=admin, region=tree.village_a1, year=2025, industry=catalogue.walnut, is_signature=True
    )
    with pytest.raises(ValidationError) as error:
        services.designation_create(
            by=admin, region=tree.village_a1, year=2025, industry=catalogue.goat, is_signature=True
        )
    assert messages_of(error, "is_signature") == ["大村村2025年已有一村一品“核桃”，每个区划每年只能有一个"]
    # A second lead industry that is not the signature one is fine, and so is another year's signature.
    goat = services.designation_create(by=admin, region=tree.village_a1, year=2025, industry=catalogue.goat)
    services.designation_create(by=admin, region=tree.village_a1, year=2026, industry=catalogue.goat, is_signature=True)
    with pytest.raises(ValidationError) as moved:
        services.designation_update(
            by=admin,
            designation=goat,
            expected_version=goat.version,
            year=2025,
            industry=catalogue.goat,
            is_signature=True,
        )
    assert "一村一品" in messages_of(moved, "is_signature")[0]
    assert Designation.objects.filter(region=tree.village_a1, year=2025, is_signature=True).count() == 1


def test_the_same_industry_is_designated_once_a_region_and_year(tree: Tree, staff: Staff, catalogue: Catalogue) -> None:
    services.designation_create(by=staff.township_admin, region=tree.township_a, year=2025, industry=catalogue.walnut)
    with pytest.raises(ValidationError) as error:
        services.designation_create(
            by=staff.township_admin, region=tree.township_a, year=2025, industry=catalogue.walnut
        )
    assert messages_of(error, "industry") == ["“核桃”已是金碧镇2025年的主导产业"]


def test_a_negative_scale_is_refused(tree: Tree, staff: Staff, catalogue: Catalogue) -> None:
    minus = Decimal("-1")
    with pytest.raises(ValidationError) as plan:
        services.scale_plan_create(
            by=staff.township_admin, region=tree.township_a, year=2025, industry=catalogue.walnut, scale=minus
        )
    assert messages_of(plan, "scale") == ["规模不能为负数"]
    with pytest.raises(ValidationError) as report:
        services.scale_report_create(
            by=staff.village_clerk, village=tree.village_a1, year=2025, industry=catalogue.walnut, scale=minus
        )
    assert messages_of(report, "scale") == ["规模不能为负数"]
    target = household(staff.village_clerk, tree.village_a1)
    with pytest.raises(ValidationError) as participation:
        services.participation_create(
            by=staff.village_clerk, household=target, year=2025, industry=catalogue.goat, scale=minus
        )
    assert messages_of(participation, "scale") == ["规模不能为负数"]


def test_actual_scale_is_reported_by_villages_only(tree: Tree, staff: Staff, catalogue: Catalogue) -> None:
    for region in (tree.township_a, tree.county):
        with pytest.raises(ValidationError) as error:
            services.scale_report_create(
                by=staff.county_admin, village=region, year=2025, industry=catalogue.walnut, scale=Decimal("5")
            )
        assert messages_of(error, "village") == ["实际规模由村填报"]
    assert not ScaleReport.objects.exists()


def test_a_village_reports_an_industry_once_a_year_and_not_for_a_year_to_come(
    tree: Tree, staff: Staff, catalogue: Catalogue
) -> None:
    clerk = staff.village_clerk
    services.scale_report_create(
        by=clerk, village=tree.village_a1, year=2025, industry=catalogue.walnut, scale=Decimal(1)
    )
    with pytest.raises(ValidationError) as twice:
        services.scale_report_create(
            by=clerk, village=tree.village_a1, year=2025, industry=catalogue.walnut, scale=Decimal("2")
        )
    assert messages_of(twice, "industry") == ["大村村2025年“核桃”的实际规模已填报，请修改原记录"]
    with pytest.raises(ValidationError) as future:
        services.scale_report_create(
            by=clerk, village=tree.village_a1, year=2100, industry=catalogue.walnut, scale=Decimal("2")
        )
    assert messages_of(future, "year") == ["2100年尚未到来，不能填报实际规模"]


def test_a_retired_industry_is_not_chosen_again(tree: Tree, staff: Staff, catalogue: Catalogue) -> None:
    goat = catalogue.goat
    services.industry_update(
        by=staff.county_admin,
        industry=goat,
        expected_version=goat.version,
        name=goat.name,
        category=goat.category,
        unit=goat.unit,
        note="",
        is_active=False,
    )
    with pytest.raises(ValidationError) as error:
        services.scale_report_create(
            by=staff.village_clerk, village=tree.village_a1, year=2025, industry=goat, scale=Decimal("3")
        )
    assert messages_of(error, "industry") == ["“黑山羊”已停用，请选择在用的产业"]


def test_the_catalogue_is_kept_by_county_administrators_only(tree: Tree, staff: Staff, catalogue: Catalogue) -> None:
    with pytest.raises(PermissionDenied):
        services.industry_create(
            by=staff.township_admin, county=tree.county, name="花椒", category=category("planting"), unit=unit("mu")
        )
    with pytest.raises(ValidationError) as duplicate:
        services.industry_create(
            by=staff.county_admin, county=tree.county, name="核桃", category=category("planting"), unit=unit("mu")
        )
    assert messages_of(duplicate, "name") == ["大姚县产业目录中已有“核桃”"]
    with pytest.raises(PermissionDenied):
        services.industry_create(
            by=staff.county_admin,
            county=catalogue.other_county,
            name="花椒",
            category=category("planting"),
            unit=unit("mu"),
        )


def test_writes_stay_inside_the_users_subtree(tree: Tree, staff: Staff, catalogue: Catalogue) -> None:
    with pytest.raises(PermissionDenied):
        services.designation_create(by=staff.township_admin, region=tree.county, year=2025, industry=catalogue.walnut)
    with pytest.raises(PermissionDenied):
        services.scale_report_create(
            by=staff.village_clerk, village=tree.village_a2, year=2025, industry=catalogue.walnut, scale=Decimal("1")
        )
    with pytest.raises(PermissionDenied):  # a clerk reports scale but does not plan it
        services.scale_plan_create(
            by=staff.village_clerk, region=tree.village_a1, year=2025, industry=catalogue.walnut, scale=Decimal("1")
        )
    other = household(staff.other_village_clerk, tree.village_a2)
    with pytest.raises(PermissionDenied):
        services.participation_create(
            by=staff.village_clerk, household=other, year=2025, industry=catalogue.walnut, scale=Decimal("1")
        )


def test_every_write_keeps_its_author_in_history_and_marks_the_county_changed(
    tree: Tree, staff: Staff, catalogue: Catalogue
) -> None:
    before = DataVersion.objects.get(county=tree.county).version
    target = household(staff.village_clerk, tree.village_a1)
    after_household = DataVersion.objects.get(county=tree.county).version
    participation = services.participation_create(
        by=staff.village_clerk, household=target, year=2025, industry=catalogue.walnut, scale=Decimal("3")
    )
    services.participation_update(
        by=staff.township_admin,
        participation=participation,
        expected_version=participation.version,
        year=2025,
        industry=catalogue.walnut,
        scale=Decimal("4.5"),
        note="新栽",
    )
    pk = participation.pk
    services.participation_delete(by=staff.township_admin, participation=participation, expected_version=2)
    rows = Participation.history.filter(id=pk).order_by("history_id")
    history = list(rows.values_list("history_type", "history_user__username"))
    assert history == [("+", "cun"), ("~", "xiang"), ("-", "xiang")]
    assert DataVersion.objects.get(county=tree.county).version == after_household + 3 > before
