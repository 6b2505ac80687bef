"""A small 双绑 world over the test region tree: a county enterprise, a cooperative in each township,
households in three villages, and builders that go through the services as staff would."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from stdnum.cn import uscc

from cooperatives.models import Binding, Entity, EntityKind, EntityLevel, JoiningMethod, LinkageType, Membership
from cooperatives.services import binding_register, entity_register, membership_add
from households.models import Household
from industries.models import Industry, IndustryCategory, ScaleUnit
from regions.models import Region, User
from tests.conftest import Staff
from tests.factories import Tree, household

_serials = itertools.count(1)


def credit_code() -> str:
    """A fresh valid 统一社会信用代码 (the check character computed by python-stdnum)."""
    body = f"93532326MA6K{next(_serials):05d}"[:17]
    return body + uscc.calc_check_digit(body)


def industry(county: Region, name: str = "核桃") -> Industry:
    return Industry.objects.create(
        county=county, name=name, category=IndustryCategory.objects.all()[0], unit=ScaleUnit.objects.all()[0]
    )


def entity(by: User, region: Region, kind: str = EntityKind.COOPERATIVE, *, name: str = "", **fields: Any) -> Entity:
    """Register an entity through the service."""
    fields.setdefault("founded_on", date(2018, 1, 1))
    draft = Entity(
        kind=kind,
        name=name or f"{region.name}{next(_serials)}号{EntityKind(kind).label}",
        credit_code=credit_code(),
        region=region,
        level=fields.pop("level", EntityLevel.NONE),
        **fields,
    )
    return entity_register(by=by, entity=draft)


def bind(
    by: User, enterprise: Entity, cooperative: Entity, *, started_on: date = date(2024, 1, 1), **fields: Any
) -> Binding:
    draft = Binding(enterprise=enterprise, cooperative=cooperative, started_on=started_on, **fields)
    return binding_register(by=by, binding=draft, linkage_types=LinkageType.objects.filter(code="land_transfer"))


def join(
    by: User, cooperative: Entity, member_household: Household, *, joined_on: date = date(2024, 3, 1), **fields: Any
) -> Membership:
    draft = Membership(
        cooperative=cooperative,
        household=member_household,
        joining_method=JoiningMethod.objects.get(code="land_rights"),
        shares=Decimal(fields.pop("shares", "1000")),
        joined_on=joined_on,
        **fields,
    )
    return membership_add(by=by, membership=draft)


@dataclass
class World:
    enterprise: Entity  # 大姚县, registered by the county admin
    cooperative_a: Entity  # 大村村 (township A)
    cooperative_b: Entity  # 湾碧村 (township B)
    household_a1: Household  # 大村村, member of cooperative A
    household_a2: Household  # 石丫村, member of cooperative B (a household of township A in B's cooperative)
    household_b1: Household  # 湾碧村, member of cooperative B
    binding_a: Binding
    binding_b: Binding


def build_world(tree: Tree, staff: Staff) -> World:
    enterprise = entity(
        staff.county_admin, tree.county, EntityKind.ENTERPRISE, name="大姚核桃集团", contact_phone="13812345678"
    )
    cooperative_a = entity(staff.township_admin, tree.village_a1, name="大村核桃合作社", contact_phone="13987654321")
    cooperative_b = entity(staff.other_township_admin, tree.village_b1, name="湾碧花椒合作社")
    household_a1 = household(staff.village_clerk, tree.village_a1)
    household_a2 = household(staff.other_village_clerk, tree.village_a2)
    household_b1 = household(staff.other_township_admin, tree.village_b1)
    join(staff.village_clerk, cooperative_a, household_a1)
    join(staff.county_admin, cooperative_b, household_a2)
    join(staff.other_township_admin, cooperative_b, household_b1)
    return World(
        enterprise=enterprise,
        cooperative_a=cooperative_a,
        cooperative_b=cooperative_b,
        household_a1=household_a1,
        household_a2=household_a2,
        household_b1=household_b1,
        binding_a=bind(staff.township_admin, enterprise, cooperative_a),
        binding_b=bind(staff.other_township_admin, enterprise, cooperative_b),
    )


@dataclass
class Foreign:
    """Rows of 湾碧乡 (township B) that nobody in 金碧镇 (township A) may see."""

    enterprise: Entity  # registered in 湾碧乡, bound only to the cooperative below
    cooperative: Entity  # 湾碧村, its only member lives in 湾碧村
    binding: Binding
    county_binding: Binding  # the county's enterprise binds this cooperative too
    membership: Membership
    earning: Any
    leader: Any


def build_foreign(tree: Tree, staff: Staff, world: World) -> Foreign:
    from cooperatives.models import EarningKind, RichLeader
    from cooperatives.services import earning_record, rich_leader_register

    by = staff.other_township_admin
    enterprise = entity(
        by, tree.township_b, EntityKind.ENTERPRISE, name="湾碧芒果有限公司", contact_phone="13700001111"
    )
    cooperative = entity(by, tree.village_b1, name="湾碧芒果合作社")
    membership = join(by, cooperative, world.household_b1, joined_on=date(2024, 1, 1))
    earning = earning_record(
        by=by,
        household=world.household_b1,
        cooperative=cooperative,
        year=2024,
        kind=EarningKind.objects.get(code="dividend"),
        amount=Decimal("800"),
    )
    leader = rich_leader_register(
        by=by, leader=RichLeader(village=tree.village_b1, name="何富贵", phone="13911112222", recognised_year=2024)
    )
    return Foreign(
        enterprise=enterprise,
        cooperative=cooperative,
        binding=bind(by, enterprise, cooperative),
        county_binding=bind(by, world.enterprise, cooperative),
        membership=membership,
        earning=earning,
        leader=leader,
    )
