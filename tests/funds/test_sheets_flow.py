"""A funds register through the pipeline: the gates checked again at the confirmation (已失效 when the
data moved, even where no version did), history naming the batch, undo, and the 储备 step of a new project."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from funds import services
from funds.models import (
    Allocation,
    Beneficiary,
    CollectiveIncome,
    Funding,
    Payment,
    Project,
    ProjectStatus,
    ProjectStep,
)
from tests.conftest import Staff
from tests.cooperatives.sheet_world import check, confirm, rows_by_header
from tests.factories import Tree
from tests.funds.sheet_world import DOCUMENT, World, build_world, checksums, exported, sheet
from tests.funds.test_sheets_rules import payment, project, split
from workbooks.batches import import_batch_rollback
from workbooks.models import ImportStatus


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(tree: Tree, staff: Staff) -> World:
    return build_world(tree, staff)


def test_a_split_is_refused_at_the_confirmation_when_a_form_spent_the_remainder_meanwhile(
    world: World, staff: Staff, tree: Tree
) -> None:
    admin = staff.county_admin
    batch = check(admin, sheet("allocations", [split(**{"金额（万元）": 30})]), "allocations")
    assert batch.status == ImportStatus.READY, batch.errors
    # No version of anything the preview read moves: a new funding line only uses the allocation up.
    services.funding_create(by=admin, project=world.p3, allocation=world.central, amount=Decimal("100000"))
    assert Allocation.objects.get(pk=world.central.pk).version == world.central.version
    before = checksums()
    result = confirm(batch, admin)
    assert result.status == ImportStatus.EXPIRED and "预览后数据已被修改" in result.refusal
    assert checksums() == before
    again = check(admin, sheet("allocations", [split(**{"金额（万元）": 30})]), "allocations")
    assert ("金额（万元）", "分配金额超出该笔资金的剩余可分配金额（剩余 299,999.95 元）") in {
        (error["column"], error["message"]) for error in again.errors
    }


def test_a_payment_is_refused_at_the_confirmation_when_the_line_was_paid_meanwhile(world: World, staff: Staff) -> None:
    admin = staff.township_admin
    batch = check(admin, sheet("payments", [payment(**{"支付金额（元）": 80000})]), "payments")
    assert batch.status == ImportStatus.READY, batch.errors
    services.payment_create(by=admin, funding=world.line_split, paid_on=date(2025, 9, 2), amount=Decimal("0.01"))
    assert Funding.objects.get(pk=world.line_split.pk).version == world.line_split.version
    assert confirm(batch, admin).status == ImportStatus.EXPIRED
    assert world.line_split.payments.count() == 2


def test_an_approved_quarter_after_the_preview_refuses_the_batch(world: World, staff: Staff, tree: Tree) -> None:
    clerk = staff.village_clerk
    rows = rows_by_header(exported(clerk, "collective"))
    rows[0]["经营收入（元）"] = 20000
    batch = check(clerk, sheet("collective", rows), "collective")
    assert batch.status == ImportStatus.READY, batch.errors
    first = CollectiveIncome.objects.get(village=tree.village_a1, year=2025, quarter=1)
    first = services.collective_income_submit(by=clerk, income=first, expected_version=first.version)
    assert confirm(batch, clerk).status == ImportStatus.EXPIRED
    first.refresh_from_db()
    assert first.business_income == Decimal("12345.67")


def test_a_new_project_is_reserve_with_its_first_step_and_undo_puts_everything_back(world: World, staff: Staff) -> None:
    admin = staff.township_admin
    rows = rows_by_header(exported(admin, "projects"))
    for row in rows:
        if row["项目编号"] == "XM-A-002":
            row["项目名称"] = "金碧镇产业路（二期）"
        if row["项目编号"] == "XM-A-003":
            row["扶持的双绑主体"] = world.cooperative.credit_code
    rows.append(project(扶持的双绑主体=world.cooperative.credit_code, 状态="储备"))
    before = checksums()
    batch = check(admin, sheet("projects", rows), "projects")
    assert batch.counts["projects"] == {"new": 1, "updated": 2, "unchanged": 1, "error": 0}, batch.errors
    assert confirm(batch, admin).status == ImportStatus.APPLIED
    created = Project.objects.get(code="XM-A-009")
    assert created.status == ProjectStatus.RESERVE and created.status_on == timezone.localdate()
    assert list(created.supported_entities.all()) == [world.cooperative]
    step = ProjectStep.objects.get(project=created)
    assert (step.from_status, step.to_status, step.by) == ("", ProjectStatus.RESERVE, admin)
    renamed = Project.objects.get(code="XM-A-002")
    latest = renamed.history.latest()
    assert renamed.name == "金碧镇产业路（二期）" and renamed.version == 2
    assert latest.history_change_reason == batch.history_reason and latest.history_user == admin
    assert Project.objects.get(code="XM-A-003").history.latest().supported_entities.count() == 1
    assert check(admin, exported(admin, "projects"), "projects").status == ImportStatus.UNCHANGED

    assert import_batch_rollback(batch=batch, by=admin).status == ImportStatus.ROLLED_BACK
    assert not Project.objects.filter(code="XM-A-009").exists()
    assert Project.objects.get(code="XM-A-002").name == "金碧镇产业路"
    assert not Project.objects.get(code="XM-A-003").supported_entities.exists()
    assert not ProjectStep.objects.filter(project_id=created.pk).exists()
    assert check(admin, exported(admin, "projects"), "projects").status == ImportStatus.UNCHANGED
    assert checksums() != before  # the undo is itself recorded in the history


def test_undo_is_refused_once_a_project_it_created_moved_on(world: World, staff: Staff) -> None:
    admin = staff.township_admin
    batch = confirm(check(admin, sheet("projects", [project(联农带农机制="务工就业")]), "projects"), admin)
    created = Project.objects.get(code="XM-A-009")
    services.project_update(
        by=admin,
        project=created,
        expected_version=created.version,
        code=created.code,
        name="改名",
        year=created.year,
        region=created.region,
        project_type=created.project_type,
        linkage_mechanism="务工就业",
        supported_entities=[],
    )
    with pytest.raises(ValidationError, match="导入后已被修改"):
        import_batch_rollback(batch=batch, by=admin)
    assert ProjectStep.objects.filter(project=created).exists()


def test_allocations_fundings_payments_and_links_are_written_with_their_batch_and_undone(
    world: World, staff: Staff
) -> None:
    admin = staff.county_admin
    splits = confirm(check(admin, sheet("allocations", [split()]), "allocations"), admin)
    assert splits.status == ImportStatus.APPLIED
    created = Allocation.objects.get(document_number="大财农〔2025〕9号")
    assert created.history.get().history_change_reason == splits.history_reason
    line = {"项目编号": "XM-B-001", "下达文号": "大财农〔2025〕9号", "安排金额（万元）": "2.5"}
    lines = confirm(check(admin, sheet("fundings", [line]), "fundings"), admin)
    assert lines.status == ImportStatus.APPLIED, lines.errors
    funded = Funding.objects.get(allocation=created)
    assert funded.amount == Decimal("25000.00")
    paid = {"项目编号": "XM-B-001", "下达文号": "大财农〔2025〕9号", "支付日期": "2025-12-01", "支付金额（元）": 25000}
    payments = confirm(check(admin, sheet("payments", [paid]), "payments"), admin)
    assert payments.status == ImportStatus.APPLIED, payments.errors
    link = {"项目编号": "XM-A-002", "户编号": "H-A1-001"}
    links = confirm(check(admin, sheet("beneficiaries", [link]), "beneficiaries"), admin)
    assert links.status == ImportStatus.APPLIED
    assert Beneficiary.objects.get(project=world.p2).history.get().history_change_reason == links.history_reason

    # Undone in reverse; an allocation whose money a later batch arranged cannot be undone before it.
    with pytest.raises(ValidationError):
        import_batch_rollback(batch=splits, by=admin)
    for batch in (links, payments, lines, splits):
        assert import_batch_rollback(batch=batch, by=admin).status == ImportStatus.ROLLED_BACK
    assert not Allocation.objects.filter(pk=created.pk).exists()
    assert not Payment.objects.filter(funding_id=funded.pk).exists()
    assert not Beneficiary.objects.filter(project=world.p2).exists()


def test_the_funds_excel_page_lists_every_register_with_what_the_role_may_do(world: World, staff: Staff) -> None:
    client = Client()
    client.force_login(staff.village_clerk)
    page = client.get(reverse("fund_sheets")).content.decode()
    assert all(f'data-testid="sheet-{name}"' in page for name in ("allocations", "projects", "collective"))
    assert page.count(reverse("import_upload")) == 2  # collective income only (and the menu)
    upload = client.get(reverse("import_upload")).content.decode()
    assert "村集体经济收入" in upload and "资金下达" in upload.split("下载模板")[1]
    assert 'value="allocations"' not in upload


def test_a_document_shared_by_two_levels_reads_back_each_to_its_own_level(world: World, staff: Staff) -> None:
    rows = rows_by_header(exported(staff.county_admin, "fundings"))
    assert {(row["下达文号"], row["资金级次"]) for row in rows} == {(DOCUMENT, "中央"), ("大财农〔2025〕3号", "中央")}
    rows.append({"项目编号": "XM-A-003", "下达文号": DOCUMENT, "资金级次": "省级", "安排金额（万元）": 1})
    batch = confirm(check(staff.county_admin, sheet("fundings", rows), "fundings"), staff.county_admin)
    assert batch.status == ImportStatus.APPLIED
    assert Funding.objects.get(project=world.p3).allocation == world.provincial


def test_undo_is_refused_when_a_form_has_since_used_what_it_would_take_back(world: World, staff: Staff) -> None:
    admin = staff.township_admin
    rows = rows_by_header(exported(admin, "fundings"))
    raised = [{**row, "安排金额（万元）": 15} for row in rows if row["下达文号"] == "大财农〔2025〕3号"]
    batch = confirm(check(admin, sheet("fundings", raised), "fundings"), admin)
    assert batch.status == ImportStatus.APPLIED, batch.errors
    line = Funding.objects.get(pk=world.line_split.pk)
    services.payment_create(by=admin, funding=line, paid_on=date(2025, 10, 1), amount=Decimal("100000"))
    with pytest.raises(ValidationError, match="撤销后资金安排将超出该笔资金的可安排金额，或少于已支付的金额"):
        import_batch_rollback(batch=batch, by=admin)
    assert Funding.objects.get(pk=line.pk).amount == Decimal("150000.00")


def test_undo_of_links_is_refused_once_their_project_entered_the_library(
    world: World, staff: Staff, tree: Tree
) -> None:
    admin = staff.township_admin
    reserve = services.project_create(
        by=admin,
        code="XM-A-010",
        name="大村村花椒烘干",
        year=2025,
        region=tree.village_a1,
        project_type=world.p1.project_type,
        linkage_mechanism="务工就业",
        on=date(2025, 3, 1),
    )
    batch = confirm(
        check(admin, sheet("beneficiaries", [{"项目编号": "XM-A-010", "户编号": "H-A1-001"}]), "beneficiaries"), admin
    )
    assert batch.status == ImportStatus.APPLIED
    services.project_advance(by=admin, project=reserve, expected_version=reserve.version, on=date(2025, 4, 1))
    with pytest.raises(ValidationError, match="撤销后已入库的产业发展项目将没有受益农户"):
        import_batch_rollback(batch=batch, by=admin)
    assert Beneficiary.objects.filter(project=reserve).count() == 1
