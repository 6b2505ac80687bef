"""Pages of 资金下达: a county's allocations by year and level, their splits to townships, the
funding lines drawn on them and what is left."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from funds import filters, services
from funds.forms import AllocationForm, SplitForm
from funds.models import Allocation, Funding
from funds.selectors import registers
from funds.views.common import register_delete, register_detail, register_form, register_list, require_permission


def _describe(allocation: Allocation) -> str:
    return f"{allocation.year}年{allocation.get_level_display()}资金 {allocation.document_number}"


@login_required
@require_safe
def allocation_list(request: HttpRequest) -> HttpResponse:
    return register_list(
        request,
        tab="allocations",
        filterset_class=filters.AllocationFilter,
        rows=registers.allocation_list(user=request.user),
        template="funds/allocation_list.html",
        sums="amount",
        extra={"can_add": request.user.has_perm("funds.add_allocation")},
    )


@login_required
@require_safe
def allocation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = registers.allocation_get(user=request.user, pk=pk)
    user = request.user
    fundings = (
        Funding.objects.visible_to(user)
        .filter(allocation=allocation)
        .select_related("project", "project__region", "project__project_type")
        .annotate(paid=registers.paid_of_fundings())
        .order_by("project__code")
    )
    can_change = user.has_perm("funds.change_allocation")
    context: dict[str, Any] = {
        "allocation": allocation,
        "splits": registers.allocation_splits(allocation=allocation),
        "fundings": fundings,
        "edit_url": reverse("allocation_edit", args=[pk]) if can_change else "",
        "delete_url": reverse("allocation_delete", args=[pk]) if user.has_perm("funds.delete_allocation") else "",
        "split_url": reverse("allocation_split", args=[pk])
        if user.has_perm("funds.add_allocation") and allocation.parent_id is None
        else "",
    }
    return register_detail(
        request,
        tab="allocations",
        row=allocation,
        title=f"资金下达 · {_describe(allocation)}",
        template="funds/allocation_detail.html",
        context=context,
    )


def _save_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "document_number": data["document_number"],
        "issued_on": data["issued_on"],
        "amount": data["amount"],
        "note": data["note"],
    }


@login_required
@permission_required("funds.add_allocation", raise_exception=True)
@require_http_methods(["GET", "POST"])
def allocation_create(request: HttpRequest) -> HttpResponse:
    form = AllocationForm(request.POST or None, user=request.user)
    return register_form(
        request,
        tab="allocations",
        form=form,
        title="登记资金下达",
        save=lambda data: services.allocation_create(
            by=request.user, county=data["county"], year=data["year"], level=data["level"], **_save_fields(data)
        ),
        done=lambda row: reverse("allocation_detail", args=[row.pk]),
        cancel_url=reverse("allocation_list"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def allocation_split(request: HttpRequest, pk: int) -> HttpResponse:
    parent = registers.allocation_get(user=request.user, pk=pk)
    require_permission(request.user, "funds.add_allocation")
    if parent.parent_id is not None:
        messages.error(request, "已分配到乡镇的资金不能再分配")
        return redirect("allocation_detail", pk=pk)
    form = SplitForm(request.POST or None, user=request.user, parent=parent)
    return register_form(
        request,
        tab="allocations",
        form=form,
        title=f"分配到乡镇 · {_describe(parent)}",
        save=lambda data: services.allocation_split(
            by=request.user, parent=parent, township=data["township"], **_save_fields(data)
        ),
        done=lambda row: reverse("allocation_detail", args=[parent.pk]),
        cancel_url=reverse("allocation_detail", args=[pk]),
        context={"intro": f"可分配 {registers.remainder_text(parent)}"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def allocation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = registers.allocation_get(user=request.user, pk=pk)
    require_permission(request.user, "funds.change_allocation")
    split = allocation.parent_id is not None
    initial = {
        "version": allocation.version,
        "year": allocation.year,
        "level": allocation.level,
        "document_number": allocation.document_number,
        "issued_on": allocation.issued_on,
        "note": allocation.note,
        **AllocationForm.initial_amounts(allocation),
    }
    form = AllocationForm(request.POST or None, user=request.user, editing=True, split=split, initial=initial)
    return register_form(
        request,
        tab="allocations",
        form=form,
        title=f"修改资金下达 · {_describe(allocation)}",
        save=lambda data: services.allocation_update(
            by=request.user,
            allocation=allocation,
            expected_version=data["version"],
            year=data.get("year", allocation.year),
            level=data.get("level", allocation.level),
            **_save_fields(data),
        ),
        done=lambda row: reverse("allocation_detail", args=[row.pk]),
        cancel_url=reverse("allocation_detail", args=[pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def allocation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = registers.allocation_get(user=request.user, pk=pk)
    require_permission(request.user, "funds.delete_allocation")
    back = (
        reverse("allocation_detail", args=[allocation.parent_id])
        if allocation.parent_id
        else reverse("allocation_list")
    )
    return register_delete(
        request,
        tab="allocations",
        row=allocation,
        title=f"资金下达 · {_describe(allocation)}",
        delete=lambda version: services.allocation_delete(
            by=request.user, allocation=allocation, expected_version=version
        ),
        done_url=back,
        cancel_url=reverse("allocation_detail", args=[pk]),
    )
