"""Market entities: the list, the enterprise and cooperative pages, the forms."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cooperatives import selectors, services
from cooperatives.filters import EntityFilter
from cooperatives.forms import EntityCancelForm, EntityForm, MembershipAddForm
from cooperatives.models import Entity, EntityKind
from cooperatives.views.common import apply_errors, paginate


@login_required
def entity_list(request: HttpRequest) -> HttpResponse:
    filters = EntityFilter(request.GET or None, queryset=selectors.entity_list(user=request.user), user=request.user)
    page, query = paginate(request, filters.qs)
    return render(
        request,
        "cooperatives/entity_list.html",
        {
            "filters": filters,
            "page": page,
            "query": query,
            "kinds": EntityKind.choices,
            "can_add": request.user.has_perm("cooperatives.add_entity"),
        },
    )


@login_required
def entity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The enterprise page, the cooperative page, or a family farm's page, by the entity's kind."""
    entity = selectors.entity_get(user=request.user, pk=pk)
    today = date.today()
    managed = Entity.objects.managed_by(request.user).filter(pk=pk).exists()
    context = {
        "entity": entity,
        "today": today,
        "industries": list(entity.industries.all()),
        "history": selectors.entity_history(user=request.user, entity=entity),
        "can_change": managed and request.user.has_perm("cooperatives.change_entity") and entity.status == "active",
    }
    if entity.kind == EntityKind.ENTERPRISE:
        enterprise = selectors.enterprise_page(user=request.user, enterprise=entity, today=today)
        page, query = paginate(request, enterprise.memberships)
        context.update(
            enterprise=enterprise,
            page=page,
            query=query,
            can_bind=request.user.has_perm("cooperatives.add_binding") and entity.is_active_on(today),
        )
        return render(request, "cooperatives/enterprise_detail.html", context)
    if entity.kind == EntityKind.COOPERATIVE:
        cooperative = selectors.cooperative_page(user=request.user, cooperative=entity, today=today)
        page, query = paginate(request, cooperative.memberships)
        can_add_members = request.user.has_perm("cooperatives.add_membership") and entity.is_active_on(today)
        context.update(
            cooperative=cooperative,
            page=page,
            query=query,
            can_bind=managed and request.user.has_perm("cooperatives.add_binding") and entity.is_active_on(today),
            can_change_bindings=managed and request.user.has_perm("cooperatives.change_binding"),
            can_add_members=can_add_members,
            can_change_members=request.user.has_perm("cooperatives.change_membership"),
            member_form=MembershipAddForm(user=request.user) if can_add_members else None,
        )
        return render(request, "cooperatives/cooperative_detail.html", context)
    return render(request, "cooperatives/entity_detail.html", context)


@login_required
@permission_required("cooperatives.add_entity", raise_exception=True)
@require_http_methods(["GET", "POST"])
def entity_create(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    initial = {"kind": kind} if kind in EntityKind.values else {}
    form = EntityForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            entity = services.entity_register(
                by=request.user, entity=form.save(commit=False), industries=form.cleaned_data["industries"]
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"已登记{entity.get_kind_display()}“{entity.name}”")
            return redirect("entity_detail", pk=entity.pk)
    return render(request, "cooperatives/entity_form.html", {"form": form, "creating": True})


@login_required
@permission_required("cooperatives.change_entity", raise_exception=True)
@require_http_methods(["GET", "POST"])
def entity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entity = selectors.entity_managed_get(user=request.user, pk=pk)
    form = EntityForm(request.POST or None, instance=entity, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.entity_update(
                by=request.user,
                entity=form.save(commit=False),
                industries=form.cleaned_data["industries"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "已保存")
            return redirect("entity_detail", pk=entity.pk)
    return render(request, "cooperatives/entity_form.html", {"form": form, "entity": entity, "creating": False})


@login_required
@permission_required("cooperatives.change_entity", raise_exception=True)
@require_http_methods(["GET", "POST"])
def entity_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    entity = selectors.entity_managed_get(user=request.user, pk=pk)
    form = EntityCancelForm(request.POST or None, initial={"version": entity.version, "cancelled_on": date.today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.entity_cancel(
                by=request.user,
                entity=entity,
                cancelled_on=form.cleaned_data["cancelled_on"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"“{entity.name}”已注销")
            return redirect("entity_detail", pk=entity.pk)
    return render(request, "cooperatives/entity_cancel.html", {"form": form, "entity": entity})
