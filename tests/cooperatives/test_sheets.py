"""The cooperatives registers in Excel: templates, exports (scoped, masked, recorded) and export → import = 无变化."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from cooperatives.models import Binding, Earning, Entity, Membership
from cooperatives.sheets import SHEETS
from households.excel.models import ExportRecord
from regions.models import User
from tests.conftest import Staff
from tests.cooperatives.sheet_world import (
    World,
    build_world,
    check,
    checksums,
    confirm,
    exported,
    grant,
    grant_cooperative_permissions,
    rows_by_header,
)
from tests.factories import Tree
from workbooks.models import ImportStatus

REGISTERS = ["entities", "bindings", "memberships", "earnings"]


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(tree: Tree, staff: Staff) -> World:
    grant_cooperative_permissions(staff)
    return build_world(tree, staff)


# Each register with each role that imports it.
IMPORTERS = [
    *((name, role) for name in REGISTERS for role in ("county_admin", "township_admin")),
    ("memberships", "village_clerk"),
    ("earnings", "village_clerk"),
]


@pytest.mark.parametrize(("name", "role"), IMPORTERS)
def test_an_export_imported_again_changes_nothing_twice(world: World, staff: Staff, name: str, role: str) -> None:
    user: User = getattr(staff, role)
    before = checksums()
    content = exported(user, name)
    for _ in range(2):
        batch = check(user, content, name)
        assert batch.status == ImportStatus.UNCHANGED, batch.errors
        assert batch.counts[name]["unchanged"] == len(rows_by_header(content)) > 0
        assert checksums() == before
        content = exported(user, name)


def test_the_demo_countys_registers_read_back_unchanged(db: None) -> None:
    from django.core.management import call_command

    call_command("seed_demo", households=120, seed=11, verbosity=0)
    before = checksums()
    checked = 0
    for username, names in (("xianadmin", REGISTERS), ("xiang", REGISTERS), ("cun", ["memberships", "earnings"])):
        models = tuple(SHEETS[name].record.model._meta.model_name or "" for name in names)
        grant(User.objects.get(username=username), models, ("add", "change", "view"))
        user = User.objects.get(username=username)
        for name in names:
            content = exported(user, name)
            batch = check(user, content, name)
            assert batch.status == ImportStatus.UNCHANGED, (username, name, batch.errors[:5])
            checked += batch.counts[name]["unchanged"]
    assert checksums() == before
    assert checked > 100
    assert Membership.objects.exists() and Binding.objects.exists() and Earning.objects.exists()


def test_a_changed_export_updates_only_what_changed_and_then_reads_back_unchanged(world: World, staff: Staff) -> None:
    admin = staff.county_admin
    rows = rows_by_header(exported(admin, "entities"))
    header = list(rows[0])
    for row in rows:
        if row["名称"] == "大村核桃专业合作社":
            row["经营产业"] = "核桃、花椒"
            row["联系人"] = "钱七"
    edited = _workbook(header, rows)
    batch = check(admin, edited, "entities")
    assert batch.status == ImportStatus.READY, batch.errors
    assert batch.counts["entities"] == {"new": 0, "updated": 1, "unchanged": len(rows) - 1, "error": 0}
    assert {(c["field"], c["old"], c["new"]) for c in batch.changes} == {
        ("联系人", "（空）", "钱七"),
        ("经营产业", "核桃", "核桃、花椒"),
    }
    confirm(batch, admin)
    cooperative = world.cooperative_a1
    cooperative.refresh_from_db()
    assert cooperative.contact_name == "钱七" and cooperative.version == 2
    assert set(cooperative.industries.values_list("name", flat=True)) == {"核桃", "花椒"}
    latest = cooperative.history.latest()
    assert latest.history_change_reason == batch.history_reason and latest.history_user == admin
    assert set(latest.industries.values_list("industry__name", flat=True)) == {"核桃", "花椒"}
    before = checksums()
    assert check(admin, exported(admin, "entities"), "entities").status == ImportStatus.UNCHANGED
    assert checksums() == before


def test_the_registers_read_into_an_empty_ledger_give_the_same_records(world: World, staff: Staff) -> None:
    admin = staff.county_admin
    files = {name: exported(admin, name) for name in REGISTERS}
    content = _content()
    Earning.objects.all().delete()
    Membership.objects.all().delete()
    Binding.linkage_types.through.objects.all().delete()
    Binding.objects.all().delete()
    Entity.industries.through.objects.all().delete()
    Entity.objects.all().delete()
    for name in REGISTERS:
        batch = check(admin, files[name], name)
        assert batch.status == ImportStatus.READY, batch.errors
        assert confirm(batch, admin).status == ImportStatus.APPLIED, batch.refusal
    assert _content() == content
    for name in REGISTERS:
        assert check(admin, exported(admin, name), name).status == ImportStatus.UNCHANGED


def _content() -> dict[str, Any]:
    """The records by natural keys, for comparing two ledgers."""
    return {
        "entities": sorted(
            (
                *values,
                tuple(sorted(Entity.objects.get(credit_code=values[0]).industries.values_list("name", flat=True))),
            )
            for values in Entity.objects.values_list(
                "credit_code", "kind", "name", "region__code", "level", "annual_sales", "contact_phone", "status"
            )
        ),
        "bindings": sorted(
            (*values, tuple(sorted(Binding.objects.get(pk=values[0]).linkage_types.values_list("name", flat=True))))[1:]
            for values in Binding.objects.values_list(
                "pk", "enterprise__credit_code", "cooperative__credit_code", "started_on", "contract_number"
            )
        ),
        "memberships": sorted(
            Membership.objects.values_list(
                "cooperative__credit_code", "household__number", "joining_method__name", "shares", "joined_on"
            )
        ),
        "earnings": sorted(
            Earning.objects.values_list("household__number", "cooperative__credit_code", "year", "kind__name", "amount")
        ),
    }


def _workbook(header: list[str], rows: list[dict[str, Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append([row[name] for name in header])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_export_holds_only_what_the_user_sees(world: World, staff: Staff) -> None:
    clerk_memberships = rows_by_header(exported(staff.village_clerk, "memberships"))
    assert [row["户编号"] for row in clerk_memberships] == ["H-A1-001"]
    township_entities = {row["名称"] for row in rows_by_header(exported(staff.township_admin, "entities"))}
    # Its own, the county's enterprise above it; never the other township's cooperative.
    assert township_entities == {"大姚核桃集团", "金碧花椒公司", "大村核桃专业合作社", "石丫花椒专业合作社"}
    other = {row["名称"] for row in rows_by_header(exported(staff.other_township_admin, "entities"))}
    assert other == {"大姚核桃集团", "湾碧黑山羊专业合作社"}


def test_a_binding_seen_but_not_kept_reads_back_unchanged_and_cannot_be_changed(
    world: World, staff: Staff, tree: Tree
) -> None:
    """金碧镇 sees the binding of 湾碧's cooperative (one of its households is a member) and the binding of
    湾碧's enterprise to its own cooperative; it may change only the second."""
    from datetime import date

    from cooperatives.models import EntityKind, JoiningMethod
    from tests.cooperatives.sheet_world import entity

    other_enterprise = entity(EntityKind.ENTERPRISE, "湾碧山羊公司", 6, tree.township_b)
    for enterprise, cooperative in (
        (other_enterprise, world.cooperative_a2),
        (world.county_enterprise, world.cooperative_b1),
    ):
        binding = Binding(enterprise=enterprise, cooperative=cooperative, started_on=date(2024, 1, 1))
        binding.full_clean()
        binding.save()
        binding.linkage_types.set([1])
    Membership.objects.create(
        cooperative=world.cooperative_b1,
        household=world.household_a2,
        joining_method=JoiningMethod.objects.get(name="其他"),
        joined_on=date(2024, 2, 1),
    )
    admin = staff.township_admin
    content = exported(admin, "bindings")
    rows = rows_by_header(content)
    assert {(row["企业名称"], row["合作社名称"]) for row in rows} == {
        ("大姚核桃集团", "大村核桃专业合作社"),
        ("湾碧山羊公司", "石丫花椒专业合作社"),
        ("大姚核桃集团", "湾碧黑山羊专业合作社"),
    }
    assert check(admin, content, "bindings").status == ImportStatus.UNCHANGED
    for row in rows:
        row["合同编号"] = "HT-NEW"
    batch = check(admin, _workbook(list(rows[0]), rows), "bindings")
    assert batch.status == ImportStatus.INVALID
    assert [(e["column"], e["message"]) for e in batch.errors] == [
        ("企业统一社会信用代码", "您无权修改该企业绑定合作社（大姚核桃集团 — 湾碧黑山羊专业合作社（2024-01-01起））")
    ]


