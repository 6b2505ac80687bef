"""Pages of the county's catalogue of 特色产业: everyone in the county reads it, its administrators keep it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from industries import filters, selectors, services
from industries.forms import IndustryForm
from industries.views.registers import edit_initial, register_detail, register_form, register_list, require_permission


@login_required
def industry_list(request: HttpRequest) -> HttpResponse:
    return register_list(
        request,
        tab="catalogue",
        filterset_class=filters.CatalogueFilter,
        rows=selectors.industry_list(user=request.user),
        template="industries/industry_list.html",
        can_add=request.user.has_perm("industries.add_industry"),
    )


@login_required
def industry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    industry = selectors.industry_get(user=request.user, pk=pk)
    fields = [
        ("所属县", industry.county.name),
        ("产业名称", industry.name),
        ("产业类别", industry.category.name),
        ("计量单位", industry.unit.name),
        ("状态", "在用" if industry.is_active else "已停用"),
        ("说明", industry.note or "—"),
    ]
    can_change = request.user.has_perm("industries.change_industry")
    urls = {"edit_url": reverse("industry_edit", args=[pk]) if can_change else ""}
    title = f"特色产业 · {industry.name}"
    return register_detail(request, tab="catalogue", row=industry, title=title, fields=fields, urls=urls)


@login_required
@permission_required("industries.add_industry", raise_exception=True)
@require_http_methods(["GET", "POST"])
def industry_create(request: HttpRequest) -> HttpResponse:
    form = IndustryForm(request.POST or None, user=request.user)
    return register_form(
        request,
        tab="catalogue",
        form=form,
        title="新增特色产业",
        save=lambda data: services.industry_create(
            by=request.user,
            county=data["county"],
            name=data["name"],
            category=data["category"],
            unit=data["unit"],
            note=data["note"],
            is_active=data["is_active"],
        ),
        done=lambda row: reverse("industry_detail", args=[row.pk]),
        cancel_url=reverse("industry_list"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def industry_edit(request: HttpRequest, pk: int) -> HttpResponse:
    industry = selectors.industry_get(user=request.user, pk=pk)
    require_permission(request.user, "industries.change_industry")
    initial = edit_initial(industry, ["name", "category", "unit", "note", "is_active"])
    form = IndustryForm(request.POST or None, user=request.user, editing=True, initial=initial)
    return register_form(
        request,
        tab="catalogue",
        form=form,
        title=f"修改特色产业 · {industry.name}",
        save=lambda data: services.industry_update(
            by=request.user,
            industry=industry,
            expected_version=data["version"],
            name=data["name"],
            category=data["category"],
            unit=data["unit"],
            note=data["note"],
            is_active=data["is_active"],
        ),
        done=lambda row: reverse("industry_detail", args=[row.pk]),
        cancel_url=reverse("industry_detail", args=[pk]),
    )
