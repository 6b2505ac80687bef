"""Pages of 资金安排 (a project's funding lines) and 支付 (payments on them)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from funds import filters, services
from funds.forms import FundingForm, PaymentForm
from funds.models import Allocation, Funding, Payment
from funds.money import wan_text, yuan_text
from funds.selectors import registers
from funds.views.common import (
    register_delete,
    register_detail,
    register_form,
    register_list,
    require_permission,
)


def _describe(funding: Funding) -> str:
    allocation = funding.allocation
    return (
        f"{funding.project.code} ← {allocation.year}年{allocation.get_level_display()}资金 {allocation.document_number}"
    )


def _project_url(funding: Funding) -> str:
    return reverse("project_detail", args=[funding.project_id]) + "#fundings"


@login_required
@require_http_methods(["GET", "POST"])
def funding_create(request: HttpRequest, pk: int) -> HttpResponse:
    project = registers.project_get(user=request.user, pk=pk)
    require_permission(request.user, "funds.add_funding")
    allocations = registers.allocations_for_project(user=request.user, project=project)
    form = FundingForm(request.POST or None, allocations=allocations)
    return register_form(
        request,
        tab="projects",
        form=form,
        title=f"安排资金 · {project.code} {project.name}",
        save=lambda data: services.funding_create(
            by=request.user, project=project, allocation=data["allocation"], amount=data["amount"]
        ),
        done=lambda row: reverse("project_detail", args=[project.pk]) + "#fundings",
        cancel_url=reverse("project_detail", args=[project.pk]) + "#fundings",
        context={"intro": "只有入库项目可以安排资金；安排金额不能超过所选资金的剩余金额。"},
    )


@login_required
@require_safe
def funding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    funding = registers.funding_get(user=request.user, pk=pk)
    user = request.user
    return register_detail(
        request,
        tab="projects",
        row=funding,
        title=f"资金安排 · {_describe(funding)}",
        template="funds/funding_detail.html",
        context={
            "funding": funding,
            "payments": registers.funding_payments(funding=funding),
            "allocation_visible": Allocation.objects.visible_to(user).filter(pk=funding.allocation_id).exists(),
            "edit_url": reverse("funding_edit", args=[pk]) if user.has_perm("funds.change_funding") else "",
            "delete_url": reverse("funding_delete", args=[pk]) if user.has_perm("funds.delete_funding") else "",
            "pay_url": reverse("payment_create", args=[pk]) if user.has_perm("funds.add_payment") else "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def funding_edit(request: HttpRequest, pk: int) -> HttpResponse:
    funding = registers.funding_get(user=request.user, pk=pk)
    require_permission(request.user, "funds.change_funding")
    initial = {"version": funding.version, **FundingForm.initial_amounts(funding)}
    form = FundingForm(request.POST or None, editing=True, initial=initial)
    return register_form(
        request,
        tab="projects",
        form=form,
        title=f"修改资金安排 · {_describe(funding)}",
        save=lambda data: services.funding_update(
            by=request.user, funding=funding, expected_version=data["version"], amount=data["amount"]
        ),
        done=lambda row: reverse("funding_detail", args=[pk]),
        cancel_url=reverse("funding_detail", args=[pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def funding_delete(request: HttpRequest, pk: int) -> HttpResponse:
    funding = registers.funding_get(user=request.user, pk=pk)
    require_permission(request.user, "funds.delete_funding")
    return register_delete(
        request,
        tab="projects",
        row=funding,
        title=f"资金安排 · {_describe(funding)}",
        delete=lambda version: services.funding_delete(by=request.user, funding=funding, expected_version=version),
        done_url=_project_url(funding),
        cancel_url=reverse("funding_detail", args=[pk]),
    )


# 支付 ----------------------------------------------------------------------------------------------


def _payment_title(payment: Payment) -> str:
    return f"{payment.funding.project.code} {payment.paid_on:%Y-%m-%d} 支付"


@login_required
@require_safe
def payment_list(request: HttpRequest) -> HttpResponse:
    return register_list(
        request,
        tab="payments",
        filterset_class=filters.PaymentFilter,
        rows=registers.payment_list(user=request.user),
        template="funds/payment_list.html",
        sums="amount",
    )


@login_required
@require_http_methods(["GET", "POST"])
def payment_create(request: HttpRequest, pk: int) -> HttpResponse:
    funding = registers.funding_get(user=request.user, pk=pk)
    require_permission(request.user, "funds.add_payment")
    form = PaymentForm(request.POST or None)
    unpaid = funding.amount - funding.paid  # type: ignore[attr-defined]
    return register_form(
        request,
        tab="payments",
        form=form,
        title=f"登记支付 · {_describe(funding)}",
        save=lambda data: services.payment_create(
            by=request.user, funding=funding, paid_on=data["paid_on"], amount=data["amount"], voucher=data["voucher"]
        ),
        done=lambda row: _project_url(funding),
        cancel_url=_project_url(funding),
        context={"intro": f"该项资金安排未支付 {yuan_text(unpaid)} 元（{wan_text(unpaid)} 万元）"},
    )


@login_required
@require_safe
def payment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    payment = registers.payment_get(user=request.user, pk=pk)
    user = request.user
    return register_detail(
        request,
        tab="payments",
        row=payment,
        title=f"资金支付 · {_payment_title(payment)}",
        template="funds/payment_detail.html",
        context={
            "payment": payment,
            "edit_url": reverse("payment_edit", args=[pk]) if user.has_perm("funds.change_payment") else "",
            "delete_url": reverse("payment_delete", args=[pk]) if user.has_perm("funds.delete_payment") else "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def payment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    payment = registers.payment_get(user=request.user, pk=pk)
    require_permission(request.user, "funds.change_payment")
    initial = {
        "version": payment.version,
        "paid_on": payment.paid_on,
        "voucher": payment.voucher,
        **PaymentForm.initial_amounts(payment),
    }
    form = PaymentForm(request.POST or None, editing=True, initial=initial)
    return register_form(
        request,
        tab="payments",
        form=form,
        title=f"修改资金支付 · {_payment_title(payment)}",
        save=lambda data: services.payment_update(
            by=request.user,
            payment=payment,
            expected_version=data["version"],
            paid_on=data["paid_on"],
            amount=data["amount"],
            voucher=data["voucher"],
        ),
        done=lambda row: reverse("payment_detail", args=[pk]),
        cancel_url=reverse("payment_detail", args=[pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def payment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    payment = registers.payment_get(user=request.user, pk=pk)
    require_permission(request.user, "funds.delete_payment")
    return register_delete(
        request,
        tab="payments",
        row=payment,
        title=f"资金支付 · {_payment_title(payment)}",
        delete=lambda version: services.payment_delete(by=request.user, payment=payment, expected_version=version),
        done_url=reverse("project_detail", args=[payment.funding.project_id]) + "#payments",
        cancel_url=reverse("payment_detail", args=[pk]),
    )
