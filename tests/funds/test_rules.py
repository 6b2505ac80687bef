"""The rules of 衔接资金 and collective income, through the services: every gate refused with a clear
Chinese message and nothing half-saved."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from funds import services
from funds.models import (
    Allocation,
    AssetKind,
    Beneficiary,
    CollectiveIncome,
    Funding,
    Payment,
    Project,
    ProjectStatus,
    ProjectStep,
    ReviewStatus,
)
from funds.money import WAN, YUAN, NotWholeFen, from_yuan, to_yuan, wan_text
from funds.selectors.registers import household_find, with_remainder
from households.services import ConcurrentEditError
from regions.models import DataVersion
from tests.conftest import Staff
from tests.factories import Tree, household, member
from tests.funds.conftest import Rows, staff_clerk_b
from tests.funds.factories import allocation, bound_pair, library_project, project_type


def messages(error: pytest.ExceptionInfo[ValidationError]) -> str:
    return "".join(error.value.messages)


def reserve_project(
    staff: Staff, tree: Tree, *, mechanism: str = "务工就业", type_code: str = "industry_base"
) -> Project:
    return services.project_create(
        by=staff.county_admin,
        code=f"R-{Project.objects.count() + 1}",
        name="黑山羊养殖小区",
        year=2025,
        region=tree.village_a1,
        project_type=project_type(type_code),
        linkage_mechanism=mechanism,
        on=date(2025, 2, 1),
    )


# 项目库 gates --------------------------------------------------------------------------------------


def test_an_industry_project_without_a_linkage_mechanism_cannot_enter_the_library(tree: Tree, staff: Staff) -> None:
    project = reserve_project(staff, tree, mechanism="")
    services.project_beneficiaries_add(
        by=staff.county_admin,
        project=project,
        expected_version=project.version,
        households=[household(staff.county_admin, tree.village_a1)],
    )
    version = project.version
    with pytest.raises(ValidationError) as refused:
        services.project_advance(by=staff.county_admin, project=project, expected_version=version, on=date(2025, 3, 1))
    assert "联农带农机制" in messages(refused)
    stored = Project.objects.get(pk=project.pk)
    assert (stored.status, stored.version) == (ProjectStatus.RESERVE, version)
    assert ProjectStep.objects.filter(project=project).count() == 1  # only the 储备 it was entered as


def test_an_industry_project_without_households_cannot_enter_the_library(tree: Tree, staff: Staff) -> None:
    project = reserve_project(staff, tree)
    with pytest.raises(ValidationError) as refused:
        services.project_advance(by=staff.county_admin, project=project, expected_version=1, on=date(2025, 3, 1))
    assert messages(refused) == "产业发展项目须关联受益农户，方可入库"
    assert Project.objects.get(pk=project.pk).status == ProjectStatus.RESERVE


def test_a_project_of_another_type_enters_the_library_without_households(tree: Tree, staff: Staff) -> None:
    project = reserve_project(staff, tree, mechanism="", type_code="rural_construction")
    moved = services.project_advance(by=staff.county_admin, project=project, expected_version=1, on=date(2025, 3, 1))
    assert (moved.status, moved.status_on) == (ProjectStatus.LIBRARY, date(2025, 3, 1))
    step = ProjectStep.objects.filter(project=project).last()
    assert step is not None
    assert (step.from_status, step.to_status, step.on, step.by) == (
        ProjectStatus.RESERVE,
        ProjectStatus.LIBRARY,
        date(2025, 3, 1),
        staff.county_admin,
    )
    history = Project.history.filter(id=project.pk).order_by("-history_id").first()
    assert history is not None and history.history_user == staff.county_admin


def test_a_library_industry_project_keeps_its_mechanism_and_its_last_household(tree: Tree, staff: Staff) -> None:
    target = household(staff.county_admin, tree.village_a1)
    project = library_project(staff.county_admin, tree.village_a1, [target])
    with pytest.raises(ValidationError) as refused:
        services.project_beneficiary_remove(
            by=staff.county_admin, project=project, expected_version=project.version, household=target
        )
    assert "至少保留一户受益农户" in messages(refused)
    assert Beneficiary.objects.filter(project=project).count() == 1
    project = Project.objects.get(pk=project.pk)
    with pytest.raises(ValidationError) as cleared:
        services.project_update(
            by=staff.county_admin,
            project=project,
            expected_version=project.version,
            code=project.code,
            name=project.name,
            year=2025,
            region=project.region,
            project_type=project.project_type,
            linkage_mechanism="  ",
            supported_entities=[],
        )
    assert cleared.value.message_dict == {
        "linkage_mechanism": ["产业发展项目须写明联农带农机制，方可入库（没有联农带农机制的项目不得入库）"]
    }
    assert Project.objects.get(pk=project.pk).linkage_mechanism == "土地流转+务工就业，收益按股分红"


def test_sending_back_needs_a_reason_and_a_funded_project_stays_in_the_library(tree: Tree, staff: Staff) -> None:
    admin = staff.county_admin
    project = library_project(admin, tree.village_a1, [household(admin, tree.village_a1)])
    with pytest.raises(ValidationError) as no_reason:
        services.project_send_back(
            by=admin, project=project, expected_version=project.version, on=date(2025, 4, 1), reason=" "
        )
    assert no_reason.value.message_dict == {"reason": ["退回须填写原因"]}
    project = Project.objects.get(pk=project.pk)
    services.funding_create(
        by=admin, project=project, allocation=allocation(admin, tree.county, "50000"), amount=Decimal("100")
    )
    with pytest.raises(ValidationError) as funded:
        services.project_send_back(
            by=admin, project=project, expected_version=project.version, on=date(2025, 4, 1), reason="材料不全"
        )
    assert "已安排资金，不能退回储备" in messages(funded)
    project = Project.objects.get(pk=project.pk)
    assert project.status == ProjectStatus.LIBRARY
    approved = services.project_advance(
        by=admin, project=project, expected_version=project.version, on=date(2025, 4, 2)
    )
    back = services.project_send_back(
        by=admin, project=approved, expected_version=approved.version, on=date(2025, 4, 3), reason="预算调整"
    )
    assert back.status == ProjectStatus.LIBRARY
    step = ProjectStep.objects.filter(project=project).last()
    assert step is not None and (step.from_status, step.to_status, step.reason) == ("approved", "library", "预算调整")


def test_a_step_is_not_dated_before_the_previous_one_nor_in_the_future(tree: Tree, staff: Staff) -> None:
    project = reserve_project(staff, tree, type_code="employment")
    for day, words in [(date(2025, 1, 31), "不能早于上一步骤的日期（2025-02-01）"), (date(2099, 1, 1), "不能晚于今天")]:
        with pytest.raises(ValidationError) as refused:
            services.project_advance(
                by=staff.county_admin, project=Project.objects.get(pk=project.pk), expected_version=1, on=day
            )
        assert words in messages(refused)
    assert Project.objects.get(pk=project.pk).status == ProjectStatus.RESERVE


def test_only_bound_entities_are_supported_as_shuangbang(tree: Tree, staff: Staff) -> None:
    enterprise, cooperative = bound_pair(tree.county, tree.village_a1)
    from cooperatives.models import Entity, EntityKind

    lone = Entity.objects.create(
        kind=EntityKind.COOPERATIVE, name="未绑定合作社", credit_code="91532326MA6K000018", region=tree.village_a1
    )
    with pytest.raises(ValidationError) as refused:
        services.project_create(
            by=staff.county_admin,
            code="S-1",
            name="烤烟烘烤工场",
            year=2025,
            region=tree.township_a,
            project_type=project_type("industry_processing"),
            linkage_mechanism="订单收购",
            supported_entities=[lone],
        )
    assert "“未绑定合作社”没有企业绑定合作社（双绑）记录" in messages(refused)
    assert not Project.objects.filter(code="S-1").exists()
    project = services.project_create(
        by=staff.county_admin,
        code="S-1",
        name="烤烟烘烤工场",
        year=2025,
        region=tree.township_a,
        project_type=project_type("industry_processing"),
        linkage_mechanism="订单收购",
        supported_entities=[enterprise, cooperative],
    )
    assert set(project.supported_entities.all()) == {enterprise, cooperative}


# Money gates ---------------------------------------------------------------------------------------


def test_only_library_projects_are_funded(tree: Tree, staff: Staff) -> None:
    project = reserve_project(staff, tree)
    source = allocation(staff.county_admin, tree.county, "100000")
    with pytest.raises(ValidationError) as refused:
        services.funding_create(by=staff.county_admin, project=project, allocation=source, amount=Decimal("10"))
    assert messages(refused) == "项目尚未入库，不能安排资金（只有入库项目才能安排衔接资金）"
    assert not Funding.objects.exists()


def test_funding_cannot_exceed_what_is_left_of_the_allocation(tree: Tree, staff: Staff, township_b_rows: Rows) -> None:
    # 1,000,000 − 200,000 split to 湾碧乡 = 800,000 left of the county's central allocation.
    admin = staff.county_admin
    project = library_project(admin, tree.village_a1, [household(admin, tree.village_a1)])
    with pytest.raises(ValidationError) as refused:
        services.funding_create(
            by=admin, project=project, allocation=township_b_rows.central, amount=Decimal("800000.01")
        )
    assert refused.value.message_dict == {"amount": ["安排金额超出该笔资金的剩余可安排金额（剩余 800,000.00 元）"]}
    line = services.funding_create(
        by=admin, project=project, allocation=township_b_rows.central, amount=Decimal("800000")
    )
    left: Any = with_remainder(Allocation.objects.filter(pk=township_b_rows.central.pk)).get()
    assert left.remainder == Decimal("0.00")
    with pytest.raises(ValidationError):
        services.funding_update(by=admin, funding=line, expected_version=line.version, amount=Decimal("800000.01"))
    # The split's own remainder: 200,000 − 100,000 already arranged for the 湾碧村 project.
    with pytest.raises(ValidationError) as split_refused:
        services.funding_update(
            by=admin,
            funding=township_b_rows.funding,
            expected_version=township_b_rows.funding.version,
            amount=Decimal("200000.01"),
        )
    assert split_refused.value.message_dict == {
        "amount": ["安排金额超出该笔资金可安排的金额（最多可安排 200,000.00 元）"]
    }
    assert Funding.objects.get(pk=township_b_rows.funding.pk).amount == Decimal("100000.00")


def test_a_township_split_pays_only_for_projects_in_that_township(
    tree: Tree, staff: Staff, township_b_rows: Rows
) -> None:
    admin = staff.county_admin
    project = library_project(admin, tree.village_a1, [household(admin, tree.village_a1)])
    with pytest.raises(ValidationError) as refused:
        services.funding_create(by=admin, project=project, allocation=township_b_rows.split_b, amount=Decimal("1"))
    assert refused.value.message_dict == {"allocation": ["该笔资金下达到湾碧乡，不能安排给大村村的项目"]}
    # Township A's administrator cannot even name the county's allocation.
    own = library_project(staff.township_admin, tree.village_a1, [household(admin, tree.village_a1)])
    with pytest.raises(PermissionDenied):
        services.funding_create(
            by=staff.township_admin, project=own, allocation=township_b_rows.central, amount=Decimal("1")
        )


def test_an_allocation_is_not_reduced_below_its_splits_and_funding_lines(
    tree: Tree, staff: Staff, township_b_rows: Rows
) -> None:
    central, split = township_b_rows.central, township_b_rows.split_b
    fields: dict[str, Any] = {
        "year": 2025,
        "level": central.level,
        "document_number": central.document_number,
        "issued_on": central.issued_on,
        "note": "",
    }
    with pytest.raises(ValidationError) as refused:
        services.allocation_update(
            by=staff.county_admin,
            allocation=central,
            expected_version=central.version,
            amount=Decimal("199999.99"),
            **fields,
        )
    assert refused.value.message_dict == {"amount": ["金额不能少于已分配到乡镇和已安排到项目的 200,000.00 元"]}
    split_fields = {**fields, "document_number": split.document_number, "issued_on": split.issued_on}
    with pytest.raises(ValidationError) as split_refused:
        services.allocation_update(
            by=staff.county_admin,
            allocation=split,
            expected_version=split.version,
            amount=Decimal("99999"),
            **split_fields,
        )
    assert "100,000.00 元" in messages(split_refused)
    with pytest.raises(ValidationError) as over_parent:
        services.allocation_update(
            by=staff.county_admin,
            allocation=split,
            expected_version=split.version,
            amount=Decimal("1000000.01"),
            **split_fields,
        )
    assert over_parent.value.message_dict == {
        "amount": ["分配金额超出县级资金的剩余可分配金额（剩余 1,000,000.00 元）"]
    }
    with pytest.raises(ValidationError) as level_changed:
        services.allocation_update(
            by=staff.county_admin,
            allocation=central,
            expected_version=central.version,
            amount=central.amount,
            **{**fields, "level": "provincial"},
        )
    assert "不能修改年度或级次" in messages(level_changed)
    with pytest.raises(ValidationError) as delete_refused:
        services.allocation_delete(by=staff.county_admin, allocation=central, expected_version=central.version)
    assert "请先删除分配记录" in messages(delete_refused)
    assert Allocation.objects.get(pk=central.pk).amount == Decimal("1000000.00")
    assert Allocation.objects.get(pk=split.pk).amount == Decimal("200000.00")
    grown = services.allocation_update(
        by=staff.county_admin,
        allocation=split,
        expected_version=split.version,
        amount=Decimal("1000000"),
        **split_fields,
    )
    assert grown.amount == Decimal("1000000")


def test_a_split_cannot_exceed_the_county_allocation_nor_be_split_again(
    tree: Tree, staff: Staff, township_b_rows: Rows
) -> None:
    with pytest.raises(ValidationError) as refused:
        services.allocation_split(
            by=staff.county_admin,
            parent=township_b_rows.central,
            township=tree.township_a,
            amount=Decimal("800000.01"),
            document_number="大财农〔2025〕9号",
            issued_on=date(2025, 3, 6),
        )
    assert "剩余 800,000.00 元" in messages(refused)
    with pytest.raises(ValidationError) as again:
        services.allocation_split(
            by=staff.county_admin,
            parent=township_b_rows.split_b,
            township=tree.township_b,
            amount=Decimal("1"),
            document_number="大财农〔2025〕10号",
            issued_on=date(2025, 3, 6),
        )
    assert "已分配到乡镇的资金不能再分配" in messages(again)
    assert Allocation.objects.count() == 2


def test_a_payment_cannot_exceed_its_funding_line_which_cannot_shrink_below_what_was_paid(
    tree: Tree, staff: Staff, township_b_rows: Rows
) -> None:
    admin, line = staff.other_township_admin, township_b_rows.funding
    with pytest.raises(ValidationError) as refused:
        services.payment_create(by=admin, funding=line, paid_on=date(2025, 7, 1), amount=Decimal("60000.01"))
    assert refused.value.message_dict == {"amount": ["支付金额超出该项资金安排的未支付金额（未支付 60,000.00 元）"]}
    with pytest.raises(ValidationError) as shrink:
        services.funding_update(by=admin, funding=line, expected_version=line.version, amount=Decimal("39999.99"))
    assert shrink.value.message_dict == {"amount": ["安排金额不能少于已支付的 40,000.00 元"]}
    with pytest.raises(ValidationError) as undo:
        services.funding_delete(by=admin, funding=line, expected_version=line.version)
    assert "已有支付记录" in messages(undo)
    with pytest.raises(ValidationError) as future:
        services.payment_create(by=admin, funding=line, paid_on=date(2099, 1, 1), amount=Decimal("1"))
    assert future.value.message_dict == {"paid_on": ["支付日期不能晚于今天"]}
    assert Payment.objects.count() == 1 and Funding.objects.get().amount == Decimal("100000.00")


def test_stale_pages_are_refused(tree: Tree, staff: Staff, township_b_rows: Rows) -> None:
    project = township_b_rows.project
    services.project_advance(
        by=staff.county_admin,
        project=Project.objects.get(pk=project.pk),
        expected_version=project.version,
        on=date(2025, 4, 1),
    )
    with pytest.raises(ConcurrentEditError):
        services.project_advance(
            by=staff.county_admin,
            project=Project.objects.get(pk=project.pk),
            expected_version=project.version,
            on=date(2025, 4, 1),
        )
    assert Project.objects.get(pk=project.pk).status == ProjectStatus.APPROVED
    payment = township_b_rows.payment
    services.payment_update(
        by=staff.county_admin,
        payment=Payment.objects.get(pk=payment.pk),
        expected_version=1,
        paid_on=payment.paid_on,
        amount=Decimal("1"),
        voucher="",
    )
    with pytest.raises(ConcurrentEditError):
        services.payment_update(
            by=staff.county_admin,
            payment=Payment.objects.get(pk=payment.pk),
            expected_version=1,
            paid_on=payment.paid_on,
            amount=Decimal("2"),
            voucher="",
        )
    assert Payment.objects.get().amount == Decimal("1.00")


def test_writes_bump_the_countys_data_version(tree: Tree, staff: Staff) -> None:
    before = DataVersion.objects.filter(county=tree.county).values_list("version", flat=True).first() or 0
    allocation(staff.county_admin, tree.county, "10")
    assert DataVersion.objects.get(county=tree.county).version == before + 1


# Beneficiaries --------------------------------------------------------------------------------------


def test_households_are_found_by_number_or_a_members_id_number_only_inside_the_users_area(
    tree: Tree, staff: Staff
) -> None:
    head = member(birth="19700303")
    own = household(staff.village_clerk, tree.village_a1, number="A-001", members=[head])
    other_head = member(birth="19710404")
    household(staff.other_township_admin, tree.village_b1, number="B-001", members=[other_head])
    found, missing = household_find(
        user=staff.township_admin, keys=["A-001", "B-001", other_head.id_number, head.id_number.lower(), "  "]
    )
    assert found == [own]
    assert missing == ["B-001", other_head.id_number]
    # Roles that may not see 身份证号 cannot search by one.
    assert household_find(user=staff.county_viewer, keys=[head.id_number]) == ([], [head.id_number])


def test_a_cancelled_or_foreign_household_is_not_linked(tree: Tree, staff: Staff) -> None:
    project = reserve_project(staff, tree)
    foreign = household(staff.other_township_admin, tree.village_b1)
    with pytest.raises(PermissionDenied):
        services.project_beneficiaries_add(
            by=staff.township_admin,
            project=Project.objects.get(pk=project.pk),
            expected_version=1,
            households=[foreign],
        )
    assert not Beneficiary.objects.exists()


# 项目资产 ------------------------------------------------------------------------------------------


def test_an_assets_owner_matches_its_kind(tree: Tree, staff: Staff, township_b_rows: Rows) -> None:
    with pytest.raises(ValidationError) as refused:
        services.asset_create(
            by=staff.county_admin,
            project=township_b_rows.project,
            kind=AssetKind.HOUSEHOLD,
            name="能繁母牛",
            value=Decimal("8000"),
            owner_village=tree.village_b1,
        )
    assert refused.value.message_dict["owner_village"] == ["到户类资产的所有权人应为农户"]
    with pytest.raises(PermissionDenied):
        services.asset_create(
            by=staff.township_admin,
            project=township_b_rows.project,
            kind=AssetKind.PUBLIC,
            name="产业路",
            value=Decimal("1"),
        )


# 村集体经济 --------------------------------------------------------------------------------------


def test_a_clerk_enters_and_submits_and_the_township_approves_or_returns(
    tree: Tree, staff: Staff, township_b_rows: Rows
) -> None:
    clerk, reviewer = staff_clerk_b(tree), staff.other_township_admin
    income = township_b_rows.income
    income = services.collective_income_save(
        by=clerk,
        village=tree.village_b1,
        year=2025,
        quarter=1,
        expected_version=income.version,
        amounts={
            "business_income": Decimal("30000"),
            "asset_income": Decimal("25000"),
            "subsidy_income": Decimal("9000"),
        },
    )
    assert (income.operating_income, income.total_income) == (Decimal("55000.00"), Decimal("64000.00"))
    with pytest.raises(ValidationError) as not_submitted:
        services.collective_income_approve(by=reviewer, income=income, expected_version=income.version)
    assert "只有已提交的收入可以审核" in messages(not_submitted)
    income = services.collective_income_submit(by=clerk, income=income, expected_version=income.version)
    with pytest.raises(ValidationError) as locked:
        services.collective_income_save(
            by=clerk,
            village=tree.village_b1,
            year=2025,
            quarter=1,
            expected_version=income.version,
            amounts={"other_income": Decimal("1")},
        )
    assert "已提交，不能修改" in messages(locked)
    with pytest.raises(ValidationError) as no_note:
        services.collective_income_return(by=reviewer, income=income, expected_version=income.version, note="")
    assert no_note.value.message_dict == {"review_note": ["退回须填写审核意见"]}
    with pytest.raises(PermissionDenied):
        services.collective_income_approve(by=clerk, income=income, expected_version=income.version)
    with pytest.raises(PermissionDenied):
        services.collective_income_approve(by=staff.township_admin, income=income, expected_version=income.version)
    income = services.collective_income_return(
        by=reviewer, income=income, expected_version=income.version, note="投资收益漏填"
    )
    assert (income.review_status, income.review_note) == (ReviewStatus.RETURNED, "投资收益漏填")
    income = services.collective_income_save(
        by=clerk,
        village=tree.village_b1,
        year=2025,
        quarter=1,
        expected_version=income.version,
        amounts={"investment_income": Decimal("5000")},
    )
    income = services.collective_income_submit(by=clerk, income=income, expected_version=income.version)
    income = services.collective_income_approve(by=reviewer, income=income, expected_version=income.version)
    stored = CollectiveIncome.objects.get(pk=income.pk)
    assert (stored.review_status, stored.review_note, stored.operating_income) == (
        ReviewStatus.APPROVED,
        "",
        Decimal("60000.00"),
    )


def test_a_clerk_enters_only_their_own_village_and_no_quarter_yet_to_come(tree: Tree, staff: Staff) -> None:
    with pytest.raises(PermissionDenied):
        services.collective_income_save(
            by=staff.village_clerk, village=tree.village_a2, year=2025, quarter=1, amounts={}
        )
    with pytest.raises(ValidationError) as future:
        services.collective_income_save(
            by=staff.village_clerk, village=tree.village_a1, year=2099, quarter=1, amounts={}
        )
    assert future.value.message_dict == {"quarter": ["2099年第1季度尚未开始，不能填报"]}
    with pytest.raises(PermissionDenied):
        services.collective_income_save(
            by=staff.township_admin, village=tree.village_a1, year=2025, quarter=1, amounts={}
        )
    assert not CollectiveIncome.objects.exists()


# 万元 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "unit", "yuan"),
    [
        ("1.2345", WAN, "12345.00"),
        ("0.000001", WAN, "0.01"),
        ("123.456789", WAN, "1234567.89"),
        ("99999999.999999", WAN, "999999999999.99"),
        ("12345.6", YUAN, "12345.60"),
        ("3", WAN, "30000.00"),
    ],
)
def test_wan_converts_to_yuan_exactly(typed: str, unit: str, yuan: str) -> None:
    converted = to_yuan(Decimal(typed), unit)
    assert converted == Decimal(yuan) and str(converted) == yuan
    assert from_yuan(converted, unit) == Decimal(typed)


@pytest.mark.parametrize(("typed", "unit"), [("1.2345678", WAN), ("0.0000001", WAN), ("12.345", YUAN)])
def test_amounts_finer_than_a_fen_are_refused_not_rounded(typed: str, unit: str) -> None:
    with pytest.raises(NotWholeFen):
        to_yuan(Decimal(typed), unit)


def test_wan_text_reads_exactly() -> None:
    assert wan_text(Decimal("12345.00")) == "1.2345"
    assert wan_text(Decimal("1234567.89")) == "123.456789"
    assert wan_text(Decimal("100000000.00")) == "10,000"


def test_a_refused_write_leaves_the_rows_it_was_given_as_they_were(
    tree: Tree, staff: Staff, township_b_rows: Rows
) -> None:
    project = Project.objects.get(pk=township_b_rows.project.pk)
    before = (project.version, project.linkage_mechanism, project.name)
    with pytest.raises(ValidationError):
        services.project_update(
            by=staff.county_admin,
            project=project,
            expected_version=project.version,
            code=project.code,
            name="改名",
            year=2025,
            region=project.region,
            project_type=project.project_type,
            linkage_mechanism="",
            supported_entities=[],
        )
    assert (project.version, project.linkage_mechanism, project.name) == before
    # So the same objects can be saved again at once.
    services.project_update(
        by=staff.county_admin,
        project=project,
        expected_version=project.version,
        code=project.code,
        name="改名",
        year=2025,
        region=project.region,
        project_type=project.project_type,
        linkage_mechanism="务工就业",
        supported_entities=[],
    )
    assert Project.objects.get(pk=project.pk).name == "改名"


@pytest.mark.parametrize(("typed", "unit"), [("1e30", WAN), ("1e999999", WAN), ("1e999999", YUAN), ("1e15", YUAN)])
def test_an_amount_typed_far_too_large_reads_too_large_on_the_form_and_in_a_sheet(typed: str, unit: str) -> None:
    from funds.forms import PaymentForm
    from funds.sheets.base import amount
    from workbooks.cells import CellError

    form = PaymentForm(data={"paid_on": "2025-03-01", "amount": typed, "unit": unit, "voucher": ""})
    assert not form.is_valid()
    assert form.errors["amount"] == ["支付金额数值过大"]
    column = amount("amount", "金额（万元）" if unit == WAN else "金额（元）", "amount", unit)
    with pytest.raises(CellError, match="数值过大"):
        column.parse(1e300 if "999999" in typed else float(typed))


def test_a_payment_dated_before_its_allocation_was_issued_is_refused(staff: Staff, township_b_rows: Rows) -> None:
    admin, funding = staff.other_township_admin, township_b_rows.funding
    with pytest.raises(ValidationError) as refused:
        services.payment_create(by=admin, funding=funding, paid_on=date(2025, 3, 4), amount=Decimal("1.00"))
    assert refused.value.message_dict == {"paid_on": ["支付日期不能早于资金下达日期（2025-03-05）"]}
    payment = township_b_rows.payment
    with pytest.raises(ValidationError):
        services.payment_update(
            by=admin,
            payment=payment,
            expected_version=payment.version,
            paid_on=date(2025, 1, 1),
            amount=payment.amount,
            voucher="",
        )
    assert Payment.objects.filter(paid_on__lt=date(2025, 3, 5)).count() == 0
    services.payment_create(by=admin, funding=funding, paid_on=date(2025, 3, 5), amount=Decimal("1.00"))


def test_an_allocation_cannot_be_moved_to_a_date_after_a_payment_it_made(staff: Staff, township_b_rows: Rows) -> None:
    split = township_b_rows.split_b  # its line paid on 2025-06-01
    fields: dict[str, Any] = {
        "year": split.year,
        "level": split.level,
        "document_number": split.document_number,
        "amount": split.amount,
        "note": split.note,
    }
    with pytest.raises(ValidationError) as refused:
        services.allocation_update(
            by=staff.county_admin,
            allocation=split,
            expected_version=split.version,
            issued_on=date(2025, 6, 2),
            **fields,
        )
    assert refused.value.message_dict == {"issued_on": ["已有2025-06-01的支付，下达日期不能晚于该日"]}
    split.refresh_from_db()
    assert split.issued_on == date(2025, 3, 5)
    services.allocation_update(
        by=staff.county_admin, allocation=split, expected_version=split.version, issued_on=date(2025, 6, 1), **fields
    )