def test_exports_are_masked_for_roles_without_personal_data_and_recorded(world: World, staff: Staff) -> None:
    viewer = staff.county_viewer
    membership = rows_by_header(exported(viewer, "memberships"))
    head_number = world.household_a1.members.get().id_number
    shown = {row["身份证号"] for row in membership}
    assert head_number not in shown and f"{head_number[:6]}********{head_number[-4:]}" in shown
    phones = {row["联系电话"] for row in rows_by_header(exported(viewer, "entities"))}
    assert "138****5678" in phones and "13812345678" not in phones
    assert head_number in {row["身份证号"] for row in rows_by_header(exported(staff.county_admin, "memberships"))}
    records = ExportRecord.objects.filter(exported_by=viewer).order_by("exported_at")
    assert [(r.kind, r.masked, r.row_count) for r in records] == [("memberships", True, 2), ("entities", True, 5)]
    assert records[0].get_kind_display() == "合作社成员户"


def test_a_masked_export_cannot_be_imported(world: World, staff: Staff) -> None:
    masked = exported(staff.county_viewer, "memberships")
    staff.county_viewer.user_permissions.add(*staff.county_admin.user_permissions.all())
    viewer = User.objects.get(pk=staff.county_viewer.pk)
    batch = check(viewer, masked, "memberships")
    assert batch.status == ImportStatus.INVALID
    assert {error["column"] for error in batch.errors} == {"身份证号"}
    assert "已脱敏" in batch.errors[0]["message"]


