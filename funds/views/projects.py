"""Pages of the 项目库: the library list, a project's page (its lifecycle, households, 双绑 entities,
funding lines, payments and assets), its forms, and the buttons that move it on or send it back."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from funds import filters, services
from funds.forms import BeneficiaryAddForm, ProjectForm, SendBackForm, StepForm
from funds.models import LIFECYCLE, Allocation, Project, ProjectStatus
from funds.selectors import registers
from funds.views.common import (
    post_action,
    register_detail,
    register_form,
    register_list,
    require_permission,
)
from households.models import Household
from industries.forms import DeleteForm


def _describe(project: Project) -> str:
    return f"{project.code} {project.name}"


def _url(project: Project, anchor: str = "") -> str:
    return reverse("project_detail", args=[project.pk]) + (f"#{anchor}" if anchor else "")


@login_required
@require_safe
def project_list(request: HttpRequest) -> HttpResponse:
    return register_list(
        request,
        tab="projects",
        filterset_class=filters.ProjectFilter,
        rows=registers.project_list(user=request.user),
        template="funds/project_list.html",
        sums="funded",
        extra={"can_add": request.user.has_perm("funds.add_project"), "sum_label": "已安排"},
    )


def _lifecycle(project: Project) -> list[dict[str, Any]]:
    index = LIFECYCLE.index(project.status)
    return [
        {"label": ProjectStatus(status).label, "done": position < index, "current": position == index}
        for position, status in enumerate(LIFECYCLE)
    ]


@login_required
@require_safe
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = registers.project_get(user=request.user, pk=pk)
    user = request.user
    index = LIFECYCLE.index(project.status)
    fundings = list(registers.project_fundings(project=project))
    visible_allocations = set(
        Allocation.objects.visible_to(user)
        .filter(pk__in=[line.allocation_id for line in fundings])
        .values_list("pk", flat=True)
    )
    households, hidden = registers.project_beneficiaries(user=user, project=project)
    can_change = user.has_perm("funds.change_project")
    context: dict[str, Any] = {
        "project": project,
        "lifecycle": _lifecycle(project),
        "next_status": ProjectStatus(LIFECYCLE[index + 1]).label if index + 1 < len(LIFECYCLE) else None,
        "previous_status": ProjectStatus(LIFECYCLE[index - 1]).label if index > 0 else None,
        "step_form": StepForm(initial={"version": project.version}),
        "send_back_form": SendBackForm(initial={"version": project.version}),
        "entities": list(project.supported_entities.order_by("kind", "name")),
        "households": households,
        "hidden_households": hidden,
        "fundings": fundings,
        "visible_allocations": visible_allocations,
        "payments": list(registers.project_payments(project=project)),
        "assets": list(registers.project_assets(project=project)),
        "steps": list(registers.project_steps(project=project)),
        "can_change": can_change,
        "can_fund": user.has_perm("funds.add_funding") and project.in_library,
        "can_change_funding": user.has_perm("funds.change_funding"),
        "can_delete_funding": user.has_perm("funds.delete_funding"),
        "can_pay": user.has_perm("funds.add_payment"),
        "can_add_asset": user.has_perm("funds.add_asset"),
        "today": timezone.localdate(),
    }
    return register_detail(
        request,
        tab="projects",
        row=project,
        title=_describe(project),
        template="funds/project_detail.html",
        context=context,
    )


def _project_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": data["code"],
        "name": data["name"],
        "year": data["year"],
        "region": data["region"],
        "project_type": data["project_type"],
        "linkage_mechanism": data["linkage_mechanism"],
        "supported_entities": list(data["supported_entities"]),
    }


@login_required
@permission_required("funds.add_project", raise_exception=True)
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None, user=request.user)
    return register_form(
        request,
        tab="projects",
        form=form,
        title="新增项目（储备）",
        save=lambda data: services.project_create(by=request.user, **_project_fields(data)),
        done=lambda row: _url(row, "beneficiaries"),
        cancel_url=reverse("project_list"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = registers.project_get(user=request.user, pk=pk)
    require_permission(request.user, "funds.change_project")
    initial = {
        "version": project.version,
        "code": project.code,
        "name": project.name,
        "year": project.year,
        "region": project.region_id,
        "project_type": project.project_type_id,
        "linkage_mechanism": project.linkage_mechanism,
        "supported_entities": list(project.supported_entities.values_list("pk", flat=True)),
    }
    form = ProjectForm(request.POST or None, user=request.user, editing=True, initial=initial)
    return register_form(
        request,
        tab="projects",
        form=form,
        title=f"修改项目 · {_describe(project)}",
        save=lambda data: services.project_update(
            by=request.user, project=project, expected_version=data["version"], **_project_fields(data)
        ),
        done=lambda row: _url(row),
        cancel_url=_url(project),
    )


@login_required
@require_POST
def project_advance(request: HttpRequest, pk: int) -> HttpResponse:
    project = registers.project_get(user=request.user, pk=pk)
    require_permission(request.user, "funds.change_project")
    index = LIFECYCLE.index(project.status)
    target = ProjectStatus(LIFECYCLE[min(index + 1, len(LIFECYCLE) - 1)]).label
    return post_action(
        request,
        form=StepForm(request.POST),
        act=lambda data: services.project_advance(
            by=request.user, project=project, expected_version=data["version"], on=data["on"]
        ),
        done_url=_url(project, "lifecycle"),
        success=f"项目已进入“{target}”",
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_send_back(request: HttpRequest, pk: int) -> HttpResponse:
    project = registers.project_get(user=request.user, pk=pk)
    require_permission(request.user, "funds.change_project")
    form = SendBackForm(request.POST or None, initial={"version": project.version})
    index = LIFECYCLE.index(project.status)
    target = ProjectStatus(LIFECYCLE[max(index - 1, 0)]).label
    return register_form(
        request,
        tab="projects",
        form=form,
        title=f"退回至“{target}” · {_describe(project)}",
        save=lambda data: services.project_send_back(
            by=request.user, project=project, expected_version=data["version"], on=data["on"], reason=data["reason"]
        ),
        done=lambda row: _url(project, "lifecycle"),
        cancel_url=_url(project, "lifecycle"),
        saved="已退回",
    )


@login_required
@require_http_methods(["GET", "POST"])
def beneficiaries_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = registers.project_get(user=request.user, pk=pk)
    require_permission(request.user, "funds.change_project")
    form = BeneficiaryAddForm(request.POST or None, user=request.user, initial={"version": project.version})

    def save(data: dict[str, Any]) -> int:
        added = services.project_beneficiaries_add(
            by=request.user, project=project, expected_version=data["version"], households=form.found
        )
        already = len(form.found) - added
        messages.info(
            request, f"新增受益农户 {added} 户" + (f"，另有 {already} 户原已是本项目受益农户" if already else "")
        )
        return added

    return register_form(
        request,
        tab="projects",
        form=form,
        title=f"添加受益农户 · {_describe(project)}",
        save=save,
        done=lambda added: _url(project, "beneficiaries"),
        cancel_url=_url(project, "beneficiaries"),
    )


@login_required
@require_POST
def beneficiary_remove(request: HttpRequest, pk: int, household_pk: int) -> HttpResponse:
    project = registers.project_get(user=request.user, pk=pk)
    household = get_object_or_404(Household.objects.visible_to(request.user), pk=household_pk)
    require_permission(request.user, "funds.change_project")
    if not project.beneficiaries.filter(pk=household.pk).exists():
        return redirect(_url(project, "beneficiaries"))
    return post_action(
        request,
        form=DeleteForm(request.POST),
        act=lambda data: services.project_beneficiary_remove(
            by=request.user, project=project, expected_version=data["version"], household=household
        ),
        done_url=_url(project, "beneficiaries"),
        success="已移除受益农户",
    )
