"""Form messages in the domain's words; every error at once; 减员; plausibility of wages; no 1e5."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from households.forms import MemberForm, MonitoringCaseForm
from households.models import Household, IncomeCheckBound, IncomeRecord, Member
from households.services import MemberData, household_update
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household, id_number, income
from tests.households.test_pages import household_post, resubmit


@pytest.fixture
def clerk(staff: Staff) -> Client:
    client = Client()
    client.login(username=staff.village_clerk.username, password=PASSWORD)
    return client


def income_post(client: Client, target: Household, **amounts: str) -> Any:
    return client.post(reverse("income_create", args=[target.pk]), {"year": "2025", "quarter": "3", **amounts})


def test_a_missing_field_is_named_in_its_message(tree: Tree, clerk: Client) -> None:
    members = [{"name": "张三", "id_number": id_number(), "relation": "head"}]
    response = clerk.post(reverse("household_create"), household_post(tree, members, number=""))
    assert response.context["form"].errors["number"] == ["请填写户编号"]
    assert "这个字段是必填项" not in response.content.decode()


def test_an_amount_too_large_says_how_many_digits_an_amount_may_have(tree: Tree, staff: Staff, clerk: Client) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    response = income_post(clerk, target, wages_migrant_work="1234567890123")
    assert response.context["form"].errors["wages_migrant_work"] == [
        "务工收入数值过大：整数部分最多 12 位，请核对是否多输了数字"
    ]
    assert "确认总共不超过" not in response.content.decode()
    assert not IncomeRecord.objects.exists()


def test_scientific_notation_is_refused_on_every_amount_field(tree: Tree, staff: Staff, clerk: Client) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    response = income_post(clerk, target, wages_migrant_work="1e5", transfer_pension="2.5E3", operating_costs="100")
    errors = response.context["form"].errors
    assert errors["wages_migrant_work"] == ["务工收入金额格式不正确：“1e5”是科学计数法，请直接填写数字，如 100000"]
    assert "科学计数法" in errors["transfer_pension"][0]
    assert "operating_costs" not in errors
    assert not IncomeRecord.objects.exists()


def test_choices_dates_and_numbers_have_messages_naming_the_field(tree: Tree, staff: Staff) -> None:
    form = MemberForm(
        {"name": "张三" * 20, "id_number": id_number(), "relation": "uncle", "labour": "", "work_months": "13"}
    )
    assert not form.is_valid()
    assert form.errors["name"] == ["姓名最多 32 个字（现在 40 个）"]
    assert form.errors["relation"] == ["与户主关系的选项“uncle”不在可选范围内，请重新选择"]
    assert form.errors["labour"] == ["请选择劳动技能"]
    assert form.errors["work_months"] == ["务工月数不能大于 12"]
    target = household(staff.village_clerk, tree.village_a1)
    case = MonitoringCaseForm({"category": "unstable", "identified_month": "2025-13"}, household=target)
    assert not case.is_valid()
    assert case.errors["identified_month"] == ["识别时间请填写有效的月份，如 2025-03"]
    assert case.errors["risk_types"] == ["请选择风险类型（1-5项）"]


NUL = "含有不可见字符（空字符NUL U+0000），请删除后重新填写"


def test_a_null_character_is_named_once_in_the_domains_words_on_text_and_choice_fields(
    tree: Tree, staff: Staff
) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    case = MonitoringCaseForm(
        {"category": "unstable", "identified_month": "2025-03", "risk_types": ["1\x00"], "note": "a\x00b"},
        household=target,
    )
    assert not case.is_valid()
    assert case.errors["risk_types"] == [f"风险类型（1-5项）{NUL}"]
    assert case.errors["note"] == [NUL]  # the note's own check says it; Django's said it a second time
    member = MemberForm({"name": "张\x00三", "id_number": id_number(), "relation": "head", "labour": "skilled"})
    assert not member.is_valid()
    assert member.errors["name"] == [NUL]


def test_household_and_member_errors_are_shown_at_once_and_the_member_row_is_marked(tree: Tree, clerk: Client) -> None:
    valid = id_number()
    wrong_check = valid[:-1] + ("1" if valid[-1] == "0" else "0")
    members = [
        {"name": "张三", "id_number": id_number(), "relation": "head"},
        {"name": "李梅", "id_number": wrong_check, "relation": "spouse"},
    ]
    response = clerk.post(reverse("household_create"), household_post(tree, members, number="", phone="12a"))
    summary = response.context["errors"]
    assert "请填写户编号" in summary
    assert any(line.startswith("联系电话") or "电话号码" in line for line in summary)
    assert any(line.startswith("第2位成员：身份证号") for line in summary)
    page = response.content.decode()
    assert page.count("member-row-invalid") == 1
    assert not Household.objects.exists()


def test_the_summary_names_an_error_of_the_member_list_as_a_whole(tree: Tree, clerk: Client) -> None:
    members = [
        {"name": "张三", "id_number": id_number("19750305"), "relation": "spouse"},
        {"name": "李梅", "id_number": id_number("19780612"), "relation": "spouse"},
    ]
    response = clerk.post(reverse("household_create"), household_post(tree, members))
    # Shown beside the members, far below the top of a phone's page: the summary at the top says it too.
    assert "请指定一名户主" in response.context["errors"]
    assert 'data-testid="error-summary"' in response.content.decode()
    assert not Household.objects.exists()


def test_a_refused_income_form_lists_every_error_at_the_top_naming_each_field(
    tree: Tree, staff: Staff, clerk: Client
) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    response = income_post(clerk, target, wages_migrant_work="3000-", transfer_pension="-5", operating_planting="1200")
    summary = response.context["errors"]
    assert "务工收入请填写数字，如 1200 或 1200.50" in summary
    assert "养老保险金：金额不能为负数" in summary
    assert len(summary) == 2
    assert 'data-testid="error-summary"' in response.content.decode()
    assert not IncomeRecord.objects.exists()
    # A correction of a saved quarter (no quarter to choose on its page) lists its amounts' errors only.
    record = income(staff.village_clerk, target, "2025Q3", wages_migrant_work="3000")
    url = reverse("income_edit", args=[target.pk, "2025Q3"])
    response = clerk.post(url, {"version": record.version, "wages_migrant_work": "3000-"})
    assert response.context["errors"] == ["务工收入请填写数字，如 1200 或 1200.50"]


def test_a_member_cannot_leave_before_being_born(tree: Tree, staff: Staff, clerk: Client) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    url = reverse("household_edit", args=[target.pk])
    page = clerk.get(url).context
    born = Member.objects.get(pk=page["formset"].forms[1].initial["pk"]).birth_date
    refused = clerk.post(
        url, resubmit(page, members={1: {"remove": True, "left_reason": "迁出", "left_on": born - timedelta(1)}})
    )
    assert refused.status_code == 200, "refused, not saved"
    assert refused.context["formset"].forms[1].errors["left_on"] == [f"减员日期不能早于出生日期（{born:%Y-%m-%d}）"]
    assert target.members.filter(is_active=True).count() == 2


def test_new_member_rows_start_with_nothing_chosen(tree: Tree, clerk: Client) -> None:
    page = clerk.get(reverse("household_create")).content.decode()
    for name in ("members-0-relation", "members-0-labour", "members-__prefix__-relation"):
        select = page.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
        assert '<option value="" selected>请选择</option>' in select, name


def test_a_member_leaving_needs_a_reason_and_a_date(tree: Tree, staff: Staff, clerk: Client) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    url = reverse("household_edit", args=[target.pk])
    page = clerk.get(url).context
    refused = clerk.post(url, resubmit(page, members={1: {"remove": True}}))
    row = refused.context["formset"].forms[1]
    assert row.errors["left_reason"] == ["减员须填写减员原因（如死亡、外嫁、迁出）"]
    assert row.errors["left_on"] == ["减员须填写减员日期"]
    assert "第2位成员：减员须填写减员原因" in " ".join(refused.context["errors"])
    future = clerk.post(
        url,
        resubmit(page, members={1: {"remove": True, "left_reason": "外嫁", "left_on": date.today() + timedelta(1)}}),
    )
    assert future.context["formset"].forms[1].errors["left_on"] == ["减员日期不能晚于今天"]
    assert target.members.filter(is_active=True).count() == 2

    saved = clerk.post(
        url, resubmit(page, members={1: {"remove": True, "left_reason": "外嫁", "left_on": "2025-05-01"}})
    )
    assert saved.status_code == 302
    left = target.members.get(is_active=False)
    assert (left.left_reason, left.left_on) == ("外嫁", date(2025, 5, 1))
    assert "（减员 2025-05-01：外嫁）" in clerk.get(saved["Location"]).content.decode()


def test_the_service_refuses_a_member_leaving_without_reason_or_date(tree: Tree, staff: Staff) -> None:
    from django.core.exceptions import ValidationError

    target = household(staff.village_clerk, tree.village_a1)
    spouse = target.members.get(relation="spouse")
    rows = [MemberData(**{**_data(m), "remove": m.pk == spouse.pk}) for m in Member.objects.filter(household=target)]
    with pytest.raises(ValidationError, match="减员须填写原因和日期"):
        household_update(by=staff.village_clerk, household=target, members=rows, expected_version=target.version)


def _data(row: Member) -> dict[str, Any]:
    fields = ["name", "id_number", "relation", "labour", "health", "schooling", "work_place", "work_months"]
    return {"pk": row.pk, "medical_insurance": row.medical_insurance, **{f: getattr(row, f) for f in fields}}


def test_wages_above_the_local_bound_are_saved_only_when_confirmed(tree: Tree, staff: Staff, clerk: Client) -> None:
    IncomeCheckBound.objects.create(region=tree.county, year=2025, quarterly_wages=Decimal("50000"), source="测试")
    target = household(staff.village_clerk, tree.village_a1)
    refused = income_post(clerk, target, wages_migrant_work="40000", wages_other="20000")
    page = refused.content.decode()
    assert "2025年第3季度工资性收入合计 60000.00 元，超过本地单季核实上限 50000.00 元" in page
    assert 'data-testid="wages-confirm"' in page and "确认数据无误" in page
    assert not IncomeRecord.objects.exists()

    confirmed = income_post(clerk, target, wages_migrant_work="40000", wages_other="20000", wages_confirmed="on")
    assert confirmed.status_code == 302
    assert IncomeRecord.objects.get().wages_migrant_work == Decimal("40000")


def test_wages_within_the_bound_or_without_one_need_no_confirmation(tree: Tree, staff: Staff, clerk: Client) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    assert income_post(clerk, target, wages_migrant_work="90000").status_code == 302  # no bound for 2025
    IncomeCheckBound.objects.create(region=tree.county, year=2024, quarterly_wages=Decimal("50000"), source="测试")
    response = clerk.post(
        reverse("income_create", args=[target.pk]), {"year": "2024", "quarter": "3", "wages_other": "50000"}
    )
    assert response.status_code == 302


def test_a_village_bound_overrides_the_county_bound(tree: Tree, staff: Staff, clerk: Client) -> None:
    IncomeCheckBound.objects.create(region=tree.county, year=2025, quarterly_wages=Decimal("50000"), source="测试")
    IncomeCheckBound.objects.create(region=tree.village_a1, year=2025, quarterly_wages=Decimal("20000"), source="测试")
    target = household(staff.village_clerk, tree.village_a1)
    assert "超过本地单季核实上限 20000.00 元" in income_post(clerk, target, wages_other="30000").content.decode()


@pytest.mark.parametrize(
    ("url_name", "params", "expected"),
    [
        ("household_list", {"risk_type": "zzz"}, "风险类型的选项“zzz”不在可选范围内，请重新选择"),
        ("household_list", {"township": "abc"}, "乡镇的选项“abc”不在可选范围内，请重新选择"),
        ("project_list", {"year": "abc"}, "年度请填写四位数的年份，如 2025"),
        ("alert_list", {"quarter": "bad"}, "季度的选项“bad”不在可选范围内，请重新选择"),
        ("entity_list", {"region": "abc"}, "注册地的选项“abc”不在可选范围内，请重新选择"),
        ("audit_list", {"since": "abc"}, "起始日期请填写有效的日期，如 2025-03-01"),
        ("audit_list", {"tab": "abc"}, "栏目的选项“abc”不在可选范围内，请重新选择"),
        ("household_list", {"village": "1\x00"}, f"村{NUL}"),
        ("household_list", {"q": "张\x00"}, f"搜索{NUL}"),
        ("household_list", {"sort": "number\x00"}, f"排序{NUL}"),
        ("entity_list", {"region": "1\x00"}, f"注册地{NUL}"),
        ("allocation_list", {"document_number": "\x00"}, f"文号{NUL}"),
        ("designation_list", {"region": "abc"}, "本级区划的选项“abc”不在可选范围内，请重新选择"),
        ("scale_plan_list", {"region": "-1"}, "本级区划的选项“-1”不在可选范围内，请重新选择"),
    ],
)
def test_a_hand_edited_list_filter_is_refused_in_the_domains_words(
    staff: Staff, url_name: str, params: dict[str, str], expected: str
) -> None:
    client = Client()
    client.force_login(staff.county_admin)
    page = client.get(reverse(url_name), params).content.decode()
    assert f"筛选条件有误：{expected}" in page
    assert "选择一个有效的选项" not in page and "输入一个有效的" not in page and "不允许是用空字符串" not in page
