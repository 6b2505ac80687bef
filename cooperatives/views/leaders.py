"""致富带头人: the list and the forms."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cooperatives import selectors, services
from cooperatives.filters import RichLeaderFilter
from cooperatives.forms import RichLeaderForm
from cooperatives.views.common import apply_errors, paginate


@login_required
def rich_leader_list(request: HttpRequest) -> HttpResponse:
    filters = RichLeaderFilter(
        request.GET or None, queryset=selectors.rich_leader_list(user=request.user), user=request.user
    )
    page, query = paginate(request, filters.qs)
    return render(
        request,
        "cooperatives/rich_leader_list.html",
        {
            "filters": filters,
            "page": page,
            "query": query,
            "can_add": request.user.has_perm("cooperatives.add_richleader"),
            "can_change": request.user.has_perm("cooperatives.change_richleader"),
        },
    )


@login_required
@permission_required("cooperatives.add_richleader", raise_exception=True)
@require_http_methods(["GET", "POST"])
def rich_leader_create(request: HttpRequest) -> HttpResponse:
    form = RichLeaderForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            leader = services.rich_leader_register(by=request.user, leader=form.leader())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"已登记致富带头人“{leader.name}”")
            return redirect("rich_leader_list")
    return render(request, "cooperatives/rich_leader_form.html", {"form": form, "creating": True})


@login_required
@permission_required("cooperatives.change_richleader", raise_exception=True)
@require_http_methods(["GET", "POST"])
def rich_leader_edit(request: HttpRequest, pk: int) -> HttpResponse:
    leader = selectors.rich_leader_get(user=request.user, pk=pk)
    form = RichLeaderForm(request.POST or None, instance=leader, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.rich_leader_update(
                by=request.user, leader=form.leader(), expected_version=form.cleaned_data["version"]
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "已保存")
            return redirect("rich_leader_list")
    return render(
        request,
        "cooperatives/rich_leader_form.html",
        {
            "form": form,
            "leader": leader,
            "creating": False,
            "history": selectors.rich_leader_history(user=request.user, leader=leader),
        },
    )
