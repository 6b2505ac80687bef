"""Rules that live on the model, so the forms, the admin and the imports all apply the same ones."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from households.excel.cell_parsers import CellError, parse_phone
from households.excel.columns import ROSTER_COLUMNS
from households.excel.normalise import parse_cell
from households.models import Household, IncomeRecord, Member, validate_phone
from households.quarter import Quarter
from households.services import household_update, income_record_save
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household
from workbooks.rules import validate_visible_text

ROSTER = {column.key: column for column in ROSTER_COLUMNS}


@pytest.fixture
def clerk(staff: Staff) -> Client:
    client = Client()
    client.login(username=staff.village_clerk.username, password=PASSWORD)
    return client


@pytest.fixture
def on_30_november_2026(monkeypatch: pytest.MonkeyPatch) -> date:
    """Today in Asia/Shanghai, as the model and the income page read it."""
    today = date(2026, 11, 30)
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: today)
    return today


# 联系电话


@pytest.mark.parametrize("phone", ["abc", "138xxxx5678", "13812345678，13912345678"])
def test_a_phone_with_letters_is_refused_by_the_model(tree: Tree, staff: Staff, phone: str) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    target.phone = phone
    with pytest.raises(ValidationError) as error:
        household_update(by=staff.village_clerk, household=target)
    assert "只能包含数字" in " ".join(error.value.message_dict["phone"])
    assert Household.objects.get(pk=target.pk).phone == ""


def test_the_helper_phone_follows_the_same_rule(tree: Tree, staff: Staff) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    target.helper_phone = "见村委会"
    with pytest.raises(ValidationError) as error:
        household_update(by=staff.village_clerk, household=target)
    assert "helper_phone" in error.value.message_dict


def test_the_household_form_refuses_the_phone_the_importer_refuses(tree: Tree, staff: Staff, clerk: Client) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    page = clerk.get(reverse("household_edit", args=[target.pk])).context
    data = {k: v for k, v in page["form"].initial.items() if v is not None}
    data.update({"village": target.village_id, "phone": "abc", "version": target.version})
    data.update({f"members-{k}": v for k, v in page["formset"].management_form.initial.items()})
    for index, form in enumerate(page["formset"].forms):
        data.update({f"members-{index}-{k}": v for k, v in form.initial.items() if k != "medical_insurance"})
    response = clerk.post(reverse("household_edit", args=[target.pk]), data)
    assert response.status_code == 200
    assert "电话号码“abc”只能包含数字和“-”" in response.content.decode()
    assert Household.objects.get(pk=target.pk).phone == ""
    with pytest.raises(CellError, match="只能包含数字"):
        parse_phone("abc")


def test_the_importer_uses_the_models_phone_validator() -> None:
    with pytest.raises(ValidationError) as model_error:
        validate_phone("138xxxx5678")
    with pytest.raises(CellError) as import_error:
        parse_phone("138xxxx5678")
    assert import_error.value.message == model_error.value.messages[0]
    assert parse_phone(" 0878-612 3456 ") == "0878-6123456"
    assert parse_phone(13812345678) == "13812345678"


# Invisible characters: one rule (workbooks.characters) for the model, the forms and the importer

INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u2066", "\x07"]


@pytest.mark.parametrize("character", INVISIBLE)
def test_a_name_with_an_invisible_character_is_refused_by_the_model(tree: Tree, staff: Staff, character: str) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    member = target.members.all()[0]
    member.name = f"张{character}三"
    with pytest.raises(ValidationError) as error:
        member.full_clean()
    assert "含有不可见字符（" in error.value.message_dict["name"][0]
    assert f"U+{ord(character):04X}" in error.value.message_dict["name"][0]
    target.helper_name = f"李{character}四"
    with pytest.raises(ValidationError) as error:
        household_update(by=staff.village_clerk, household=target)
    assert "helper_name" in error.value.message_dict
    assert Household.objects.get(pk=target.pk).helper_name == ""


def test_the_household_form_refuses_a_member_name_with_a_zero_width_space(
    tree: Tree, staff: Staff, clerk: Client
) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    page = clerk.get(reverse("household_edit", args=[target.pk])).context
    data = {k: v for k, v in page["form"].initial.items() if v is not None}
    data.update({"village": target.village_id, "version": target.version, "address": "大村\u202e村"})
    data.update({f"members-{k}": v for k, v in page["formset"].management_form.initial.items()})
    for index, form in enumerate(page["formset"].forms):
        data.update({f"members-{index}-{k}": v for k, v in form.initial.items() if k != "medical_insurance"})
    data["members-0-name"] = "张\u200b三"
    response = clerk.post(reverse("household_edit", args=[target.pk]), data)
    assert response.status_code == 200
    page_text = response.content.decode()
    assert "含有不可见字符（零宽空格 U+200B），请删除后重新填写" in page_text
    assert "含有不可见字符（文字方向控制符 U+202E），请删除后重新填写" in page_text
    first = Member.objects.get(pk=data["members-0-pk"])
    assert first.name == page["formset"].forms[0].initial["name"]
    assert Household.objects.get(pk=target.pk).address == ""


@pytest.mark.parametrize("character", INVISIBLE)
def test_the_importer_refuses_invisible_characters_with_the_models_message(character: str) -> None:
    with pytest.raises(ValidationError) as model_error:
        validate_visible_text(f"张{character}三")
    for column in (ROSTER["member_name"], ROSTER["village"], ROSTER["relation"], ROSTER["id_number"]):
        with pytest.raises(CellError) as import_error:
            parse_cell(column, f"张{character}三")
        assert import_error.value.message == model_error.value.messages[0], column.key


# Quarters that have not begun


def test_income_for_a_quarter_that_has_not_begun_is_refused(
    tree: Tree, staff: Staff, on_30_november_2026: date
) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    with pytest.raises(ValidationError) as error:
        income_record_save(
            by=staff.village_clerk, household=target, quarter=Quarter(2027, 4), amounts={"wages_other": Decimal("1")}
        )
    assert error.value.message_dict["quarter"] == ["2027年第4季度尚未开始，不能录入收入"]
    assert not IncomeRecord.objects.exists()
    income_record_save(
        by=staff.village_clerk, household=target, quarter=Quarter(2026, 4), amounts={"wages_other": Decimal("1")}
    )
    assert IncomeRecord.objects.get().period == Quarter(2026, 4)


def test_the_model_refuses_a_future_quarter_for_imports_and_the_admin(
    tree: Tree, staff: Staff, on_30_november_2026: date
) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    record = IncomeRecord(household=target, year=2030, quarter=1, household_size=2)
    with pytest.raises(ValidationError) as error:
        record.full_clean()
    assert error.value.message_dict["quarter"] == ["2030年第1季度尚未开始，不能录入收入"]


def test_the_income_form_offers_no_future_year_and_refuses_a_future_quarter(
    tree: Tree, staff: Staff, clerk: Client, on_30_november_2026: date
) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    url = reverse("income_create", args=[target.pk])
    years = [value for value, _label in clerk.get(url).context["quarter_form"].fields["year"].choices]
    assert max(years) == 2026
    response = clerk.post(url, {"year": "2027", "quarter": "4", "wages_other": "100"})
    assert response.status_code == 200
    assert not IncomeRecord.objects.exists()
    assert clerk.post(url, {"year": "2026", "quarter": "4", "wages_other": "100"}).status_code == 302
    assert IncomeRecord.objects.get().period == Quarter(2026, 4)


def test_the_income_form_refuses_this_years_quarter_that_has_not_begun(
    tree: Tree, staff: Staff, clerk: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: date(2026, 5, 15))
    target = household(staff.village_clerk, tree.village_a1)
    url = reverse("income_create", args=[target.pk])
    response = clerk.post(url, {"year": "2026", "quarter": "3", "wages_other": "100"})
    assert "2026年第3季度尚未开始，不能录入收入" in response.content.decode()
    assert not IncomeRecord.objects.exists()
    assert 'data-current-quarter="2"' in response.content.decode()


# import_roster --user


def test_the_import_command_refuses_a_read_only_user_with_a_message(tree: Tree, staff: Staff, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("区划代码,户编号\n", encoding="utf-8")
    with pytest.raises(CommandError, match="用户 xian 不能执行此导入：您的角色没有导入权限"):
        call_command("import_roster", str(roster), "--user", "xian", stdout=io.StringIO())
    with pytest.raises(CommandError, match="用户 xian 不能执行此导入"):
        call_command("import_income", str(roster), "--user", "xian", stdout=io.StringIO())
    with pytest.raises(CommandError, match="用户 nobody 不存在"):
        call_command("import_roster", str(roster), "--user", "nobody", stdout=io.StringIO())


def test_an_income_import_of_a_quarter_that_has_not_begun_is_refused_at_preview(
    tree: Tree, staff: Staff, settings: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from tests.households.excel.test_import import check, income_workbook

    settings.MEDIA_ROOT = tmp_path / "media"  # type: ignore[attr-defined]
    target = household(staff.village_clerk, tree.village_a1, number="H001")
    rows = [[target.number, "", 2030, 1, "100", "0", "0", "0", ""]]
    batch = check(staff.village_clerk, income_workbook(rows), kind="income", name="收入.xlsx")
    assert batch.status == "invalid"
    assert any("尚未开始" in error["message"] for error in batch.errors), batch.errors
    assert not IncomeRecord.objects.exists()


@pytest.mark.parametrize(
    ("where", "household_type", "lifted_year", "status", "cancelled_reason"),
    [
        ("village", "lifted", 2019, "active", ""),
        ("village", "lifted", None, "active", ""),
        ("village", "ordinary", 2019, "active", ""),
        ("village", "", None, "cancelled", ""),
        ("township", "lifted", 2019, "cancelled", "迁出"),
    ],
)
def test_household_clean_reads_only_the_fields_it_declares(
    tree: Tree,
    django_assert_num_queries: Any,
    where: str,
    household_type: str,
    lifted_year: int | None,
    status: str,
    cancelled_reason: str,
) -> None:
    # The roster import judges households once per distinct combination of Household.CLEAN_READS.
    region = tree.village_a1 if where == "village" else tree.township_a
    draft = Household(
        village=region,
        household_type=household_type,
        lifted_year=lifted_year,
        status=status,
        cancelled_reason=cancelled_reason,
    )
    declared = {field.attname for field in Household._meta.concrete_fields if field.name in Household.CLEAN_READS}
    for field in Household._meta.concrete_fields:
        if field.attname not in declared:
            del draft.__dict__[field.attname]  # read now, it would be loaded from the database
    expected = Household(
        village=region,
        household_type=household_type,
        lifted_year=lifted_year,
        status=status,
        cancelled_reason=cancelled_reason,
    )
    with django_assert_num_queries(0):
        assert messages_of(draft) == messages_of(expected)


def messages_of(draft: Household) -> dict[str, list[str]]:
    try:
        draft.clean()
    except ValidationError as error:
        return error.message_dict
    return {}
