"""Test data: a small region tree, staff of every role, and households built through the services."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from households.id_numbers import id_number_with_check_digit
from households.models import Household, HouseholdType, Labour, MonitoringThreshold, Relation
from households.quarter import Quarter
from households.services import MemberData, household_register, income_record_save
from regions.models import Level, Region, Role, User
from regions.services import user_create

PASSWORD = "test-password-123"
# One counter per (birth date, sex, area): a number always keeps the birth date asked for, however
# many other numbers the run has made before (a test's birth date never depends on the tests before it).
_sequences: defaultdict[tuple[str, str, str], Iterator[int]] = defaultdict(lambda: itertools.count(1))


def id_number(birth: str = "19800101", area: str = "532326", sex: str = "M") -> str:
    """A fresh valid 身份证号 for the birth date and sex (odd 17th digit: male); unique per run."""
    serial = next(_sequences[birth, sex, area])
    # Past 500 numbers for one birth date the area's last two digits move, never the birth date.
    area = f"{area[:4]}{(int(area[4:]) + serial // 500) % 100:02d}"
    sequence = (serial % 500) * 2 + (1 if sex == "M" else 0)
    return id_number_with_check_digit(f"{area}{birth}{sequence:03d}")


@dataclass
class Tree:
    """云南省 > 楚雄州 > 大姚县 > two townships > two villages each."""

    province: Region
    prefecture: Region
    county: Region
    township_a: Region
    township_b: Region
    village_a1: Region
    village_a2: Region
    village_b1: Region


def build_tree() -> Tree:
    def region(code: str, name: str, level: int, parent: Region | None) -> Region:
        return Region.objects.create(code=code, name=name, level=level, parent=parent)

    province = region("530000000000", "云南省", Level.PROVINCE, None)
    prefecture = region("532300000000", "楚雄彝族自治州", Level.PREFECTURE, province)
    county = region("532326000000", "大姚县", Level.COUNTY, prefecture)
    township_a = region("532326100000", "金碧镇", Level.TOWNSHIP, county)
    township_b = region("532326200000", "湾碧乡", Level.TOWNSHIP, county)
    return Tree(
        province=province,
        prefecture=prefecture,
        county=county,
        township_a=township_a,
        township_b=township_b,
        village_a1=region("532326100201", "大村村", Level.VILLAGE, township_a),
        village_a2=region("532326100202", "石丫村", Level.VILLAGE, township_a),
        village_b1=region("532326200201", "湾碧村", Level.VILLAGE, township_b),
    )


def make_user(username: str, role: str, region: Region | None) -> User:
    return user_create(username=username, password=PASSWORD, role=role, region=region, full_name=username)


def make_superuser(username: str = "root") -> User:
    return User.objects.create_superuser(username=username, password=PASSWORD)


def threshold(region: Region, year: int, amount: str) -> MonitoringThreshold:
    return MonitoringThreshold.objects.create(region=region, year=year, amount=Decimal(amount), source="测试")


def member(
    relation: str = Relation.HEAD,
    *,
    name: str = "张三",
    birth: str = "19800101",
    labour: str = Labour.ORDINARY,
    **extra: Any,
) -> MemberData:
    return MemberData(name=name, id_number=id_number(birth), relation=relation, labour=labour, **extra)


_household_numbers = itertools.count(1)


def household(
    by: User,
    village: Region,
    *,
    members: list[MemberData] | None = None,
    household_type: str = HouseholdType.LIFTED,
    number: str | None = None,
    **fields: Any,
) -> Household:
    """Register a household through the service, as a clerk would."""
    if household_type == HouseholdType.LIFTED:
        fields.setdefault("lifted_year", 2019)
    draft = Household(
        number=number or f"{village.code}{next(_household_numbers):05d}",
        village=village,
        household_type=household_type,
        **fields,
    )
    return household_register(
        by=by,
        household=draft,
        members=members or [member(), member(Relation.SPOUSE, name="李四", birth="19820202")],
    )


def income(by: User, target: Household, quarter: str, **amounts: str) -> Any:
    record, _warnings = income_record_save(
        by=by,
        household=target,
        quarter=Quarter.parse(quarter),
        amounts={k: Decimal(v) for k, v in amounts.items()},
    )
    return record


__all__ = ["PASSWORD", "Role", "Tree", "build_tree", "household", "income", "make_superuser", "make_user", "member"]
