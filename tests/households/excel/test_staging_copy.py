"""The staged rows are written while the planner works (one open COPY on PostgreSQL): all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from households.models import Household
from households.sheets import RosterSheet
from tests.conftest import Staff
from tests.factories import Tree, household
from tests.households.excel.test_import import check
from tests.households.excel.test_staging import roster, snapshot
from workbooks import staging
from workbooks.batches import import_batch_check, import_batch_create, import_batch_recheck
from workbooks.models import ImportStatus, StagedAction, StagedRow
from workbooks.staging import Stager


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def stage_checks(stager: Stager, count: int, *, parent_key: str = "") -> None:
    for number in range(count):
        stager.add(
            phase=0,
            model=Household,
            action=StagedAction.CHECK,
            object_id=number,
            version=1,
            row=number,
            parent_key=parent_key,
        )


def test_rows_staged_around_the_planners_own_queries_are_all_written(tree: Tree, staff: Staff) -> None:
    batch = import_batch_create(by=staff.village_clerk, kind="roster", upload=SimpleUploadedFile("a.xlsx", b"x"))
    with transaction.atomic(), Stager(batch.pk) as stager:
        stage_checks(stager, 3 * staging.STREAM_ROWS + 7)
        # A query while rows are on their way: the planner reads the registry between households.
        assert Household.objects.count() == 0
        stage_checks(stager, staging.STREAM_ROWS - 1)
    seqs = list(StagedRow.objects.filter(batch=batch).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 4 * staging.STREAM_ROWS + 7))


def test_a_planner_failing_after_rows_were_staged_ends_the_check_failed_with_nothing_staged(
    tree: Tree, staff: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001")
    before = snapshot()
    original = RosterSheet.stage

    def failing(self: RosterSheet, **kwargs: Any) -> Any:
        original(self, **kwargs)
        stage_checks(kwargs["stager"], 3 * staging.STREAM_ROWS)
        raise RuntimeError("the planner broke half-way")

    monkeypatch.setattr(RosterSheet, "stage", failing)
    batch = check(staff.village_clerk, roster(tree, existing))
    assert batch.status == ImportStatus.FAILED
    assert batch.refusal == "校验时发生意外错误，未写入任何数据，请重新上传或联系系统管理员。"
    assert not StagedRow.objects.filter(batch=batch).exists()
    assert snapshot() == before
    # Nothing is left waiting: checked again, the same file previews as it should.
    monkeypatch.undo()
    import_batch_recheck(batch=batch, by=staff.village_clerk)
    batch = import_batch_check(batch_id=batch.pk)
    assert batch.status == ImportStatus.READY, (batch.refusal, batch.errors)
    assert StagedRow.objects.filter(batch=batch).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite does not enforce a column's length")
@pytest.mark.parametrize("query_after", [True, False], ids=["refused-at-the-next-query", "refused-at-the-end"])
def test_a_row_the_database_refuses_during_the_copy_ends_the_check_failed_with_nothing_staged(
    tree: Tree, staff: Staff, monkeypatch: pytest.MonkeyPatch, query_after: bool
) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001")
    before = snapshot()
    original = RosterSheet.stage

    def refused(self: RosterSheet, **kwargs: Any) -> Any:
        plan = original(self, **kwargs)
        stager = kwargs["stager"]
        stage_checks(stager, staging.STREAM_ROWS)
        # parent_key is varchar(64): the server refuses this row while the planner goes on.
        stage_checks(stager, 1, parent_key="户" * 65)
        stage_checks(stager, 2 * staging.STREAM_ROWS)
        if query_after:
            Household.objects.count()
        return plan

    monkeypatch.setattr(RosterSheet, "stage", refused)
    batch = check(staff.village_clerk, roster(tree, existing))
    assert batch.status == ImportStatus.FAILED
    assert batch.refusal == "校验时数据库出错，未写入任何数据，请重新上传。"
    assert not StagedRow.objects.filter(batch=batch).exists()
    assert snapshot() == before
