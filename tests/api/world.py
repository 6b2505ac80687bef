"""One row of every API resource in 大姚县, a household of another county, and API clients with tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.test import Client
from django.utils import timezone

from api.models import ApiClient
from api.resources import RESOURCES
from api.services import api_client_create
from assessment.models import Alert, IndicatorValue, Target
from cooperatives.models import Entity, JoiningMethod, Membership
from funds import services as fund_services
from funds.models import CollectiveIncome, Payment, Project
from households.models import Household, MonitoringCase, MonitoringCategory, RiskType
from industries.models import Industry, IndustryCategory, ScaleUnit
from regions.models import Level, Region, Role, User
from tests.conftest import Staff
from tests.factories import Tree, household, income, make_user, member, threshold
from tests.funds.factories import allocation, bound_pair, library_project


@dataclass
class World:
    household: Household  # 大姚县 大村村, with a 身份证号, a phone and an open case
    income: Any
    case: MonitoringCase
    other_household: Household  # 楚雄市, another county
    other_income: Any
    other_case: MonitoringCase
    other_county: Region
    other_admin: User  # 县级管理员 of 楚雄市


def _case(target: Household) -> MonitoringCase:
    case = MonitoringCase.objects.create(
        household=target, category=MonitoringCategory.UNSTABLE, identified_month=date(2025, 1, 1)
    )
    case.risk_types.set(RiskType.objects.all()[:1])
    return case


def build_world(tree: Tree, staff: Staff) -> World:
    clerk = staff.village_clerk
    target = household(
        clerk, tree.village_a1, phone="13812345678", helper_phone="13987654321", members=[member(birth="19800101")]
    )
    record = income(clerk, target, "2025Q1", wages_migrant_work="3000")
    case = _case(target)

    other_county = Region.objects.create(code="532301000000", name="楚雄市", level=Level.COUNTY, parent=tree.prefecture)
    other_town = Region.objects.create(code="532301100000", name="鹿城镇", level=Level.TOWNSHIP, parent=other_county)
    other_village = Region.objects.create(code="532301100201", name="西村", level=Level.VILLAGE, parent=other_town)
    other_clerk = make_user("cun-cx", Role.VILLAGE_CLERK, other_village)
    other = household(other_clerk, other_village, members=[member(birth="19750505")])
    other_record = income(other_clerk, other, "2025Q1", wages_migrant_work="2000")
    other_case = _case(other)
    other_admin = make_user("xianadmin-cx", Role.COUNTY_ADMIN, other_county)

    now = timezone.now()
    threshold(tree.province, 2025, "6000")
    Target.objects.create(region=tree.county, year=2025, indicator="households_total", comparator="gte", value=1)
    IndicatorValue.objects.create(
        region=tree.county,
        year=2025,
        quarter=1,
        indicator="households_total",
        numerator=Decimal("1"),
        value=Decimal("1"),
        status="met",
        data_version=1,
        computed_at=now,
    )
    industry = Industry.objects.create(
        county=tree.county, name="核桃", category=IndustryCategory.objects.all()[0], unit=ScaleUnit.objects.all()[0]
    )
    enterprise, cooperative = bound_pair(tree.county, tree.village_a1)
    enterprise.industries.set([industry])
    Entity.objects.filter(pk=cooperative.pk).update(contact_phone="13700001111")
    Membership.objects.create(
        cooperative=cooperative,
        household=target,
        joining_method=JoiningMethod.objects.all()[0],
        joined_on=date(2024, 5, 1),
    )
    source = allocation(staff.county_admin, tree.county, "500000")
    project = library_project(staff.township_admin, tree.village_a1, [target], entities=[cooperative])
    line = fund_services.funding_create(
        by=staff.county_admin, project=project, allocation=source, amount=Decimal("1000")
    )
    fund_services.payment_create(by=staff.county_admin, funding=line, paid_on=date(2025, 6, 1), amount=Decimal("400"))
    CollectiveIncome.objects.create(village=tree.village_a1, year=2025, quarter=1, business_income=Decimal("12000"))
    Alert.objects.create(
        household=target,
        rule="income_drop",
        year=2025,
        quarter=1,
        raised_at=now,
        figures={"联系电话": "13812345678", "人均纯收入": 4200},
    )
    assert Project.objects.count() == 1 and Payment.objects.count() == 1 and Entity.objects.count() == 2
    return World(target, record, case, other, other_record, other_case, other_county, other_admin)


def make_client(
    region: Region,
    *,
    personal: bool = False,
    readable: list[str] | None = None,
    rate: str = "10000/min",
    by: User | None = None,
) -> tuple[ApiClient, str]:
    issued = api_client_create(
        name=f"省平台{ApiClient.objects.count() + 1}",
        region=region,
        readable=list(RESOURCES) if readable is None else readable,
        writable=[],
        may_view_personal_data=personal,
        throttle_rate=rate,
        by=by,
    )
    return issued.token.client, issued.secret


def api_get(secret: str | None, url: str, client: Client | None = None) -> Any:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return (client or Client()).get(url, headers=headers)
