"""Builders of funds test data through the services (a module of its own: conftest.py may be imported
twice under pytest, and the serial numbers below must be one sequence)."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from stdnum.cn import uscc

from cooperatives.models import Binding, Entity, EntityKind
from funds import services
from funds.models import (
    Allocation,
    FundLevel,
    Project,
    ProjectType,
)
from households.models import Household
from regions.models import Region, User

_serial = itertools.count(1)


def project_type(code: str) -> ProjectType:
    return ProjectType.objects.get(code=code)


def credit_code() -> str:
    body = f"9153232{next(_serial):010d}"
    return body + uscc.calc_check_digit(body)


def bound_pair(county: Region, village: Region) -> tuple[Entity, Entity]:
    """A county 龙头企业 bound to a village cooperative (双绑)."""
    enterprise = Entity.objects.create(
        kind=EntityKind.ENTERPRISE, name=f"龙头企业{next(_serial)}", credit_code=credit_code(), region=county
    )
    cooperative = Entity.objects.create(
        kind=EntityKind.COOPERATIVE, name=f"合作社{next(_serial)}", credit_code=credit_code(), region=village
    )
    Binding.objects.create(enterprise=enterprise, cooperative=cooperative, started_on=date(2024, 1, 1))
    return enterprise, cooperative


def allocation(
    by: User, county: Region, amount: str, *, level: str = FundLevel.CENTRAL, year: int = 2025
) -> Allocation:
    return services.allocation_create(
        by=by,
        county=county,
        year=year,
        level=level,
        document_number=f"云财农〔{year}〕{next(_serial)}号",
        issued_on=date(year, 3, 1),
        amount=Decimal(amount),
    )


def library_project(
    by: User,
    region: Region,
    beneficiaries: list[Household],
    *,
    code: str | None = None,
    type_code: str = "industry_base",
    year: int = 2025,
    entities: list[Entity] | None = None,
) -> Project:
    """An 产业发展 project with a 联农带农机制 and its households, moved into the library."""
    project = services.project_create(
        by=by,
        code=code or f"XM{next(_serial):05d}",
        name="核桃提质增效基地",
        year=year,
        region=region,
        project_type=project_type(type_code),
        linkage_mechanism="土地流转+务工就业，收益按股分红",
        supported_entities=entities or [],
        on=date(2025, 3, 1),
    )
    if beneficiaries:
        services.project_beneficiaries_add(
            by=by, project=project, expected_version=project.version, households=beneficiaries
        )
    return services.project_advance(by=by, project=project, expected_version=project.version, on=date(2025, 3, 10))
