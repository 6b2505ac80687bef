"""Rules that live on the model, so the forms, the admin and the imports all apply the same ones."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from households.excel.normalise import CellError, parse_phone
from households.models import Household, validate_phone
from households.services import household_update
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household


@pytest.fixture
def clerk(staff: Staff) -> Client:
    client = Client()
    client.login(username=staff.village_clerk.username, password=PASSWORD)
    return client


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
