"""Pages of planned scale (计划规模), reported scale (实际规模) and the two side by side (计划与实际规模)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from industries import filters, selectors, services
from industries.forms import ScalePlanForm, ScaleReportForm
from industries.models import ScalePlan, ScaleReport
from industries.views.registers import (
    edit_initial,
    register_delete,
    register_detail,
    register_form,
    register_list,
    require_permission,
)


def _scale_text(row: ScalePlan | ScaleReport) -> str:
    return f"{row.scale.normalize():f} {row.industry.unit.name}"


# 计划规模 ---------------------------------------------------------------------------------------


def _plan_title(plan: ScalePlan) -> str:
    return f"{plan.region.name} {plan.year}年 {plan.industry.name}"


@login_required
def scale_plan_list(request: HttpRequest) -> HttpResponse:
    return register_list(
        request,
        tab="plans",
        filterset_class=filters.ScalePlanFilter,
        rows=selectors.scale_plan_list(user=request.user),
        template="industries/scale_plan_list.html",
        can_add=request.user.has_perm("industries.add_scaleplan"),
    )


@login_required
def scale_plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.scale_plan_get(user=request.user, pk=pk)
    fields = [
        ("区划", plan.region.full_name()),
        ("年度", f"{plan.year}年"),
        ("产业", plan.industry.name),
        ("计划规模", _scale_text(plan)),
        ("依据文件", plan.source_document or "—"),
    ]
    user = request.user
    urls = {
        "edit_url": reverse("scale_plan_edit", args=[pk]) if user.has_perm("industries.change_scaleplan") else "",
        "delete_url": reverse("scale_plan_delete", args=[pk]) if user.has_perm("industries.delete_scaleplan") else "",
    }
    title = f"计划规模 · {_plan_title(plan)}"
    return register_detail(request, tab="plans", row=plan, title=title, fields=fields, urls=urls)


@login_required
@permission_required("industries.add_scaleplan", raise_exception=True)
@require_http_methods(["GET", "POST"])
def scale_plan_create(request: HttpRequest) -> HttpResponse:
    form = ScalePlanForm(request.POST or None, user=request.user, initial=request.GET.dict())
    return register_form(
        request,
        tab="plans",
        form=form,
        title="填写计划规模",
        save=lambda data: services.scale_plan_create(
            by=request.user,
            region=data["region"],
            year=data["year"],
            industry=data["industry"],
            scale=data["scale"],
            source_document=data["source_document"],
        ),
        done=lambda row: reverse("scale_plan_detail", args=[row.pk]),
        cancel_url=reverse("scale_plan_list"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def scale_plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.scale_plan_get(user=request.user, pk=pk)
    require_permission(request.user, "industries.change_scaleplan")
    initial = edit_initial(plan, ["year", "industry", "scale", "source_document"])
    form = ScalePlanForm(request.POST or None, user=request.user, editing=True, initial=initial)
    return register_form(
        request,
        tab="plans",
        form=form,
        title=f"修改计划规模 · {_plan_title(plan)}",
        save=lambda data: services.scale_plan_update(
            by=request.user,
            plan=plan,
            expected_version=data["version"],
            year=data["year"],
            industry=data["industry"],
            scale=data["scale"],
            source_document=data["source_document"],
        ),
        done=lambda row: reverse("scale_plan_detail", args=[row.pk]),
        cancel_url=reverse("scale_plan_detail", args=[pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def scale_plan_delete(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.scale_plan_get(user=request.user, pk=pk)
    require_permission(request.user, "industries.delete_scaleplan")
    return register_delete(
        request,
        tab="plans",
        row=plan,
        title=f"计划规模 · {_plan_title(plan)}",
        delete=lambda version: services.scale_plan_delete(by=request.user, plan=plan, expected_version=version),
        done_url=reverse("scale_plan_list"),
        cancel_url=reverse("scale_plan_detail", args=[pk]),
    )


# 实际规模 ---------------------------------------------------------------------------------------


def _report_title(report: ScaleReport) -> str:
    return f"{report.village.name} {report.year}年 {report.industry.name}"


@login_required
def scale_report_list(request: HttpRequest) -> HttpResponse:
    return register_list(
        request,
        tab="reports",
        filterset_class=filters.ScaleReportFilter,
        rows=selectors.scale_report_list(user=request.user),
        template="industries/scale_report_list.html",
        can_add=request.user.has_perm("industries.add_scalereport"),
    )


@login_required
def scale_report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = selectors.scale_report_get(user=request.user, pk=pk)
    fields = [
        ("村", report.village.full_name()),
        ("年度", f"{report.year}年"),
        ("产业", report.industry.name),
        ("实际规模", _scale_text(report)),
    ]
    user = request.user
    urls = {
        "edit_url": reverse("scale_report_edit", args=[pk]) if user.has_perm("industries.change_scalereport") else "",
        "delete_url": reverse("scale_report_delete", args=[pk])
        if user.has_perm("industries.delete_scalereport")
        else "",
    }
    return register_detail(
        request, tab="reports", row=report, title=f"实际规模 · {_report_title(report)}", fields=fields, urls=urls
    )


@login_required
@permission_required("industries.add_scalereport", raise_exception=True)
@require_http_methods(["GET", "POST"])
def scale_report_create(request: HttpRequest) -> HttpResponse:
    form = ScaleReportForm(request.POST or None, user=request.user, initial=request.GET.dict())
    return register_form(
        request,
        tab="reports",
        form=form,
        title="填报实际规模",
        save=lambda data: services.scale_report_create(
            by=request.user, village=data["village"], year=data["year"], industry=data["industry"], scale=data["scale"]
        ),
        done=lambda row: reverse("scale_report_detail", args=[row.pk]),
        cancel_url=reverse("scale_report_list"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def scale_report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    report = selectors.scale_report_get(user=request.user, pk=pk)
    require_permission(request.user, "industries.change_scalereport")
    initial = edit_initial(report, ["year", "industry", "scale"])
    form = ScaleReportForm(request.POST or None, user=request.user, editing=True, initial=initial)
    return register_form(
        request,
        tab="reports",
        form=form,
        title=f"修改实际规模 · {_report_title(report)}",
        save=lambda data: services.scale_report_update(
            by=request.user,
            report=report,
            expected_version=data["version"],
            year=data["year"],
            industry=data["industry"],
            scale=data["scale"],
        ),
        done=lambda row: reverse("scale_report_detail", args=[row.pk]),
        cancel_url=reverse("scale_report_detail", args=[pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def scale_report_delete(request: HttpRequest, pk: int) -> HttpResponse:
    report = selectors.scale_report_get(user=request.user, pk=pk)
    require_permission(request.user, "industries.delete_scalereport")
    return register_delete(
        request,
        tab="reports",
        row=report,
        title=f"实际规模 · {_report_title(report)}",
        delete=lambda version: services.scale_report_delete(by=request.user, report=report, expected_version=version),
        done_url=reverse("scale_report_list"),
        cancel_url=reverse("scale_report_detail", args=[pk]),
    )


# 计划与实际规模 ---------------------------------------------------------------------------------


def _int_param(request: HttpRequest, name: str) -> int | None:
    text = request.GET.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise Http404("参数不正确")
    return int(text)


@login_required
def scale_rollup(request: HttpRequest) -> HttpResponse:
    """Planned against actual for a region and its children; ?region= drills down, ?year= picks the year."""
    region = selectors.rollup_region_get(user=request.user, pk=_int_param(request, "region"))
    data_years = selectors.rollup_years(region=region)
    this_year = timezone.localdate().year
    year = _int_param(request, "year") or (data_years[0] if data_years else this_year)
    if not 2013 <= year <= 2100:
        raise Http404("年度不正确")
    return render(
        request,
        "industries/scale_rollup.html",
        {
            "tab": "rollup",
            "rollup": selectors.scale_rollup(region=region, year=year),
            "years": sorted({year, this_year, *data_years}, reverse=True),
            "breadcrumbs": selectors.rollup_breadcrumbs(user=request.user, region=region),
        },
    )
