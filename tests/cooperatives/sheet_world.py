"""A small 双绑 world for the Excel register tests, and the helpers that read and write their workbooks."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import openpyxl
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from stdnum.cn import uscc

from cooperatives.models import (
    Binding,
    Earning,
    EarningKind,
    Entity,
    EntityKind,
    EntityLevel,
    JoiningMethod,
    LinkageType,
    Membership,
)
from households.models import Household
from industries.models import Industry, IndustryCategory, ScaleUnit
from regions.models import Region, User
from tests.conftest import Staff
from tests.factories import Tree, household, member
from workbooks.batches import import_batch_check, import_batch_claim, import_batch_confirm, import_batch_create
from workbooks.models import ImportBatch

# The permissions the roles hold over these registers (regions.services gives them to the role groups;
# granted here as well so that these tests do not depend on which branch brought them).
VILLAGE_MODELS = ("membership", "earning")
TOWNSHIP_MODELS = ("entity", "binding")


def grant(user: User, models: tuple[str, ...], actions: tuple[str, ...]) -> None:
    codenames = [f"{action}_{model}" for model in models for action in actions]
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="cooperatives", codename__in=codenames)
    )


def grant_cooperative_permissions(staff: Staff) -> None:
    everything = (*VILLAGE_MODELS, *TOWNSHIP_MODELS)
    for user in (staff.village_clerk, staff.other_village_clerk):
        grant(user, VILLAGE_MODELS, ("add", "change"))
    for user in (staff.township_admin, staff.other_township_admin, staff.county_admin):
        grant(user, everything, ("add", "change"))
    for user in vars(staff).values():
        grant(user, everything, ("view",))


def credit_code(sequence: int, kind: str = "91") -> str:
    """A valid 统一社会信用代码, distinct per sequence number."""
    base = f"{kind}532326MA{sequence:07d}"
    return base + uscc.calc_check_digit(base)


@dataclass
class World:
    walnut: Industry
    pepper: Industry
    county_enterprise: Entity  # registered at the county: seen by its townships
    township_enterprise: Entity  # 金碧镇
    cooperative_a1: Entity  # 大村村
    cooperative_a2: Entity  # 石丫村
    cooperative_b1: Entity  # 湾碧村 (the other township)
    household_a1: Household
    household_a1b: Household
    household_a2: Household
    household_b1: Household
    binding: Binding
    membership: Membership
    earning: Earning


def entity(kind: str, name: str, sequence: int, region: Region, **fields: Any) -> Entity:
    created = Entity(kind=kind, name=name, credit_code=credit_code(sequence), region=region, **fields)
    created.full_clean()
    created.save()
    return created


def build_world(tree: Tree, staff: Staff) -> World:
    category, unit = IndustryCategory.objects.order_by("pk")[0], ScaleUnit.objects.order_by("pk")[0]
    walnut = Industry.objects.create(county=tree.county, name="核桃", category=category, unit=unit)
    pepper = Industry.objects.create(county=tree.county, name="花椒", category=category, unit=unit)
    county_enterprise = entity(
        EntityKind.ENTERPRISE,
        "大姚核桃集团",
        1,
        tree.county,
        level=EntityLevel.PROVINCIAL,
        annual_sales=Decimal("12500000.00"),
        contact_phone="13812345678",
        legal_person="赵一",
    )
    county_enterprise.industries.set([walnut, pepper])
    township_enterprise = entity(EntityKind.ENTERPRISE, "金碧花椒公司", 2, tree.township_a, level=EntityLevel.COUNTY)
    cooperative_a1 = entity(
        EntityKind.COOPERATIVE, "大村核桃专业合作社", 3, tree.village_a1, founded_on=date(2018, 4, 1)
    )
    cooperative_a1.industries.set([walnut])
    cooperative_a2 = entity(EntityKind.COOPERATIVE, "石丫花椒专业合作社", 4, tree.village_a2)
    cooperative_b1 = entity(EntityKind.COOPERATIVE, "湾碧黑山羊专业合作社", 5, tree.village_b1)
    clerk, other_clerk = staff.village_clerk, staff.other_village_clerk
    household_a1 = household(clerk, tree.village_a1, number="H-A1-001", members=[member(name="张三")])
    household_a1b = household(clerk, tree.village_a1, number="H-A1-002", members=[member(name="李四")])
    household_a2 = household(other_clerk, tree.village_a2, number="H-A2-001", members=[member(name="王五")])
    household_b1 = household(staff.other_township_admin, tree.village_b1, number="H-B1-001")
    binding = Binding(
        enterprise=county_enterprise, cooperative=cooperative_a1, started_on=date(2023, 1, 1), contract_number="HT-001"
    )
    binding.full_clean()
    binding.save()
    binding.linkage_types.set(LinkageType.objects.filter(name__in=["资产收益", "务工就业"]))
    membership = Membership.objects.create(
        cooperative=cooperative_a1,
        household=household_a1,
        joining_method=JoiningMethod.objects.get(name="资金入股"),
        shares=Decimal("2000.00"),
        joined_on=date(2023, 3, 1),
    )
    Membership.objects.create(
        cooperative=cooperative_b1,
        household=household_b1,
        joining_method=JoiningMethod.objects.get(name="劳动力入股"),
        joined_on=date(2023, 5, 1),
    )
    earning = Earning.objects.create(
        household=household_a1,
        cooperative=cooperative_a1,
        year=2024,
        kind=EarningKind.objects.get(name="分红"),
        amount=Decimal("1200.00"),
    )
    return World(
        walnut,
        pepper,
        county_enterprise,
        township_enterprise,
        cooperative_a1,
        cooperative_a2,
        cooperative_b1,
        household_a1,
        household_a1b,
        household_a2,
        household_b1,
        binding,
        membership,
        earning,
    )


# Workbooks --------------------------------------------------------------------------------------


def workbook(header: list[str], rows: list[list[Any]], *, title: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    if title:
        sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def check(user: User, content: bytes, kind: str, name: str = "登记表.xlsx") -> ImportBatch:
    batch = import_batch_create(by=user, kind=kind, upload=SimpleUploadedFile(name, content))
    return import_batch_check(batch_id=batch.pk)


def confirm(batch: ImportBatch, user: User) -> ImportBatch:
    import_batch_claim(batch=batch, by=user)
    return import_batch_confirm(batch_id=batch.pk, by_id=user.pk)


def exported(user: User, name: str) -> bytes:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("cooperative_sheet_export", args=[name]))
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def read_sheet(content: bytes) -> list[list[Any]]:
    """The first sheet's rows as values (header first)."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def rows_by_header(content: bytes) -> list[dict[str, Any]]:
    header, *rows = read_sheet(content)
    return [dict(zip(header, row, strict=True)) for row in rows]


def error_list(batch: ImportBatch) -> list[tuple[int, str, str]]:
    return [(error["row"], error["column"], error["message"]) for error in batch.errors]


# Every table an import of these registers may write, history (and many-to-many history) included.
def _tables() -> list[Any]:
    models: list[Any] = [Entity, Binding, Membership, Earning]
    tables = [*models, Entity.industries.through, Binding.linkage_types.through]
    histories = [model.history.model for model in models]
    snapshots = [Entity.history.model.industries.model, Binding.history.model.linkage_types.model]
    return [*tables, *histories, *snapshots]


def checksums() -> dict[str, str]:
    sums = {}
    with connection.cursor() as cursor:
        for model in _tables():
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT * FROM {table} ORDER BY 1")
            sums[model._meta.db_table] = hashlib.sha256(repr(cursor.fetchall()).encode()).hexdigest()
    return sums
