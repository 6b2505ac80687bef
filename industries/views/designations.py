"""Pages of the 主导产业 designations: a region's lead industries by year, with its 一县一业/一乡一特/一村一品."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from industries import filters, selectors, services
from industries.forms import DesignationForm
from industries.models import Designation
from industries.views.registers import (
    edit_initial,
    register_delete,
    register_detail,
    register_form,
    register_list,
    require_permission,
)


def _describe(designation: Designation) -> str:
    return f"{designation.region.name} {designation.year}年 {designation.industry.name}"


@login_required
def designation_list(request: HttpRequest) -> HttpResponse:
    return register_list(
        request,
        tab="designations",
        filterset_class=filters.DesignationFilter,
        rows=selectors.designation_list(user=request.user),
        template="industries/designation_list.html",
        can_add=request.user.has_perm("industries.add_designation"),
    )


@login_required
def designation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    designation = selectors.designation_get(user=request.user, pk=pk)
    fields = [
        ("区划", designation.region.full_name()),
        ("年度", f"{designation.year}年"),
        ("主导产业", designation.industry.name),
        ("产业类别", designation.industry.category.name),
        (designation.signature_label, "是" if designation.is_signature else "否"),
    ]
    user = request.user
    urls = {
        "edit_url": reverse("designation_edit", args=[pk]) if user.has_perm("industries.change_designation") else "",
        "delete_url": reverse("designation_delete", args=[pk])
        if user.has_perm("industries.delete_designation")
        else "",
    }
    title = f"主导产业 · {_describe(designation)}"
    return register_detail(request, tab="designations", row=designation, title=title, fields=fields, urls=urls)


@login_required
@permission_required("industries.add_designation", raise_exception=True)
@require_http_methods(["GET", "POST"])
def designation_create(request: HttpRequest) -> HttpResponse:
    form = DesignationForm(request.POST or None, user=request.user, initial=request.GET.dict())
    return register_form(
        request,
        tab="designations",
        form=form,
        title="确定主导产业",
        save=lambda data: services.designation_create(
            by=request.user,
            region=data["region"],
            year=data["year"],
            industry=data["industry"],
            is_signature=data["is_signature"],
        ),
        done=lambda row: reverse("designation_detail", args=[row.pk]),
        cancel_url=reverse("designation_list"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def designation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    designation = selectors.designation_get(user=request.user, pk=pk)
    require_permission(request.user, "industries.change_designation")
    initial = edit_initial(designation, ["year", "industry", "is_signature"])
    form = DesignationForm(request.POST or None, user=request.user, editing=True, initial=initial)
    return register_form(
        request,
        tab="designations",
        form=form,
        title=f"修改主导产业 · {_describe(designation)}",
        save=lambda data: services.designation_update(
            by=request.user,
            designation=designation,
            expected_version=data["version"],
            year=data["year"],
            industry=data["industry"],
            is_signature=data["is_signature"],
        ),
        done=lambda row: reverse("designation_detail", args=[row.pk]),
        cancel_url=reverse("designation_detail", args=[pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def designation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    designation = selectors.designation_get(user=request.user, pk=pk)
    require_permission(request.user, "industries.delete_designation")
    return register_delete(
        request,
        tab="designations",
        row=designation,
        title=f"主导产业 · {_describe(designation)}",
        delete=lambda version: services.designation_delete(
            by=request.user, designation=designation, expected_version=version
        ),
        done_url=reverse("designation_list"),
        cancel_url=reverse("designation_detail", args=[pk]),
    )
