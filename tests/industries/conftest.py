"""A county catalogue and one row of every register in each township, written through the services."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from households.models import Household
from industries import services
from industries.models import Designation, Industry, IndustryCategory, Participation, ScalePlan, ScaleReport, ScaleUnit
from regions.models import Level, Region
from tests.conftest import Staff
from tests.factories import Tree, household


@dataclass
class Catalogue:
    walnut: Industry  # 核桃, 亩
    goat: Industry  # 黑山羊, 只
    elsewhere: Industry  # 双柏县's 核桃: another county's catalogue
    other_county: Region
    other_village: Region


@dataclass
class Rows:
    """What township B (湾碧乡) keeps: township A's users must never reach any of it."""

    designation: Designation
    plan: ScalePlan
    report: ScaleReport
    household: Household
    participation: Participation


def category(code: str) -> IndustryCategory:
    return IndustryCategory.objects.get(code=code)


def unit(code: str) -> ScaleUnit:
    return ScaleUnit.objects.get(code=code)


@pytest.fixture
def catalogue(tree: Tree, staff: Staff) -> Catalogue:
    walnut = services.industry_create(
        by=staff.county_admin, county=tree.county, name="核桃", category=category("forestry_fruit"), unit=unit("mu")
    )
    goat = services.industry_create(
        by=staff.county_admin, county=tree.county, name="黑山羊", category=category("breeding"), unit=unit("animal")
    )
    other_county = Region.objects.create(code="532322000000", name="双柏县", level=Level.COUNTY, parent=tree.prefecture)
    other_township = Region.objects.create(
        code="532322100000", name="妥甸镇", level=Level.TOWNSHIP, parent=other_county
    )
    other_village = Region.objects.create(
        code="532322100201", name="妥甸村", level=Level.VILLAGE, parent=other_township
    )
    elsewhere = Industry.objects.create(
        county=other_county, name="核桃", category=category("forestry_fruit"), unit=unit("mu")
    )
    return Catalogue(walnut, goat, elsewhere, other_county, other_village)


@pytest.fixture
def township_b_rows(tree: Tree, staff: Staff, catalogue: Catalogue) -> Rows:
    admin = staff.other_township_admin
    target = household(admin, tree.village_b1, number="WB0001")
    return Rows(
        designation=services.designation_create(
            by=admin, region=tree.village_b1, year=2025, industry=catalogue.walnut, is_signature=True
        ),
        plan=services.scale_plan_create(
            by=admin, region=tree.township_b, year=2025, industry=catalogue.walnut, scale=Decimal("800")
        ),
        report=services.scale_report_create(
            by=admin, village=tree.village_b1, year=2025, industry=catalogue.walnut, scale=Decimal("640.5")
        ),
        household=target,
        participation=services.participation_create(
            by=admin, household=target, year=2025, industry=catalogue.walnut, scale=Decimal("3")
        ),
    )
