"""Pages of 项目资产: what projects formed, who owns it and who looks after it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from funds import filters, services
from funds.forms import AssetForm
from funds.models import Asset
from funds.selectors import registers
from funds.views.common import (
    register_delete,
    register_detail,
    register_form,
    register_list,
    require_permission,
)


def _describe(asset: Asset) -> str:
    return f"{asset.project.code} {asset.name}"


def _asset_fields(form: AssetForm, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": data["kind"],
        "name": data["name"],
        "value": data["value"],
        "owner_village": data["owner_village"],
        "owner_household": form.household,
        "custodian": data["custodian"],
    }


@login_required
@require_safe
def asset_list(request: HttpRequest) -> HttpResponse:
    return register_list(
        request,
        tab="assets",
        filterset_class=filters.AssetFilter,
        rows=registers.asset_list(user=request.user),
        template="funds/asset_list.html",
        sums="value",
    )


@login_required
@require_safe
def asset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    asset = registers.asset_get(user=request.user, pk=pk)
    user = request.user
    return register_detail(
        request,
        tab="assets",
        row=asset,
        title=f"项目资产 · {_describe(asset)}",
        template="funds/asset_detail.html",
        context={
            "asset": asset,
            "edit_url": reverse("asset_edit", args=[pk]) if user.has_perm("funds.change_asset") else "",
            "delete_url": reverse("asset_delete", args=[pk]) if user.has_perm("funds.delete_asset") else "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def asset_create(request: HttpRequest, pk: int) -> HttpResponse:
    project = registers.project_get(user=request.user, pk=pk)
    require_permission(request.user, "funds.add_asset")
    form = AssetForm(request.POST or None, user=request.user, initial={"unit": "yuan"})
    return register_form(
        request,
        tab="assets",
        form=form,
        title=f"登记项目资产 · {project.code} {project.name}",
        save=lambda data: services.asset_create(by=request.user, project=project, **_asset_fields(form, data)),
        done=lambda row: reverse("project_detail", args=[project.pk]) + "#assets",
        cancel_url=reverse("project_detail", args=[project.pk]) + "#assets",
    )


@login_required
@require_http_methods(["GET", "POST"])
def asset_edit(request: HttpRequest, pk: int) -> HttpResponse:
    asset = registers.asset_get(user=request.user, pk=pk)
    require_permission(request.user, "funds.change_asset")
    initial = {
        "version": asset.version,
        "kind": asset.kind,
        "name": asset.name,
        "owner_village": asset.owner_village_id,
        "owner_household": asset.owner_household.number if asset.owner_household else "",
        "custodian": asset.custodian,
        **AssetForm.initial_amounts(asset, "yuan"),
    }
    form = AssetForm(request.POST or None, user=request.user, editing=True, initial=initial)
    return register_form(
        request,
        tab="assets",
        form=form,
        title=f"修改项目资产 · {_describe(asset)}",
        save=lambda data: services.asset_update(
            by=request.user, asset=asset, expected_version=data["version"], **_asset_fields(form, data)
        ),
        done=lambda row: reverse("asset_detail", args=[pk]),
        cancel_url=reverse("asset_detail", args=[pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def asset_delete(request: HttpRequest, pk: int) -> HttpResponse:
    asset = registers.asset_get(user=request.user, pk=pk)
    require_permission(request.user, "funds.delete_asset")
    return register_delete(
        request,
        tab="assets",
        row=asset,
        title=f"项目资产 · {_describe(asset)}",
        delete=lambda version: services.asset_delete(by=request.user, asset=asset, expected_version=version),
        done_url=reverse("project_detail", args=[asset.project_id]) + "#assets",
        cancel_url=reverse("asset_detail", args=[pk]),
    )
