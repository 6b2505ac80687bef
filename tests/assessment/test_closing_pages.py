"""The 季度关账 page and its buttons, and a locked quarter seen from the income form and the import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from assessment.closing import quarter_approve, quarter_lock, quarter_submit
from assessment.closing_models import CloseAction, QuarterCloseEvent, QuarterSubmission, SubmissionStatus
from figures.periods import Quarter
from households.closing import ClosedQuarter
from households.models import Household, IncomeRecord
from regions.models import User
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household, income
from tests.households.excel.test_import import check, confirm, income_workbook
from workbooks.batches import import_batch_rollback
from workbooks.models import ImportStatus

Q3 = Quarter(2025, 3)
CLOSED = "2025年第3季度已关账，不能修改收入；如需修改请联系县级管理员重新开账"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def client_for(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def recorded(tree: Tree, staff: Staff, number: str = "H001") -> Household:
    target = household(staff.village_clerk, tree.village_a1, number=number)
    income(staff.village_clerk, target, "2025Q3", wages_migrant_work="6000")
    return target


def lock(tree: Tree, staff: Staff) -> None:
    quarter_submit(village=tree.village_a1, period=Q3, by=staff.village_clerk)
    quarter_approve(village=tree.village_a1, period=Q3, by=staff.township_admin)
    assert quarter_lock(county=tree.county, period=Q3, by=staff.county_admin)


def url(name: str, region_pk: int) -> str:
    return reverse(name, args=[region_pk, "2025Q3"])


def test_the_page_shows_every_village_in_scope_with_its_counts(tree: Tree, staff: Staff) -> None:
    recorded(tree, staff)
    household(staff.village_clerk, tree.village_a1, number="H002")
    page = client_for(staff.county_admin).get(reverse("close_board"), {"quarter": "2025Q3"}).content.decode()
    assert "季度关账 · 2025年第3季度" in page
    for name in ("大村村", "石丫村", "湾碧村"):
        assert name in page
    assert "锁定本县本季度" in page and "有在册农户的村 1 个，已审核通过 0 个" in page
    township_page = client_for(staff.township_admin).get(reverse("close_board"), {"quarter": "2025Q3"})
    assert "湾碧村" not in township_page.content.decode()
    clerk_page = client_for(staff.village_clerk).get(reverse("close_board"), {"quarter": "2025Q3"}).content.decode()
    assert "石丫村" not in clerk_page and "提交" in clerk_page and "尚有未录入或疑点" in clerk_page


def test_the_page_runs_a_fixed_number_of_queries(tree: Tree, staff: Staff, django_assert_max_num_queries: Any) -> None:
    recorded(tree, staff)
    for number in range(5):
        household(staff.other_village_clerk, tree.village_a2, number=f"H2{number}")
    client = client_for(staff.county_admin)
    with django_assert_max_num_queries(20):
        client.get(reverse("close_board"), {"quarter": "2025Q3"})


def test_the_buttons_walk_the_workflow_and_a_refusal_lists_the_households(tree: Tree, staff: Staff) -> None:
    recorded(tree, staff)
    late = household(staff.village_clerk, tree.village_a1, number="H002")
    clerk, township, county = (
        client_for(user) for user in (staff.village_clerk, staff.township_admin, staff.county_admin)
    )
    refused = clerk.post(url("close_submit", tree.village_a1.pk), follow=True).content.decode()
    assert "不能提交：1户未录入2025年第3季度收入：H002 张三" in refused
    income(staff.village_clerk, late, "2025Q3", wages_other="10")

    assert (
        "已提交大村村2025年第3季度" in clerk.post(url("close_submit", tree.village_a1.pk), follow=True).content.decode()
    )
    again = clerk.post(url("close_submit", tree.village_a1.pk), follow=True).content.decode()
    assert "未重复操作" in again
    returned = township.post(url("close_return", tree.village_a1.pk), {"reason": "请核实H001"}, follow=True)
    assert "退回理由：请核实H001" in returned.content.decode()
    clerk.post(url("close_submit", tree.village_a1.pk))
    township.post(url("close_approve", tree.village_a1.pk))
    assert QuarterSubmission.objects.get().status == SubmissionStatus.APPROVED

    locked = county.post(url("close_lock", tree.county.pk), follow=True).content.decode()
    assert "大姚县2025年第3季度已关账" in locked
    assert ClosedQuarter.objects.exists()
    no_reason = county.post(url("close_reopen", tree.county.pk), {"reason": " "}, follow=True).content.decode()
    assert "重新开账须填写理由" in no_reason and ClosedQuarter.objects.exists()
    reopened = county.post(url("close_reopen", tree.county.pk), {"reason": "更正H002收入"}, follow=True)
    assert "更正H002收入" in reopened.content.decode()
    assert not ClosedQuarter.objects.exists()
    assert QuarterCloseEvent.objects.filter(action=CloseAction.REOPENED, acted_by=staff.county_admin).exists()


def test_a_quarter_of_year_zero_is_not_found_rather_than_an_error_page(tree: Tree, staff: Staff) -> None:
    recorded(tree, staff)
    clerk = client_for(staff.village_clerk)

    response = clerk.post(reverse("close_submit", args=[tree.village_a1.pk, "0000Q1"]))

    assert response.status_code == 404


@pytest.mark.parametrize("version", ["²", "99999999999999999999999"])
def test_a_tampered_version_is_a_stale_click_not_an_error_page(tree: Tree, staff: Staff, version: str) -> None:
    recorded(tree, staff)
    clerk = client_for(staff.village_clerk)

    response = clerk.post(url("close_submit", tree.village_a1.pk), {"version": version}, follow=True)

    assert response.status_code == 200
    assert "未重复操作" in response.content.decode()
    assert not QuarterSubmission.objects.filter(status=SubmissionStatus.SUBMITTED).exists()


def test_a_clerk_cannot_reach_another_village_by_id(tree: Tree, staff: Staff) -> None:
    other = household(staff.other_village_clerk, tree.village_a2, number="H200")
    income(staff.other_village_clerk, other, "2025Q3", wages_other="1")
    clerk = client_for(staff.village_clerk)
    assert clerk.post(url("close_submit", tree.village_a2.pk)).status_code == 404
    assert client_for(staff.other_township_admin).post(url("close_approve", tree.village_a2.pk)).status_code == 404
    assert client_for(staff.township_admin).post(url("close_lock", tree.county.pk)).status_code == 404
    assert clerk.post(url("close_submit", tree.township_a.pk)).status_code == 404  # not a village
    assert client_for(staff.county_viewer).post(url("close_lock", tree.county.pk)).status_code == 403
    assert not QuarterSubmission.objects.filter(status=SubmissionStatus.SUBMITTED).exists()


def test_the_income_form_refuses_an_edit_of_a_locked_quarter(tree: Tree, staff: Staff) -> None:
    target = recorded(tree, staff)
    lock(tree, staff)
    record = IncomeRecord.objects.get(household=target)
    response = client_for(staff.village_clerk).post(
        reverse("income_edit", args=[target.pk, "2025Q3"]),
        {"wages_migrant_work": "9000", "version": record.version},
    )
    assert CLOSED in response.content.decode()
    assert IncomeRecord.objects.get(pk=record.pk).wages_migrant_work == 6000
    voided = client_for(staff.village_clerk).post(
        reverse("income_void", args=[target.pk, "2025Q3"]), {"reason": "录错", "version": record.version}, follow=True
    )
    assert CLOSED in voided.content.decode()
    assert IncomeRecord.objects.filter(pk=record.pk).exists()


def test_an_income_import_into_a_locked_quarter_names_the_row_and_the_quarter(tree: Tree, staff: Staff) -> None:
    recorded(tree, staff, "H001")
    lock(tree, staff)
    content = income_workbook(
        [
            ["H001", "张三", 2025, 3, 9000, 0, 0, 0, None],  # a change to the locked quarter
            ["H001", "张三", 2025, 4, 100, 0, 0, 0, None],  # the next quarter is open
        ]
    )
    batch = check(staff.village_clerk, content, kind="income", name="收入.xlsx")
    assert batch.status == ImportStatus.INVALID
    assert [(error["row"], error["column"], error["message"]) for error in batch.errors] == [(3, "季度", CLOSED)]


def test_an_unchanged_locked_quarter_in_a_reimported_file_is_no_error(tree: Tree, staff: Staff) -> None:
    recorded(tree, staff, "H001")
    lock(tree, staff)
    content = income_workbook([["H001", "张三", 2025, 3, 6000, 0, 0, 0, None]])
    batch = check(staff.village_clerk, content, kind="income", name="收入.xlsx")
    assert batch.status == ImportStatus.UNCHANGED, batch.errors


def test_an_import_previewed_before_the_lock_is_not_written(tree: Tree, staff: Staff) -> None:
    target = recorded(tree, staff, "H001")
    batch = check(staff.village_clerk, income_workbook([["H001", "张三", 2025, 3, 9000, 0, 0, 0, None]]), kind="income")
    assert batch.status == ImportStatus.READY, batch.errors
    lock(tree, staff)
    assert confirm(batch, staff.village_clerk).status == ImportStatus.EXPIRED
    assert IncomeRecord.objects.get(household=target).wages_migrant_work == 6000


def test_an_import_cannot_be_undone_once_its_quarter_is_locked(tree: Tree, staff: Staff) -> None:
    target = household(staff.village_clerk, tree.village_a1, number="H001")
    batch = check(staff.village_clerk, income_workbook([["H001", "张三", 2025, 3, 9000, 0, 0, 0, None]]), kind="income")
    applied = confirm(batch, staff.village_clerk)
    assert applied.status == ImportStatus.APPLIED
    lock(tree, staff)
    with pytest.raises(ValidationError, match="2025年第3季度已关账，不能撤销本批次导入"):
        import_batch_rollback(batch=applied, by=staff.village_clerk)
    assert IncomeRecord.objects.filter(household=target).exists()


def test_a_locked_quarter_is_shown_frozen_not_stale_after_later_changes(tree: Tree, staff: Staff) -> None:
    from assessment.engine import indicators_compute

    recorded(tree, staff)
    indicators_compute(scope=tree.county, period=Q3)
    lock(tree, staff)
    household(staff.village_clerk, tree.village_a1, number="H002")  # newer data: the county's version moves on
    client = client_for(staff.county_admin)
    query = {"region": tree.county.code, "period": "2025Q3"}

    listed = client.get(reverse("assessment_indicators"), query).content.decode()
    page = client.get(reverse("assessment_indicator", args=["entry_progress"]), query).content.decode()

    assert 'data-testid="stale"' not in listed
    assert 'data-testid="stale"' not in page
    assert 'data-testid="frozen"' in page


def test_the_board_narrowed_to_a_township_and_a_state_lists_only_those_villages(tree: Tree, staff: Staff) -> None:
    recorded(tree, staff)
    quarter_submit(village=tree.village_a1, period=Q3, by=staff.village_clerk)
    client = client_for(staff.county_admin)
    board = reverse("close_board")
    submitted = client.get(
        board, {"quarter": "2025Q3", "region": tree.township_a.code, "status": SubmissionStatus.SUBMITTED}
    ).content.decode()
    assert f'data-testid="village-{tree.village_a1.code}"' in submitted
    assert f'data-testid="village-{tree.village_a2.code}"' not in submitted
    assert "仅列出金碧镇状态为“已提交”的村（1 个）" in submitted
    filling = client.get(board, {"quarter": "2025Q3", "region": tree.township_a.code, "status": "filling"}).content
    assert f'data-testid="village-{tree.village_a2.code}"'.encode() in filling
    assert f'data-testid="village-{tree.village_a1.code}"'.encode() not in filling
    assert f'data-testid="village-{tree.village_b1.code}"'.encode() not in filling
    # An unknown state lists everything; a region beside the user's is 404, as everywhere.
    every = client.get(board, {"quarter": "2025Q3", "status": "nope"}).content
    assert f'data-testid="village-{tree.village_b1.code}"'.encode() in every
    beside = client_for(staff.township_admin).get(board, {"quarter": "2025Q3", "region": tree.township_b.code})
    assert beside.status_code == 404
