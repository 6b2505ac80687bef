"""The staged confirmation: writes exactly what was previewed, refuses when anything it read moved, never twice."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import DataError, connection, connections

from households.models import Household, Member, MonitoringCase, RiskType
from households.services import household_update
from tests.conftest import Staff
from tests.factories import Tree, household, id_number
from tests.households.excel.test_import import check, confirm, workbook
from workbooks import batches, staging
from workbooks.batches import AlreadyClaimed, import_batch_claim, import_batch_confirm
from workbooks.models import ImportBatch, ImportStatus, StagedRow

HEADER = [
    "区划代码",
    "户编号",
    "户类型",
    "脱贫年度",
    "联系电话",
    "监测对象类别",
    "识别时间",
    "风险类型1",
    "成员姓名",
    "身份证号",
    "与户主关系",
    "劳动技能",
    "务工地点",
    "务工月数",
]
MEMBERS_HEADER = [
    "区划代码",
    "户编号",
    "户类型",
    "脱贫年度",
    "联系电话",
    "成员姓名",
    "身份证号",
    "与户主关系",
    "劳动技能",
]


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def roster(tree: Tree, existing: Household) -> bytes:
    code = tree.village_a1.code
    illness = RiskType.objects.get(code="illness").name
    head = existing.members.get(relation="head")
    new = [code, "N001", "脱贫户", 2019, "13800000001", "脱贫不稳定户", "2024-05", illness]
    known = [code, existing.number, "脱贫户", 2019, "13900000009", "", "", ""]
    rows = [
        # A new household with an open case; a backslash must survive the staging table.
        [*new, "张三", id_number("19700101"), "户主", "普通劳动力", "广东\\N东莞", 6],
        [*new, "张三甲", id_number("19720202"), "配偶", "普通劳动力", "", 0],
        # The existing household: a new phone, its head now works away, and a new member.
        [*known, head.name, head.id_number, "户主", "普通劳动力", "昆明", 10],
        [*known, "新成员", id_number("20100303"), "之子", "无劳动力", "", 0],
    ]
    return workbook(rows, header=HEADER)


def snapshot() -> dict[str, Any]:
    """Every row of the tables an import writes, history included, as the database holds them."""
    tables: list[Any] = [Household, Member, MonitoringCase, MonitoringCase.risk_types.through]
    tables += [model.history.model for model in (Household, Member, MonitoringCase)]
    return {model._meta.db_table: sorted(map(repr, model.objects.order_by().values_list())) for model in tables}


def test_the_preview_stages_rows_with_versions_and_keeps_no_side_files(tree: Tree, staff: Staff) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001", phone="13700000000")
    batch = check(staff.village_clerk, roster(tree, existing))
    assert batch.status == ImportStatus.READY, batch.errors
    staged = {(row.target, row.action): row for row in StagedRow.objects.filter(batch=batch)}
    assert staged["households.household", "update"].version == existing.version
    assert (staged["households.household", "update"].before or {})["phone"] == "13700000000"
    assert ("households.member", "create") in staged and ("households.monitoringcase", "create") in staged
    assert sorted(p.name for p in Path(batch.file.path).parent.iterdir()) == [Path(batch.file.path).name]


def test_the_confirmation_writes_what_was_staged_and_undo_restores_every_table(tree: Tree, staff: Staff) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001", phone="13700000000")
    batch = check(staff.village_clerk, roster(tree, existing))
    assert confirm(batch, staff.village_clerk).status == ImportStatus.APPLIED
    head = Member.objects.get(household__number="N001", relation="head")
    assert head.work_place == "广东\\N东莞" and head.birth_date.isoformat() == "1970-01-01"
    new = Household.objects.get(number="N001")
    assert new.uuid and new.village == tree.village_a1 and new.version == 1
    case = MonitoringCase.objects.get(household=new)
    assert [r.code for r in case.risk_types.all()] == ["illness"]
    updated = Household.objects.get(number="E001")
    assert (updated.phone, updated.version) == ("13900000009", existing.version + 1)
    assert Member.objects.get(household=updated, relation="head").work_place == "昆明"
    history = Member.history.filter(import_batch_id=batch.pk)
    assert history.count() == 4  # three new members, one updated
    assert {row.history_change_reason for row in history} == {batch.history_reason}

    before_undo = Household.objects.get(number="E001").version
    batches.import_batch_rollback(batch=ImportBatch.objects.get(pk=batch.pk), by=staff.village_clerk)
    assert not Household.objects.filter(number="N001").exists()
    assert not MonitoringCase.objects.filter(household__number="N001").exists()
    restored = Household.objects.get(number="E001")
    assert restored.phone == "13700000000" and restored.version > before_undo
    assert Member.objects.get(household=restored, relation="head").work_place == ""
    assert not Member.objects.filter(name="新成员").exists()


def test_members_of_many_new_households_land_in_their_own(tree: Tree, staff: Staff) -> None:
    code = tree.village_a1.code
    rows = [
        [code, f"M{n:03d}", "脱贫户", 2019, "", "", "", "", name, id_number("19700101"), relation, "普通劳动力"]
        for n in range(60)
        for name, relation in ((f"户主{n}", "户主"), (f"配偶{n}", "配偶"))
    ]
    batch = check(staff.village_clerk, workbook(rows, header=HEADER[:12]))
    assert confirm(batch, staff.village_clerk).status == ImportStatus.APPLIED
    placed = {(m.household.number, m.name) for m in Member.objects.select_related("household")}
    assert placed == {(row[1], row[8]) for row in rows}


def test_an_edit_after_the_preview_expires_the_batch_and_is_kept(tree: Tree, staff: Staff) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001", phone="13700000000")
    batch = check(staff.village_clerk, roster(tree, existing))
    assert batch.status == ImportStatus.READY
    edited = Household.objects.get(pk=existing.pk)
    edited.phone = "13611112222"
    household_update(by=staff.township_admin, household=edited, expected_version=edited.version)
    before = snapshot()

    result = confirm(batch, staff.village_clerk)
    assert result.status == ImportStatus.EXPIRED
    assert "预览后数据已被修改" in result.refusal
    assert snapshot() == before, "nothing of the batch was written"
    assert Household.objects.get(pk=existing.pk).phone == "13611112222"

    # 重新校验 previews the file against the edit; confirming it then writes the file's value on purpose.
    assert batches.import_batch_recheck(batch=result, by=staff.village_clerk).status == ImportStatus.QUEUED
    again = batches.import_batch_check(batch_id=batch.pk)
    assert again.status == ImportStatus.READY, again.errors
    assert any(c["old"] == "13611112222" and c["new"] == "13900000009" for c in again.changes)
    assert confirm(again, staff.village_clerk).status == ImportStatus.APPLIED


def test_another_import_changing_only_members_after_the_preview_expires_the_batch(tree: Tree, staff: Staff) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001", phone="13700000000")
    first = check(staff.village_clerk, roster(tree, existing))
    code = tree.village_a1.code
    relation = {"head": "户主", "spouse": "配偶"}
    members = [
        [
            code,
            "E001",
            "脱贫户",
            2019,
            "13700000000",
            m.name,
            m.id_number,
            relation[m.relation],
            "普通劳动力",
            "长期慢性病",
        ]
        for m in existing.members.all()
    ]
    other = check(staff.village_clerk, workbook(members, header=[*MEMBERS_HEADER, "健康状况"]))
    assert confirm(other, staff.village_clerk).status == ImportStatus.APPLIED

    assert confirm(first, staff.village_clerk).status == ImportStatus.EXPIRED
    assert {m.health for m in existing.members.all()} == {"chronic"}
    assert Member.objects.get(household=existing, relation="head").work_place == ""


def test_undoing_another_import_after_the_preview_expires_the_batch(tree: Tree, staff: Staff) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001", phone="13700000000")
    code = tree.village_a1.code
    head = existing.members.get(relation="head")
    added = [
        [code, "E001", "脱贫户", 2019, "13700000000", head.name, head.id_number, "户主", "普通劳动力"],
        [code, "E001", "脱贫户", 2019, "13700000000", "后来者", id_number("20150505"), "之女", "无劳动力"],
    ]
    earlier = confirm(check(staff.village_clerk, workbook(added, header=MEMBERS_HEADER)), staff.village_clerk)
    assert earlier.status == ImportStatus.APPLIED
    batch = check(staff.village_clerk, roster(tree, existing))
    batches.import_batch_rollback(batch=ImportBatch.objects.get(pk=earlier.pk), by=staff.village_clerk)
    assert confirm(batch, staff.village_clerk).status == ImportStatus.EXPIRED
    assert not Member.objects.filter(name="后来者").exists()


def test_a_new_head_replacing_the_old_one_is_written(tree: Tree, staff: Staff) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001", phone="13700000000")
    code = tree.village_a1.code
    old_head = existing.members.get(relation="head")
    spouse = existing.members.get(relation="spouse")
    rows = [
        [code, "E001", "脱贫户", 2019, "13700000000", old_head.name, old_head.id_number, "之子", "普通劳动力"],
        [code, "E001", "脱贫户", 2019, "13700000000", spouse.name, spouse.id_number, "户主", "普通劳动力"],
        [code, "E001", "脱贫户", 2019, "13700000000", "新户主", id_number("19900909"), "配偶", "普通劳动力"],
    ]
    batch = check(staff.village_clerk, workbook(rows, header=MEMBERS_HEADER))
    assert batch.status == ImportStatus.READY, batch.errors
    assert confirm(batch, staff.village_clerk).status == ImportStatus.APPLIED
    assert Member.objects.get(household=existing, relation="head").pk == spouse.pk


def test_a_household_registered_meanwhile_under_the_same_number_expires_the_batch(tree: Tree, staff: Staff) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001")
    batch = check(staff.village_clerk, roster(tree, existing))
    household(staff.village_clerk, tree.village_a1, number="N001")
    before = snapshot()
    assert confirm(batch, staff.village_clerk).status == ImportStatus.EXPIRED
    assert snapshot() == before


def test_a_member_name_too_long_for_the_database_is_an_error_at_preview(tree: Tree, staff: Staff) -> None:
    code = tree.village_a1.code
    rows = [[code, "H001", "脱贫户", 2019, "", "长" * 40, id_number("19700101"), "户主", "普通劳动力"]]
    batch = check(staff.village_clerk, workbook(rows, header=MEMBERS_HEADER))
    assert batch.status == ImportStatus.INVALID
    assert [(e["row"], e["column"]) for e in batch.errors] == [(3, "成员姓名")]
    assert "32" in batch.errors[0]["message"]


def test_a_database_error_at_confirmation_ends_the_batch_failed_never_stuck(
    tree: Tree, staff: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001")
    batch = check(staff.village_clerk, roster(tree, existing))
    before = snapshot()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise DataError("value too long for type character varying(32)")

    monkeypatch.setattr(batches, "apply_steps", broken)
    result = confirm(batch, staff.village_clerk)
    assert result.status == ImportStatus.FAILED
    assert "未写入任何数据" in result.refusal
    assert snapshot() == before


def test_a_second_confirmation_is_refused_and_writes_nothing_more(tree: Tree, staff: Staff) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001")
    batch = check(staff.village_clerk, roster(tree, existing))
    assert confirm(batch, staff.village_clerk).status == ImportStatus.APPLIED
    written = snapshot()
    with pytest.raises(AlreadyClaimed):
        import_batch_claim(batch=batch, by=staff.village_clerk)
    # A redelivered task for the same claim finds the batch applied and does nothing.
    again = import_batch_confirm(batch_id=batch.pk, by_id=staff.village_clerk.pk)
    assert again.status == ImportStatus.APPLIED and again.applied_at is not None
    assert snapshot() == written


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL leg)")
def test_simultaneous_confirmations_apply_each_batch_exactly_once(tree: Tree, staff: Staff) -> None:
    code = tree.village_a1.code
    # (A transactional test starts from an empty database: the migrations' reference rows are gone.)
    illness = RiskType.objects.get_or_create(code="illness", defaults={"name": "因病"})[0].name
    for round_number in range(5):
        number = f"N{round_number:03d}"
        birth = f"19{60 + round_number}0505"
        rows = [
            # An eliminated case too: written twice, it would be two cases.
            [
                code,
                number,
                "脱贫户",
                2019,
                "",
                "脱贫不稳定户",
                "2023-01",
                illness,
                "王五",
                id_number(birth),
                "户主",
                "普通劳动力",
                "",
                0,
                "是",
                "2023-09",
                "帮扶消除",
            ],
        ]
        header = [*HEADER, "风险是否消除", "消除时间", "消除方式"]
        batch = check(staff.village_clerk, workbook(rows, header=header))
        assert batch.status == ImportStatus.READY, batch.errors
        barrier = threading.Barrier(3)
        refused: list[int] = []

        def attempt(batch_id: int = batch.pk, refused: list[int] = refused, barrier: Any = barrier) -> None:
            try:
                barrier.wait()
                try:
                    import_batch_claim(batch=ImportBatch.objects.get(pk=batch_id), by=staff.village_clerk)
                except AlreadyClaimed:
                    refused.append(batch_id)
                # Every thread then runs the task body, as a redelivered task would.
                import_batch_confirm(batch_id=batch_id, by_id=staff.village_clerk.pk)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=attempt) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done = ImportBatch.objects.get(pk=batch.pk)
        assert (done.status, len(refused)) == (ImportStatus.APPLIED, 2), done.refusal
        assert done.applied_at is not None and done.applied_by == staff.village_clerk
        assert Household.objects.filter(number=number).count() == 1
        assert MonitoringCase.objects.filter(household__number=number).count() == 1
        assert Member.history.filter(import_batch_id=batch.pk).count() == 1


def test_an_identity_number_registered_in_another_township_is_refused_without_naming_its_household(
    tree: Tree, staff: Staff
) -> None:
    holder = household(staff.other_township_admin, tree.village_b1, number="SECRET-9")
    taken = holder.members.get(relation="head").id_number
    rows = [[tree.village_a1.code, "H001", "脱贫户", 2019, "", "张三", taken, "户主", "普通劳动力"]]
    batch = check(staff.village_clerk, workbook(rows, header=MEMBERS_HEADER))
    assert batch.status == ImportStatus.INVALID
    messages = " ".join(e["message"] + e["who"] for e in batch.errors)
    assert "SECRET-9" not in messages
    assert "您管辖范围以外" in messages


def test_a_database_error_while_staging_ends_the_check_failed(
    tree: Tree, staff: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001")

    def broken(self: Any) -> None:
        raise DataError("disk full")

    monkeypatch.setattr(staging.Stager, "flush", broken)
    batch = check(staff.village_clerk, roster(tree, existing))
    assert batch.status == ImportStatus.FAILED and batch.refusal
    assert not StagedRow.objects.filter(batch=batch).exists()


def test_households_without_a_number_get_a_local_one_that_carries_no_identity_number(tree: Tree, staff: Staff) -> None:
    code = tree.village_a1.code
    heads = [id_number("19700101"), id_number("19710202")]
    header = ["区划代码", "户编号", "户主姓名", "户类型", "脱贫年度", "成员姓名", "身份证号", "与户主关系", "劳动技能"]
    rows = [
        [code, "", f"户主{n}", "脱贫户", 2019, f"户主{n}", number, "户主", "普通劳动力"]
        for n, number in enumerate(heads)
    ]
    batch = check(staff.village_clerk, workbook(rows, header=header))
    assert batch.status == ImportStatus.READY, batch.errors
    assert confirm(batch, staff.village_clerk).status == ImportStatus.APPLIED
    numbers = sorted(Household.objects.values_list("number", flat=True))
    assert numbers == [f"L{code}-{batch.pk}-001", f"L{code}-{batch.pk}-002"]
    # The same file again finds both households by their 户主: nothing new.
    assert check(staff.village_clerk, workbook(rows, header=header)).status == ImportStatus.UNCHANGED


def test_undo_is_refused_when_something_was_added_later_to_a_household_the_batch_created(
    tree: Tree, staff: Staff
) -> None:
    from django.core.exceptions import ValidationError

    from tests.factories import income

    existing = household(staff.village_clerk, tree.village_a1, number="E001")
    batch = confirm(check(staff.village_clerk, roster(tree, existing)), staff.village_clerk)
    assert batch.status == ImportStatus.APPLIED
    income(staff.village_clerk, Household.objects.get(number="N001"), "2025Q3", wages_other="1000")
    with pytest.raises(ValidationError) as refused:
        batches.import_batch_rollback(batch=ImportBatch.objects.get(pk=batch.pk), by=staff.village_clerk)
    assert "不能整批撤销" in refused.value.messages[0]
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.APPLIED
    assert Household.objects.filter(number="N001").exists()


CASE_HEADER = [*HEADER[:8], "风险类型2", *HEADER[8:], "风险是否消除", "消除时间", "消除方式"]


HEAD_ID = id_number("19650505")


def case_row(code: str, number: str, identified: str, risks: tuple[str, str], eliminated: tuple[str, str, str]) -> list:
    return [
        code,
        number,
        "脱贫户",
        2019,
        "",
        "脱贫不稳定户",
        identified,
        *risks,
        "王五",
        HEAD_ID,
        "户主",
        "普通劳动力",
        "",
        0,
        *eliminated,
    ]


def test_the_same_risk_type_twice_is_an_error_at_preview(tree: Tree, staff: Staff) -> None:
    illness = RiskType.objects.get(code="illness").name
    rows = [case_row(tree.village_a1.code, "N003", "2024-01", (illness, illness), ("否", "", ""))]
    batch = check(staff.village_clerk, workbook(rows, header=CASE_HEADER))
    assert batch.status == ImportStatus.INVALID
    assert [(e["column"], e["message"]) for e in batch.errors] == [("风险类型2", f"风险类型重复：{illness}")]


def test_a_future_identification_month_is_an_error_at_preview(tree: Tree, staff: Staff) -> None:
    illness = RiskType.objects.get(code="illness").name
    rows = [case_row(tree.village_a1.code, "N003", "2027-05", (illness, ""), ("否", "", ""))]
    batch = check(staff.village_clerk, workbook(rows, header=CASE_HEADER))
    assert batch.status == ImportStatus.INVALID
    assert [(e["column"], e["message"]) for e in batch.errors] == [("识别时间", "识别时间不能晚于当前月份")]


def test_a_changed_month_of_the_latest_eliminated_case_updates_it_instead_of_adding_a_case(
    tree: Tree, staff: Staff
) -> None:
    illness = RiskType.objects.get(code="illness").name
    code = tree.village_a1.code
    first = [case_row(code, "N003", "2024-01", (illness, ""), ("是", "2024-09", "帮扶消除"))]
    assert confirm(check(staff.village_clerk, workbook(first, header=CASE_HEADER)), staff.village_clerk).status == (
        ImportStatus.APPLIED
    )
    moved = [case_row(code, "N003", "2023-12", (illness, ""), ("是", "2024-09", "帮扶消除"))]
    batch = check(staff.village_clerk, workbook(moved, header=CASE_HEADER))
    assert batch.counts["cases"]["updated"] == 1 and batch.counts["cases"]["new"] == 0, (batch.errors, batch.counts)
    assert confirm(batch, staff.village_clerk).status == ImportStatus.APPLIED
    months = list(MonitoringCase.objects.filter(household__number="N003").values_list("identified_month", flat=True))
    assert [month.isoformat() for month in months] == ["2023-12-01"]


def test_a_cancelled_households_quarters_read_back_unchanged_but_cannot_be_changed(tree: Tree, staff: Staff) -> None:
    from households.services import household_cancel
    from tests.factories import income
    from tests.households.excel.test_import import income_workbook

    target = household(staff.village_clerk, tree.village_a1, number="H001")
    income(staff.village_clerk, target, "2025Q3", wages_migrant_work="3000")
    target = Household.objects.get(pk=target.pk)
    household_cancel(by=staff.village_clerk, household=target, reason_text="迁出", expected_version=target.version)
    same = [["H001", "", 2025, 3, "3000", "0", "0", "0", ""]]
    assert check(staff.village_clerk, income_workbook(same), kind="income", name="收入.xlsx").status == (
        ImportStatus.UNCHANGED
    )
    changed = [["H001", "", 2025, 3, "3500", "0", "0", "0", ""]]
    batch = check(staff.village_clerk, income_workbook(changed), kind="income", name="收入.xlsx")
    assert batch.status == ImportStatus.INVALID
    assert "已注销" in batch.errors[0]["message"]


def test_a_masked_export_is_refused_cell_by_cell_with_a_message_that_says_why(tree: Tree, staff: Staff) -> None:
    from households.id_numbers import mask_id_number, mask_phone

    number = id_number("19700101")
    rows = [
        [
            tree.village_a1.code,
            "H001",
            "脱贫户",
            2019,
            mask_phone("13812345678"),
            "张三",
            mask_id_number(number),
            "户主",
            "普通劳动力",
        ]
    ]
    batch = check(staff.village_clerk, workbook(rows, header=MEMBERS_HEADER))
    assert batch.status == ImportStatus.INVALID
    assert {(e["column"], e["message"].startswith("已脱敏")) for e in batch.errors} == {
        ("联系电话", True),
        ("身份证号", True),
    }


def test_an_income_row_whose_head_is_not_the_households_is_an_error(tree: Tree, staff: Staff) -> None:
    from tests.households.excel.test_import import income_workbook

    household(staff.village_clerk, tree.village_a1, number="H001")
    rows = [["H001", "李四", 2025, 3, "3000", "0", "0", "0", ""], ["H001", "张三", 2025, 2, "3000", "0", "0", "0", ""]]
    batch = check(staff.village_clerk, income_workbook(rows), kind="income", name="收入.xlsx")
    assert [(e["row"], e["column"]) for e in batch.errors] == [(3, "户主姓名")]


def test_a_confirmation_delivered_again_and_again_ends_failed_instead_of_looping(tree: Tree, staff: Staff) -> None:
    existing = household(staff.village_clerk, tree.village_a1, number="E001")
    batch = check(staff.village_clerk, roster(tree, existing))
    import_batch_claim(batch=batch, by=staff.village_clerk)
    # Three deliveries started and took their worker down with them (acks_late redelivers at once).
    ImportBatch.objects.filter(pk=batch.pk).update(attempts=batches.MAX_ATTEMPTS)
    before = snapshot()
    ended = import_batch_confirm(batch_id=batch.pk, by_id=staff.village_clerk.pk)
    assert ended.status == ImportStatus.FAILED and "多次中断" in ended.refusal
    assert snapshot() == before


def test_two_files_adding_households_without_a_number_to_one_village_both_apply(tree: Tree, staff: Staff) -> None:
    code = tree.village_a1.code
    header = ["区划代码", "户编号", "户主姓名", "户类型", "脱贫年度", "成员姓名", "身份证号", "与户主关系", "劳动技能"]
    previews = [
        check(
            staff.village_clerk,
            workbook(
                [[code, "", name, "脱贫户", 2019, name, id_number("19700101"), "户主", "普通劳动力"]], header=header
            ),
        )
        for name in ("甲户主", "乙户主")
    ]
    assert [confirm(batch, staff.village_clerk).status for batch in previews] == [ImportStatus.APPLIED] * 2
    assert Household.objects.count() == 2


def test_field_rule_messages_are_in_the_clerks_words() -> None:
    from workbooks.rules import FieldRules

    rules = FieldRules(Member)
    assert rules.error("name", "长" * 40) == "不能超过32个字（现有40个）"
    assert rules.error("work_months", 13) == "务工月数不能超过12"  # the model's own message stays
    assert rules.error("relation", "boss") == "“boss”不是可选的值"


def test_members_of_a_household_with_an_error_are_not_also_counted_as_new(tree: Tree, staff: Staff) -> None:
    rows = [
        case_row(tree.village_a1.code, "N004", "2024-01", ("不存在的风险", ""), ("否", "", "")),
    ]
    batch = check(staff.village_clerk, workbook(rows, header=CASE_HEADER))
    assert batch.status == ImportStatus.INVALID
    assert batch.counts["members"]["new"] == 0 and batch.counts["households"]["new"] == 0


def test_moving_the_identification_month_of_an_eliminated_case_keeps_the_six_month_rule(
    tree: Tree, staff: Staff
) -> None:
    illness = RiskType.objects.get(code="illness").name
    code = tree.village_a1.code
    first = [case_row(code, "N005", "2024-01", (illness, ""), ("是", "2024-09", "帮扶消除"))]
    confirm(check(staff.village_clerk, workbook(first, header=CASE_HEADER)), staff.village_clerk)
    for month in ("2024-06", "2024-11"):  # 3 months before the elimination; after it
        moved = [case_row(code, "N005", month, (illness, ""), ("是", "2024-09", "帮扶消除"))]
        batch = check(staff.village_clerk, workbook(moved, header=CASE_HEADER))
        assert batch.status == ImportStatus.INVALID, (month, batch.counts)
        assert "6个月" in batch.errors[0]["message"]


def test_a_typed_local_number_is_refused_and_a_cancelled_household_is_not_changed(tree: Tree, staff: Staff) -> None:
    from households.services import household_cancel

    code = tree.village_a1.code
    typed = [[code, f"L{code}-999-001", "脱贫户", 2019, "", "张三", id_number("19700101"), "户主", "普通劳动力"]]
    batch = check(staff.village_clerk, workbook(typed, header=MEMBERS_HEADER))
    assert [e["column"] for e in batch.errors] == ["户编号"]
    target = household(staff.village_clerk, tree.village_a1, number="E009", phone="13700000000")
    head = target.members.get(relation="head")
    target = Household.objects.get(pk=target.pk)
    household_cancel(by=staff.village_clerk, household=target, reason_text="迁出", expected_version=target.version)
    row = [code, "E009", "脱贫户", 2019, "13700000000", head.name, head.id_number, "户主", "普通劳动力"]
    spouse = target.members.get(relation="spouse")
    same = [row, [code, "E009", "脱贫户", 2019, "13700000000", spouse.name, spouse.id_number, "配偶", "普通劳动力"]]
    assert check(staff.village_clerk, workbook(same, header=MEMBERS_HEADER)).status == ImportStatus.UNCHANGED
    same[0][4] = same[1][4] = "13900000000"
    changed = check(staff.village_clerk, workbook(same, header=MEMBERS_HEADER))
    assert changed.status == ImportStatus.INVALID and "已注销" in changed.errors[0]["message"]


def test_deleting_a_batch_deletes_its_staged_rows(tree: Tree, staff: Staff) -> None:
    # The staged rows keep no database foreign key (one constraint check per row at the commit):
    # Django's cascade is what removes them.
    existing = household(staff.village_clerk, tree.village_a1, number="E001", phone="13700000000")
    batch = check(staff.village_clerk, roster(tree, existing))
    other = check(staff.village_clerk, roster(tree, existing))
    assert StagedRow.objects.filter(batch=batch).exists() and StagedRow.objects.filter(batch=other).exists()
    ImportBatch.objects.filter(pk=batch.pk).delete()
    assert not StagedRow.objects.filter(batch_id=batch.pk).exists()
    assert StagedRow.objects.filter(batch=other).exists()
