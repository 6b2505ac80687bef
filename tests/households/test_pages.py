"""The pages as a clerk uses them: forms, messages on fields, history, warnings."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from households.models import Household, IncomeRecord, Labour, Member, Relation
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household, id_number, income, member, threshold


@pytest.fixture
def clerk(staff: Staff) -> Client:
    client = Client()
    client.login(username=staff.village_clerk.username, password=PASSWORD)
    return client


def household_post(tree: Tree, members: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": "532326100201-T1",
        "village": tree.village_a1.pk,
        "household_type": "lifted",
        "lifted_year": "2019",
        "phone": "13800000000",
        "members-TOTAL_FORMS": str(len(members)),
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "1",
        "members-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for index, values in enumerate(members):
        row = {
            "labour": "ordinary",
            "health": "healthy",
            "schooling": "none",
            "work_months": "0",
            "medical_insurance": "on",
            **values,
        }
        for key, value in row.items():
            data[f"members-{index}-{key}"] = value
    return data


def resubmit(form_context: Any, members: dict[int, dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    """The edit page's form posted back as it was shown, with `fields` and members[index] changed."""
    form = form_context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update({"village": form["village"].value(), "version": form["version"].value(), **fields})
    formset = form_context["formset"]
    data.update({f"members-{k}": v for k, v in formset.management_form.initial.items()})
    for index, member_form in enumerate(formset.forms):
        values = {**member_form.initial, **(members or {}).get(index, {})}
        for key, value in values.items():
            if key == "medical_insurance":
                if value:
                    data[f"members-{index}-{key}"] = "on"
            else:
                data[f"members-{index}-{key}"] = value
    return data


def test_a_clerk_registers_a_household_with_three_members(tree: Tree, clerk: Client) -> None:
    members = [
        {"name": "张三", "id_number": id_number("19750305"), "relation": "head"},
        {"name": "李梅", "id_number": id_number("19780612"), "relation": "spouse"},
        {
            "name": "张小",
            "id_number": id_number("20100901"),
            "relation": "son",
            "labour": "none",
            "schooling": "junior",
        },
    ]
    response = clerk.post(reverse("household_create"), household_post(tree, members))
    assert response.status_code == 302
    created = Household.objects.get(number="532326100201-T1")
    assert created.size() == 3
    detail = clerk.get(response["Location"]).content.decode()
    assert "张三 户" in detail and "张小" in detail


def test_two_heads_are_refused_on_the_page_and_nothing_is_saved(tree: Tree, clerk: Client) -> None:
    members = [
        {"name": "张三", "id_number": id_number(), "relation": "head"},
        {"name": "李梅", "id_number": id_number(), "relation": "head"},
    ]
    response = clerk.post(reverse("household_create"), household_post(tree, members))
    assert response.status_code == 200
    assert "一户只能有一名户主" in response.content.decode()
    assert not Household.objects.exists()


def test_an_invalid_id_number_is_explained_on_its_field(tree: Tree, clerk: Client) -> None:
    valid = id_number()
    wrong_check = valid[:-1] + ("1" if valid[-1] == "0" else "0")
    members = [{"name": "张三", "id_number": wrong_check, "relation": "head"}]
    response = clerk.post(reverse("household_create"), household_post(tree, members))
    assert "身份证号校验码错误" in response.content.decode()
    assert response.context["formset"].forms[0].errors["id_number"]
    assert not Member.objects.exists()


def test_the_second_of_two_concurrent_edits_is_refused(tree: Tree, staff: Staff, clerk: Client) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    url = reverse("household_edit", args=[target.pk])
    first_form = clerk.get(url).context
    other = Client()
    other.login(username=staff.township_admin.username, password=PASSWORD)
    second_form = other.get(url).context

    assert clerk.post(url, resubmit(first_form, address="一组12号")).status_code == 302
    refused = other.post(url, resubmit(second_form, address="二组8号"))
    assert refused.status_code == 200
    assert "已被他人修改" in refused.content.decode()
    target.refresh_from_db()
    assert target.address == "一组12号"


