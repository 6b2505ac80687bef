"""企业绑定合作社: the list of bindings and their forms."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cooperatives import selectors, services
from cooperatives.filters import BindingFilter
from cooperatives.forms import BindingEndForm, BindingForm
from cooperatives.views.common import apply_errors, paginate


@login_required
def binding_list(request: HttpRequest) -> HttpResponse:
    filters = BindingFilter(request.GET or None, queryset=selectors.binding_list(user=request.user), user=request.user)
    page, query = paginate(request, filters.qs)
    active = {binding.pk for binding in page.object_list if binding.is_active_on(date.today())}
    return render(
        request,
        "cooperatives/binding_list.html",
        {
            "filters": filters,
            "page": page,
            "query": query,
            "active": active,
            "can_add": request.user.has_perm("cooperatives.add_binding"),
            "can_change": request.user.has_perm("cooperatives.change_binding"),
        },
    )


def _pick(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


@login_required
@permission_required("cooperatives.add_binding", raise_exception=True)
@require_http_methods(["GET", "POST"])
def binding_create(request: HttpRequest) -> HttpResponse:
    """Bind a cooperative the user manages to an enterprise; either may be chosen by the link."""
    initial = {
        "enterprise": _pick(request, "enterprise"),
        "cooperative": _pick(request, "cooperative"),
        "started_on": date.today(),
    }
    form = BindingForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            binding = services.binding_register(
                by=request.user, binding=form.save(commit=False), linkage_types=form.cleaned_data["linkage_types"]
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"已登记绑定：{binding.enterprise.name} — {binding.cooperative.name}")
            return redirect("entity_detail", pk=binding.cooperative_id)
    return render(request, "cooperatives/binding_form.html", {"form": form, "creating": True})


@login_required
@permission_required("cooperatives.change_binding", raise_exception=True)
@require_http_methods(["GET", "POST"])
def binding_edit(request: HttpRequest, pk: int) -> HttpResponse:
    binding = selectors.binding_get(user=request.user, pk=pk)
    form = BindingForm(request.POST or None, instance=binding, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.binding_update(
                by=request.user,
                binding=form.save(commit=False),
                linkage_types=form.cleaned_data["linkage_types"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "已保存")
            return redirect("entity_detail", pk=binding.cooperative_id)
    return render(
        request,
        "cooperatives/binding_form.html",
        {
            "form": form,
            "binding": binding,
            "creating": False,
            "end_form": BindingEndForm(initial={"version": binding.version, "ended_on": date.today()})
            if binding.ended_on is None
            else None,
            "history": selectors.binding_history(user=request.user, binding=binding),
        },
    )


@login_required
@permission_required("cooperatives.change_binding", raise_exception=True)
@require_http_methods(["POST"])
def binding_end(request: HttpRequest, pk: int) -> HttpResponse:
    binding = selectors.binding_get(user=request.user, pk=pk)
    form = BindingEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(str(m) for errors in form.errors.values() for m in errors))
        return redirect("binding_edit", pk=binding.pk)
    try:
        services.binding_end(
            by=request.user,
            binding=binding,
            ended_on=form.cleaned_data["ended_on"],
            expected_version=form.cleaned_data["version"],
        )
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
        return redirect("binding_edit", pk=binding.pk)
    messages.success(request, f"已结束绑定：{binding.enterprise.name} — {binding.cooperative.name}")
    return redirect("entity_detail", pk=binding.cooperative_id)
