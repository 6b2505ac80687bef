"""A payment is one (funding line, 支付日期, 凭证号), as the Excel register identifies it: a second payment
of the same line on the same day with the same 凭证号 (an empty one included) is refused by the model's
validation in words on the 凭证号, by forms, services and imports alike, and by the database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from funds import services
from funds.models import Payment
from tests.conftest import Staff
from tests.funds.conftest import Rows
from tests.funds.test_pages import login

TAKEN = "该项资金安排在这一天已有凭证号相同的支付；同一天的多笔支付请填写不同的凭证号（未填凭证号的只能有一笔）"


def test_the_model_refuses_a_second_payment_of_a_line_on_a_day_with_the_same_voucher(township_b_rows: Rows) -> None:
    first = township_b_rows.payment  # 2025-06-01, no 凭证号
    again = Payment(funding=first.funding, paid_on=first.paid_on, amount=Decimal("1"), voucher="")
    with pytest.raises(ValidationError) as refused:
        again.full_clean()
    assert refused.value.message_dict == {"voucher": [TAKEN]}
    Payment(funding=first.funding, paid_on=first.paid_on, amount=Decimal("1"), voucher="ZF-2").full_clean()
    Payment(funding=first.funding, paid_on=date(2025, 6, 2), amount=Decimal("1"), voucher="").full_clean()


def test_the_services_refuse_it_on_create_and_on_update_and_save_nothing(township_b_rows: Rows, staff: Staff) -> None:
    admin = staff.other_township_admin
    first = township_b_rows.payment
    with pytest.raises(ValidationError) as refused:
        services.payment_create(by=admin, funding=first.funding, paid_on=first.paid_on, amount=Decimal("1"))
    assert refused.value.message_dict == {"voucher": [TAKEN]}
    other = services.payment_create(
        by=admin, funding=first.funding, paid_on=first.paid_on, amount=Decimal("1"), voucher="ZF-2"
    )
    with pytest.raises(ValidationError) as refused:
        services.payment_update(
            by=admin,
            payment=Payment.objects.get(pk=other.pk),
            expected_version=other.version,
            paid_on=first.paid_on,
            amount=Decimal("2"),
            voucher=" ",
        )
    assert refused.value.message_dict == {"voucher": [TAKEN]}
    assert sorted(Payment.objects.values_list("voucher", "amount")) == [
        ("", Decimal("40000.00")),
        ("ZF-2", Decimal("1.00")),
    ]


def test_the_payment_form_says_it_on_the_voucher(township_b_rows: Rows, staff: Staff) -> None:
    client = login(staff.other_township_admin)
    response = client.post(
        reverse("payment_create", args=[township_b_rows.funding.pk]),
        {"paid_on": "2025-06-01", "amount": "100", "unit": "yuan", "voucher": ""},
    )
    assert response.context["form"].error_summary() == [f"凭证号：{TAKEN}"]
    assert Payment.objects.count() == 1


def test_the_database_holds_the_key_without_the_models_validation(township_b_rows: Rows) -> None:
    first = township_b_rows.payment
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.bulk_create([Payment(funding=first.funding, paid_on=first.paid_on, amount=Decimal("1"))])