def test_an_edit_without_its_version_is_refused_and_saves_nothing(tree: Tree, staff: Staff, clerk: Client) -> None:
    target = household(staff.village_clerk, tree.village_a1, address="一组")
    url = reverse("household_edit", args=[target.pk])
    data = resubmit(clerk.get(url).context, address="二组")
    del data["version"]
    response = clerk.post(url, data)
    assert response.status_code == 200
    assert "页面已过期，请刷新后重新编辑" in response.content.decode()
    stored = Household.objects.get(pk=target.pk)
    assert (stored.address, stored.version) == ("一组", target.version)


def test_a_correction_without_its_version_is_refused(tree: Tree, staff: Staff, clerk: Client) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    income(staff.village_clerk, target, "2025Q1", wages_other="100")
    response = clerk.post(reverse("income_edit", args=[target.pk, "2025Q1"]), {"wages_other": "250"})
    assert "页面已过期，请刷新后重新编辑" in response.content.decode()
    assert IncomeRecord.objects.get(household=target).wages_other == 100


def six_members() -> list[Any]:
    return [
        member(),
        member(Relation.SPOUSE, name="李四", birth="19820202"),
        member(Relation.SON, name="张一", birth="20050303"),
        member(Relation.DAUGHTER, name="张二", birth="20080404"),
        member(Relation.FATHER, name="张老", birth="19500505", labour=Labour.NONE),
        member(Relation.MOTHER, name="王老", birth="19520606", labour=Labour.NONE),
    ]


def test_saving_an_unchanged_household_eight_times_writes_no_history(tree: Tree, staff: Staff, clerk: Client) -> None:
    target = household(staff.village_clerk, tree.village_a1, members=six_members())
    url = reverse("household_edit", args=[target.pk])
    members_before, household_before = Member.history.count(), Household.history.count()
    for _ in range(8):
        assert clerk.post(url, resubmit(clerk.get(url).context)).status_code == 302
    assert Member.history.count() == members_before
    assert Household.history.count() == household_before


def test_a_save_changing_one_member_writes_one_member_history_row(tree: Tree, staff: Staff, clerk: Client) -> None:
    target = household(staff.village_clerk, tree.village_a1, members=six_members())
    url = reverse("household_edit", args=[target.pk])
    members_before, household_before = Member.history.count(), Household.history.count()
    page = clerk.get(url).context
    assert clerk.post(url, resubmit(page, members={2: {"work_place": "昆明", "work_months": 6}})).status_code == 302
    assert Member.history.count() == members_before + 1
    assert Member.history.latest("history_id").work_place == "昆明"
    # The household's own history records the new version (no field of its own changed), so that the
    # API's conflict queue can read back the base of any version a form made.
    assert Household.history.count() == household_before + 1
    assert Household.history.latest("history_id").version == Household.objects.get(pk=target.pk).version
    # The page's version moved on, so a second tab still showing the old members is refused.
    stale = clerk.post(url, resubmit(page, members={3: {"work_place": "大理", "work_months": 3}}))
    assert "已被他人修改" in stale.content.decode()
    assert Member.history.count() == members_before + 1


