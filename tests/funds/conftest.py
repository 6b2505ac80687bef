"""A county's 2025 central allocation split to township B, and one row of every funds register in
township B (湾碧乡), written through the services: township A's users must never reach any of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from cooperatives.models import Entity
from funds import services
from funds.models import Allocation, Asset, AssetKind, CollectiveIncome, Funding, Payment, Project, VillageProfile
from households.models import Household
from regions.models import User
from tests.conftest import Staff
from tests.factories import Tree, household
from tests.funds.factories import allocation, bound_pair, library_project


@dataclass
class Rows:
    central: Allocation
    split_b: Allocation
    household: Household
    project: Project
    funding: Funding
    payment: Payment
    asset: Asset
    profile: VillageProfile
    income: CollectiveIncome
    cooperative: Entity  # bound to a county 龙头企业 (双绑), supported by the project


@pytest.fixture
def township_b_rows(tree: Tree, staff: Staff) -> Rows:
    county_admin, admin = staff.county_admin, staff.other_township_admin
    central = allocation(county_admin, tree.county, "1000000")
    split_b = services.allocation_split(
        by=county_admin,
        parent=central,
        township=tree.township_b,
        amount=Decimal("200000"),
        document_number="大财农〔2025〕8号",
        issued_on=date(2025, 3, 5),
    )
    target = household(admin, tree.village_b1, number="WB0001")
    _enterprise, cooperative = bound_pair(tree.county, tree.village_b1)
    project = library_project(admin, tree.village_b1, [target], code="XM-B-001", entities=[cooperative])
    funding = services.funding_create(by=admin, project=project, allocation=split_b, amount=Decimal("100000"))
    payment = services.payment_create(by=admin, funding=funding, paid_on=date(2025, 6, 1), amount=Decimal("40000"))
    asset = services.asset_create(
        by=admin,
        project=project,
        kind=AssetKind.OPERATING,
        name="核桃烘干房",
        value=Decimal("90000"),
        owner_village=tree.village_b1,
        custodian="湾碧村股份经济合作社",
    )
    profile = services.village_profile_save(
        by=admin, village=tree.village_b1, year=2025, was_poverty_village=True, has_party_complex=False
    )
    clerk_b = staff_clerk_b(tree)
    income = services.collective_income_save(
        by=clerk_b, village=tree.village_b1, year=2025, quarter=1, amounts={"business_income": Decimal("12000")}
    )
    project.refresh_from_db()
    return Rows(central, split_b, target, project, funding, payment, asset, profile, income, cooperative)


def staff_clerk_b(tree: Tree) -> User:
    from regions.models import Role
    from tests.factories import make_user

    found = User.objects.filter(username="cunb").first()
    return found or make_user("cunb", Role.VILLAGE_CLERK, tree.village_b1)