def test_text_that_looks_like_a_formula_is_exported_as_text(world: World, staff: Staff) -> None:
    Entity.objects.filter(pk=world.cooperative_a1.pk).update(address='=HYPERLINK("http://x","点击")')
    book = openpyxl.load_workbook(io.BytesIO(exported(staff.county_admin, "entities")))
    cells = [
        cell for row in book.worksheets[0].iter_rows() for cell in row if cell.value and "HYPERLINK" in str(cell.value)
    ]
    assert len(cells) == 1
    assert cells[0].data_type == "s" and cells[0].quotePrefix


@pytest.mark.parametrize("name", REGISTERS)
def test_each_template_has_its_header_notes_and_drop_downs(world: World, staff: Staff, name: str) -> None:
    client = Client()
    client.force_login(staff.village_clerk)
    response = client.get(reverse("cooperative_sheet_template", args=[name]))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[:2] == [
        {"entities": "经营主体", "bindings": "企业绑定合作社", "memberships": "合作社成员户", "earnings": "合作社收益"}[
            name
        ],
        "说明",
    ]
    header = [cell.value for cell in book.worksheets[0][1]]
    assert header == [column.header for column in SHEETS[name].columns]
    assert book.worksheets[0].data_validations.dataValidation
    assert "填写说明" in str(book["说明"]["A1"].value)


def test_the_import_page_and_the_cooperatives_page_offer_templates_and_exports(world: World, staff: Staff) -> None:
    client = Client()
    client.force_login(staff.township_admin)
    page = client.get(reverse("import_upload")).content.decode()
    for name in REGISTERS:
        assert reverse("cooperative_sheet_template", args=[name]) in page
        assert reverse("cooperative_sheet_export", args=[name]) in page
    assert reverse("import_template", args=["roster"]) in page
    sheets = client.get(reverse("cooperative_sheets"))
    assert sheets.status_code == 200
    assert reverse("cooperative_sheet_export", args=["bindings"]) in sheets.content.decode()
    assert client.get(reverse("cooperative_sheet_template", args=["nothing"])).status_code == 404


def test_the_upload_form_offers_only_the_registers_the_user_may_import(world: World, staff: Staff) -> None:
    client = Client()
    client.force_login(staff.village_clerk)
    page = client.get(reverse("import_upload")).content.decode()
    assert 'value="memberships"' in page and 'value="earnings"' in page and 'value="roster"' in page
    assert 'value="entities"' not in page and 'value="bindings"' not in page
    assert reverse("cooperative_sheet_template", args=["entities"]) in page  # a template anyone may read


def test_an_export_is_refused_to_a_role_that_may_not_see_the_register(world: World, staff: Staff, tree: Tree) -> None:
    nobody = User.objects.create_user(username="nobody", password="x", region=tree.village_a1)
    client = Client()
    client.force_login(nobody)
    assert client.get(reverse("cooperative_sheet_export", args=["memberships"])).status_code == 403
    assert not ExportRecord.objects.filter(exported_by=nobody).exists()