def test_income_entry_saves_and_the_detail_page_shows_per_capita(tree: Tree, staff: Staff, clerk: Client) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    response = clerk.post(
        reverse("income_create", args=[target.pk]),
        {
            "year": "2025",
            "quarter": "3",
            "wages_migrant_work": "9000",
            "operating_planting": "3000",
            "operating_costs": "1000",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "人均纯收入 5500.00 元" in page
    assert IncomeRecord.objects.get(household=target).per_capita_net_income == 5500


def test_a_negative_amount_is_refused_on_its_field(tree: Tree, staff: Staff, clerk: Client) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    response = clerk.post(
        reverse("income_create", args=[target.pk]), {"year": "2025", "quarter": "3", "wages_other": "-5"}
    )
    assert response.status_code == 200
    assert "金额不能为负数" in response.content.decode()
    assert not IncomeRecord.objects.exists()


def test_a_quarter_entered_twice_is_refused_with_a_message(tree: Tree, staff: Staff, clerk: Client) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    income(staff.village_clerk, target, "2025Q3", wages_other="100")
    response = clerk.post(
        reverse("income_create", args=[target.pk]), {"year": "2025", "quarter": "3", "wages_other": "200"}
    )
    assert "2025年第3季度收入已录入" in response.content.decode()
    assert IncomeRecord.objects.get(household=target).wages_other == 100


def test_saving_income_below_the_threshold_warns_without_blocking(tree: Tree, staff: Staff, clerk: Client) -> None:
    threshold(tree.province, 2025, "8700")
    target = household(staff.village_clerk, tree.village_a1)
    for quarter in ["2024Q4", "2025Q1", "2025Q2"]:
        income(staff.village_clerk, target, quarter, wages_other="2000")
    response = clerk.post(
        reverse("income_create", args=[target.pk]), {"year": "2025", "quarter": "3", "wages_other": "2000"}, follow=True
    )
    assert "低于2025年监测标准8700.00元" in response.content.decode()
    assert IncomeRecord.objects.filter(household=target).count() == 4


def test_the_history_shows_who_changed_what_from_old_to_new(tree: Tree, staff: Staff, clerk: Client) -> None:
    target = household(staff.village_clerk, tree.village_a1, address="老地址")
    record = income(staff.village_clerk, target, "2025Q1", wages_other="100")
    clerk.post(
        reverse("income_edit", args=[target.pk, "2025Q1"]),
        {"wages_other": "250", "version": record.version},
    )
    page = clerk.get(reverse("household_detail", args=[target.pk])).content.decode()
    assert "其他工资性收入：100.00 → 250.00" in page
    assert "2025年第1季度收入" in page


def test_cancelling_keeps_the_record_and_hides_it_from_the_default_list(
    tree: Tree, staff: Staff, clerk: Client
) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    clerk.post(reverse("household_cancel", args=[target.pk]), {"reason": "全户迁出", "version": target.version})
    target.refresh_from_db()
    assert target.status == "cancelled" and target.cancelled_reason == "全户迁出"
    assert clerk.get(reverse("household_list")).context["page"].paginator.count == 0
    assert clerk.get(reverse("household_list"), {"cancelled": "on"}).context["page"].paginator.count == 1


def test_the_list_filters_by_search_type_and_below_threshold(tree: Tree, staff: Staff, clerk: Client) -> None:
    threshold(tree.province, 2025, "8700")
    poor = household(staff.village_clerk, tree.village_a1)
    household(staff.village_clerk, tree.village_a1, household_type="ordinary")
    for quarter in ["2024Q4", "2025Q1", "2025Q2", "2025Q3"]:
        income(staff.village_clerk, poor, quarter, wages_other="1000")

    def count(**params: str) -> int:
        return int(clerk.get(reverse("household_list"), params).context["page"].paginator.count)

    assert count() == 2
    assert count(household_type="ordinary") == 1
    assert count(below="on") == 1
    head = poor.members.get(relation="head")
    assert count(q=head.id_number) == 1
    assert count(q=head.name) == 2  # both heads are named 张三 by the factory
    assert count(q=poor.number) == 1


def test_a_local_household_number_is_found_by_the_list_search(tree: Tree, staff: Staff, clerk: Client) -> None:
    household(staff.village_clerk, tree.village_a1, number=f"L{tree.village_a1.code}-0001")
    household(staff.village_clerk, tree.village_a1)
    response = clerk.get(reverse("household_list"), {"q": f"L{tree.village_a1.code}-00"})
    assert response.context["page"].paginator.count == 1
