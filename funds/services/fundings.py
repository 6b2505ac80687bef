"""资金安排 and 支付: which allocation pays how much for a library project, and what has been paid.

A funding line never exceeds what is left of its allocation, and a payment never exceeds what is
left of its funding line. Both checks read under a row lock (select_for_update) of the allocation or
the funding line, so two concurrent saves cannot both spend the same remainder.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils.translation import gettext as _

from funds.models import PAYMENT_VOUCHER_TAKEN, Allocation, Funding, Payment, Project
from funds.services import messages
from funds.services.allocations import allocation_used, lock_allocation
from funds.services.common import (
    atomic_write,
    claim_next_version,
    register_row_delete,
    register_row_save,
    require_not_future,
    require_permission,
    require_row_in_scope,
)

ZERO = Decimal("0.00")
NOT_IN_LIBRARY = messages.NOT_IN_LIBRARY


def _paid(funding: Funding, *, except_payment: int | None = None) -> Decimal:
    payments = Payment.objects.filter(funding=funding).exclude(pk=except_payment).order_by()
    return payments.aggregate(total=Sum("amount"))["total"] or ZERO


def _codes(funding: Funding) -> list[str]:
    return [funding.project.region.code, funding.allocation.region.code]


def _over_remainder(left: Decimal) -> ValidationError:
    return ValidationError({"amount": messages.funding_over_remainder(left)})


@atomic_write
def funding_create(*, by: Any, project: Project, allocation: Allocation, amount: Decimal) -> Funding:
    """Pay part of a library project from an allocation (within what is left of the allocation)."""
    require_permission(by, "funds.add_funding")
    require_row_in_scope(by, project)
    require_row_in_scope(by, allocation)
    # The project's row is locked too: a concurrent send-back to 储备 waits, then sees this line.
    project = Project.objects.select_for_update().select_related("region").get(pk=project.pk)
    if not project.in_library:
        raise ValidationError(NOT_IN_LIBRARY)
    if not allocation.region.contains(project.region):
        raise ValidationError(
            {"allocation": messages.funding_wrong_source(allocation.region.name, project.region.name)}
        )
    if Funding.objects.filter(project=project, allocation=allocation).exists():
        raise ValidationError({"allocation": _("该项目已安排了这笔资金，请修改原安排的金额")})
    locked = lock_allocation(allocation)
    left = locked.amount - allocation_used(locked)
    if amount > left:
        raise _over_remainder(left)
    funding = Funding(project=project, allocation=locked, amount=amount)
    register_row_save(
        funding,
        by=by,
        codes=_codes(funding),
        duplicate=ValidationError({"allocation": _("该项目已安排了这笔资金，请修改原安排的金额")}),
    )
    return funding


@atomic_write
def funding_update(*, by: Any, funding: Funding, expected_version: int, amount: Decimal) -> Funding:
    """Change how much a funding line gives: within the allocation's remainder, not below what is paid."""
    require_permission(by, "funds.change_funding")
    require_row_in_scope(by, funding)
    locked = lock_allocation(funding.allocation)
    claim_next_version(funding, expected_version)
    most = locked.amount - allocation_used(locked, except_funding=funding.pk)
    if amount > most:
        raise ValidationError({"amount": messages.funding_over_most(most)})
    paid = _paid(funding)
    if amount < paid:
        raise ValidationError({"amount": messages.funding_below_paid(paid)})
    funding.amount = amount
    register_row_save(funding, by=by, codes=_codes(funding))
    return funding


@atomic_write
def funding_delete(*, by: Any, funding: Funding, expected_version: int) -> None:
    require_permission(by, "funds.delete_funding")
    require_row_in_scope(by, funding)
    lock_allocation(funding.allocation)
    if Payment.objects.filter(funding=funding).exists():
        raise ValidationError(_("该资金安排已有支付记录，不能撤销；请先删除支付记录"))
    register_row_delete(funding, by=by, codes=_codes(funding), expected_version=expected_version)


# 支付 ----------------------------------------------------------------------------------------------


def _lock_funding(funding: Funding) -> Funding:
    return Funding.objects.select_for_update().get(pk=funding.pk)


def _voucher_taken() -> ValidationError:
    """What a concurrent payment of the same line, day and 凭证号 that saved first leaves this one."""
    return ValidationError({"voucher": PAYMENT_VOUCHER_TAKEN})


def _over_funding(left: Decimal) -> ValidationError:
    return ValidationError({"amount": messages.payment_over_unpaid(left)})


@atomic_write
def payment_create(*, by: Any, funding: Funding, paid_on: date, amount: Decimal, voucher: str = "") -> Payment:
    """Record money paid out on a funding line (not more than is left unpaid on it)."""
    require_permission(by, "funds.add_payment")
    require_row_in_scope(by, funding)
    require_not_future(paid_on, "paid_on", _("支付日期"))
    locked = _lock_funding(funding)
    left = locked.amount - _paid(locked)
    if amount > left:
        raise _over_funding(left)
    payment = Payment(funding=funding, paid_on=paid_on, amount=amount, voucher=voucher.strip())
    register_row_save(payment, by=by, codes=_codes(funding), duplicate=_voucher_taken())
    return payment


@atomic_write
def payment_update(
    *, by: Any, payment: Payment, expected_version: int, paid_on: date, amount: Decimal, voucher: str
) -> Payment:
    require_permission(by, "funds.change_payment")
    require_row_in_scope(by, payment)
    require_not_future(paid_on, "paid_on", _("支付日期"))
    locked = _lock_funding(payment.funding)
    claim_next_version(payment, expected_version)
    most = locked.amount - _paid(locked, except_payment=payment.pk)
    if amount > most:
        raise ValidationError({"amount": messages.payment_over_most(most)})
    payment.paid_on, payment.amount, payment.voucher = paid_on, amount, voucher.strip()
    register_row_save(payment, by=by, codes=_codes(payment.funding), duplicate=_voucher_taken())
    return payment


@atomic_write
def payment_delete(*, by: Any, payment: Payment, expected_version: int) -> None:
    require_permission(by, "funds.delete_payment")
    require_row_in_scope(by, payment)
    register_row_delete(payment, by=by, codes=_codes(payment.funding), expected_version=expected_version)
